// Reaching the API: what the CLI says when the endpoint is down, slow to close, or
// answers something that is not the API.

#include <gtest/gtest.h>

#include "cli/api_client.hpp"
#include "cli/failure.hpp"
#include "cli_fixture.hpp"
#include "support/refused_port.hpp"

namespace ignite::test {
namespace {

class api_client : public cli_fixture {};

TEST_F(api_client, an_unreachable_endpoint_exits_1_with_a_clear_message) {
  const auto port = refused_port();
  env_.variables["IGNITE_API_ENDPOINT"] = "http://127.0.0.1:" + std::to_string(port);
  auto r = run({"app", "list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "ignite: cannot connect to http://127.0.0.1:" + std::to_string(port) +
                       ": Connection refused (is the proxy running? see `ignite config get`)\n");
}

TEST_F(api_client, an_unknown_host_exits_1) {
  env_.variables["IGNITE_API_ENDPOINT"] = "http://no-such-host.invalid:9090";
  auto r = run({"app", "list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("ignite: cannot resolve no-such-host.invalid", 0), 0u) << r.err;
}

TEST_F(api_client, garbage_instead_of_http_exits_1) {
  api_.reply_with(pod_reply::of(pod_reply::action::garbage));
  auto r = run({"app", "list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "ignite: no valid answer from " + endpoint_url() + ": not an HTTP answer (bad version)\n");
}

TEST_F(api_client, a_connection_closed_without_an_answer_exits_1) {
  api_.reply_with(pod_reply::of(pod_reply::action::close));
  auto r = run({"app", "list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "ignite: no valid answer from " + endpoint_url() + ": the connection closed before a complete answer\n");
}

TEST_F(api_client, a_reset_exits_1) {
  api_.reply_with(pod_reply::of(pod_reply::action::reset));
  auto r = run({"app", "list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("ignite: no valid answer from " + endpoint_url() + ": ", 0), 0u) << r.err;
}

TEST_F(api_client, a_2xx_answer_that_is_not_json_exits_1) {
  answer(200, "<html>hello</html>");
  auto r = run({"app", "list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "ignite: the answer from " + endpoint_url() + " is not JSON (HTTP 200): <html>hello</html>\n");
}

TEST_F(api_client, json_of_an_unexpected_shape_does_not_crash) {
  for (const char* body : {"[1,2]", "42", R"({"apps":"no"})", R"({"apps":[1,null,{"id":7}]})"}) {
    answer(200, body);
    auto r = run({"app", "list"});
    EXPECT_EQ(r.code, 0) << body << ": " << r.err;
    answer(200, body);
    r = run({"app", "get", "a:b"});
    EXPECT_EQ(r.code, 0) << body << ": " << r.err;
  }
}

TEST_F(api_client, an_error_status_without_the_apis_json_is_reported) {
  answer(502, "Bad gateway\nfrom somewhere");
  auto r = run({"app", "list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "ignite: HTTP 502 Bad Gateway: Bad gateway from somewhere\n");
}

TEST_F(api_client, https_endpoints_are_refused_for_now) {
  env_.variables["IGNITE_API_ENDPOINT"] = "https://rpc.dev.dodil.io:443";
  auto r = run({"app", "list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "ignite: api_endpoint \"https://rpc.dev.dodil.io:443\" (from IGNITE_API_ENDPOINT): https endpoints are not "
            "supported yet (use http://host:port)\n");
  EXPECT_EQ(api_.request_count(), 0u);
}

TEST_F(api_client, each_request_has_its_own_connection_and_names_the_host) {
  run({"app", "list"});
  run({"app", "list"});
  EXPECT_EQ(api_.connections_with_requests(), 2u);
  auto req = api_.requests().front();
  EXPECT_EQ(req.version, 11u);
  EXPECT_EQ(req.headers.get("Host"), api_.endpoint());
  EXPECT_EQ(req.headers.get("Connection"), "close");
  EXPECT_FALSE(req.headers.has("Content-Type"));  // a GET has no body
}

TEST_F(api_client, a_timeout_is_reported) {
  // A server that never answers within the client's deadline.
  auto hold = std::make_shared<gate>();
  pod_reply reply;
  reply.hold = hold;
  api_.reply_with(reply);
  cli::api_client client(cli::endpoint{"127.0.0.1", api_.port()}, "t");
  cli::api_request request;
  request.target = "/v1/apps";
  request.timeout = std::chrono::seconds(1);
  try {
    client.send(request);
    ADD_FAILURE() << "no failure";
  } catch (const cli::failure& f) {
    EXPECT_EQ(f.exit_code(), 1);
    EXPECT_EQ(std::string(f.what()), "no valid answer from " + endpoint_url() + ": timed out");
  }
  hold->open();
}

}  // namespace
}  // namespace ignite::test
