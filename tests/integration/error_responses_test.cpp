// The proxy's own error answers (DESIGN.md, the error table under "What reaches the
// client"): framing 400s, 404s, 405, 408, 413, 431, their JSON shape, and the check order.
#include <cctype>
#include <string>

#include <gtest/gtest.h>

#include "proxy_fixture.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;

const std::string h = std::string(k_host);

class error_responses : public proxy_fixture {};

// After 400/408/413/431 the proxy closes the connection without sending anything more.
void expect_closed_after(raw_client& client) {
  const auto end = client.read_until_closed();
  EXPECT_TRUE(end.closed()) << "connection still open after the error: " << end.ec.message();
  EXPECT_EQ(end.data, "");
}

struct bad_request_case {
  std::string name;
  std::string raw;
};

void PrintTo(const bad_request_case& c, std::ostream* os) { *os << c.name; }

class bad_request_test : public proxy_fixture, public ::testing::WithParamInterface<bad_request_case> {};

TEST_P(bad_request_test, answered_400_then_closed_and_never_forwarded) {
  start_proxy();
  auto client = connect();
  ASSERT_FALSE(client->send(GetParam().raw));
  expect_proxy_error(client->read_response(), 400, "bad_request");
  expect_closed_after(*client);
  EXPECT_EQ(pod_.request_count(), 0u);
}

// Bodies are left out where the headers alone are bad: the proxy rejects at the header,
// and unread body bytes would only turn its close into a reset.
INSTANTIATE_TEST_SUITE_P(
    framing, bad_request_test,
    ::testing::Values(
        bad_request_case{
            "content_length_then_transfer_encoding",
            "POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"},
        bad_request_case{
            "transfer_encoding_then_content_length",
            "POST / HTTP/1.1\r\nHost: " + h + "\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"},
        bad_request_case{"duplicate_content_length_equal",
                         "POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"},
        bad_request_case{"duplicate_content_length_different",
                         "POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"},
        bad_request_case{"content_length_list", "POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 5, 5\r\n\r\n"},
        bad_request_case{"content_length_not_a_number",
                         "POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: five\r\n\r\n"},
        bad_request_case{"transfer_encoding_gzip",
                         "POST / HTTP/1.1\r\nHost: " + h + "\r\nTransfer-Encoding: gzip\r\n\r\n"},
        bad_request_case{"transfer_encoding_gzip_chunked",
                         "POST / HTTP/1.1\r\nHost: " + h + "\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"},
        bad_request_case{
            "two_transfer_encoding_headers",
            "POST / HTTP/1.1\r\nHost: " + h + "\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"},
        bad_request_case{"obs_fold", "POST / HTTP/1.1\r\nHost: " + h +
                                         "\r\nX-Folded: first\r\n second\r\nContent-Length: 0\r\n\r\n"},
        bad_request_case{"obs_fold_tab", "POST / HTTP/1.1\r\nHost: " + h +
                                             "\r\nX-Folded: first\r\n\tsecond\r\nContent-Length: 0\r\n\r\n"},
        bad_request_case{"http10_with_transfer_encoding",
                         "POST / HTTP/1.0\r\nHost: " + h + "\r\nTransfer-Encoding: chunked\r\n\r\n"},
        bad_request_case{"missing_host", "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"},
        bad_request_case{"two_hosts",
                         "POST / HTTP/1.1\r\nHost: " + h + "\r\nHost: " + h + "\r\nContent-Length: 0\r\n\r\n"},
        bad_request_case{"malformed_request_line", "THIS IS NOT A REQUEST\r\n\r\n"}),
    [](const auto& info) { return info.param.name; });

class app_not_found_test : public proxy_fixture, public ::testing::WithParamInterface<std::string> {};

TEST_P(app_not_found_test, unknown_host_is_404_and_never_forwarded) {
  start_proxy();
  expect_proxy_error(round_trip(post(GetParam(), "hi")), 404, "app_not_found");
  EXPECT_EQ(pod_.request_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(hosts, app_not_found_test,
                         ::testing::Values("unknown-acme-corp.ignite.dodil.cloud",    // no such app
                                           "greeter-acme-corp.example.com",           // other domain
                                           "x.greeter-acme-corp.ignite.dodil.cloud",  // extra label
                                           "greeter.acme-corp.ignite.dodil.cloud",    // label split in two
                                           "greeter-acme-corp.ignite.dodil.cloud.example.com",
                                           "greeter-acme-corp.ignite.dodil.cloud..",  // two trailing dots
                                           "ignite.dodil.cloud",                      // the bare domain
                                           "acme-corp-greeter.ignite.dodil.cloud",    // org and name swapped
                                           "127.0.0.1"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

class path_not_found_test : public proxy_fixture, public ::testing::WithParamInterface<std::string> {};

TEST_P(path_not_found_test, other_path_is_404_and_never_forwarded) {
  start_proxy();
  expect_proxy_error(round_trip(post(k_host, "hi", "", GetParam())), 404, "path_not_found");
  EXPECT_EQ(pod_.request_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(paths, path_not_found_test, ::testing::Values("/foo", "/a/b?x=1", "/foo/", "//"),
                         [](const auto& info) { return "case_" + std::to_string(info.index); });

class method_not_allowed_test : public proxy_fixture, public ::testing::WithParamInterface<std::string> {};

TEST_P(method_not_allowed_test, other_method_is_405_with_allow_post) {
  start_proxy();
  const auto r = round_trip(GetParam() + " / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 0\r\n\r\n");
  expect_proxy_error(r, 405, "method_not_allowed");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->headers.get("Allow").value_or("<none>"), "POST");
  EXPECT_EQ(pod_.request_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(methods, method_not_allowed_test, ::testing::Values("GET", "PUT", "DELETE", "PATCH"));

// ---- check order: framing (400/431) -> host (404) -> method (405) -> path (404) -> body (413)

TEST_F(error_responses, unknown_host_is_checked_before_method) {
  start_proxy();
  expect_proxy_error(round_trip("GET / HTTP/1.1\r\nHost: nope-acme-corp.ignite.dodil.cloud\r\n\r\n"), 404,
                     "app_not_found");
}

TEST_F(error_responses, method_is_checked_before_path) {
  start_proxy();
  expect_proxy_error(round_trip("GET /foo HTTP/1.1\r\nHost: " + h + "\r\n\r\n"), 405, "method_not_allowed");
}

TEST_F(error_responses, path_is_checked_before_body_size) {
  start_proxy(greeter_config({{"max_body_bytes", 1024}}));
  auto client = connect();
  ASSERT_FALSE(client->send("POST /foo HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 4096\r\n\r\n"));
  expect_proxy_error(client->read_response(), 404, "path_not_found");
}

TEST_F(error_responses, oversized_headers_are_checked_before_host) {
  start_proxy(greeter_config({{"max_header_bytes", 1024}}));
  expect_proxy_error(
      round_trip(post("nope-acme-corp.ignite.dodil.cloud", "", "X-Big: " + std::string(1500, 'a') + "\r\n")), 431,
      "headers_too_large");
}

TEST_F(error_responses, bad_framing_is_checked_before_host) {
  start_proxy();
  expect_proxy_error(round_trip("POST / HTTP/1.1\r\nHost: nope-acme-corp.ignite.dodil.cloud\r\n"
                                "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"),
                     400, "bad_request");
}

// ---- 408

TEST_F(error_responses, slow_headers_get_408_then_close) {
  start_proxy(greeter_config({{"client_header_timeout_ms", 300}}));
  auto client = connect();
  ASSERT_FALSE(client->send("POST / HTTP/1.1\r\nHost: " + h + "\r\n"));  // headers never finish
  expect_proxy_error(client->read_response(), 408, "request_timeout");
  expect_closed_after(*client);
  EXPECT_EQ(pod_.request_count(), 0u);
}

TEST_F(error_responses, stalled_body_gets_408_then_close) {
  start_proxy(greeter_config({{"client_header_timeout_ms", 300}}));
  auto client = connect();
  ASSERT_FALSE(client->send("POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 10\r\n\r\nabc"));
  expect_proxy_error(client->read_response(), 408, "request_timeout");
  expect_closed_after(*client);
  EXPECT_EQ(pod_.request_count(), 0u);  // the pod never sees a complete request
}

TEST_F(error_responses, connection_that_sends_nothing_is_closed_silently) {
  start_proxy(greeter_config({{"client_header_timeout_ms", 300}}));
  auto client = connect();
  const auto end = client->read_until_closed();
  EXPECT_TRUE(end.closed()) << end.ec.message();
  EXPECT_EQ(end.data, "");
}

TEST_F(error_responses, the_400_for_a_missing_host_says_the_host_is_missing) {
  start_proxy();
  const auto r = round_trip("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  expect_proxy_error(r, 400, "bad_request");
  const auto message = json::parse(r->body)["error"]["message"].get<std::string>();
  EXPECT_NE(message.find("Host"), std::string::npos) << message;
}

// ---- 413

TEST_F(error_responses, content_length_over_limit_gets_413_at_once) {
  start_proxy(greeter_config({{"max_body_bytes", 1024}}));
  auto client = connect();
  // Only the headers: the answer must not wait for a body.
  ASSERT_FALSE(client->send("POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 1025\r\n\r\n"));
  expect_proxy_error(client->read_response(), 413, "payload_too_large");
  expect_closed_after(*client);
  EXPECT_EQ(pod_.request_count(), 0u);
}

TEST_F(error_responses, the_413_names_the_limit) {
  start_proxy(greeter_config({{"max_body_bytes", 1024}}));
  const auto r = round_trip("POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 1025\r\n\r\n");
  expect_proxy_error(r, 413, "payload_too_large");
  const auto message = json::parse(r->body)["error"]["message"].get<std::string>();
  EXPECT_NE(message.find("1024 bytes"), std::string::npos) << message;
}

TEST_F(error_responses, max_body_bytes_0_accepts_only_requests_without_a_body) {
  start_proxy(greeter_config({{"max_body_bytes", 0}}));
  const auto empty = round_trip(post(k_host, ""));
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 200u);
  expect_proxy_error(round_trip(post(k_host, "x")), 413, "payload_too_large");
  expect_proxy_error(round_trip("POST / HTTP/1.1\r\nHost: " + h + "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                     413, "payload_too_large");
}

TEST_F(error_responses, content_length_over_limit_gets_413_instead_of_100_continue) {
  start_proxy(greeter_config({{"max_body_bytes", 1024}}));
  auto client = connect();
  ASSERT_FALSE(
      client->send("POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 4096\r\nExpect: 100-continue\r\n\r\n"));
  expect_proxy_error(client->read_response(), 413, "payload_too_large");
  EXPECT_EQ(pod_.request_count(), 0u);
}

TEST_F(error_responses, chunked_body_growing_over_limit_gets_413) {
  start_proxy(greeter_config({{"max_body_bytes", 1024}}));
  auto client = connect();
  const std::string part(600, 'x');  // 0x258 bytes; two of them pass the limit
  ASSERT_FALSE(client->send("POST / HTTP/1.1\r\nHost: " + h + "\r\nTransfer-Encoding: chunked\r\n\r\n" + "258\r\n" +
                            part + "\r\n258\r\n" + part + "\r\n"));
  expect_proxy_error(client->read_response(), 413, "payload_too_large");
  expect_closed_after(*client);
  EXPECT_EQ(pod_.request_count(), 0u);
}

TEST_F(error_responses, body_of_exactly_the_limit_is_forwarded) {
  start_proxy(greeter_config({{"max_body_bytes", 1024}}));
  const auto r = round_trip(post(k_host, std::string(1024, 'x')));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  ASSERT_EQ(pod_.request_count(), 1u);
  EXPECT_EQ(pod_.requests()[0].body.size(), 1024u);
}

// ---- 431

TEST_F(error_responses, headers_over_max_header_bytes_get_431) {
  start_proxy(greeter_config({{"max_header_bytes", 1024}}));
  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, "", "X-Big: " + std::string(1100, 'a') + "\r\n")));
  expect_proxy_error(client->read_response(), 431, "headers_too_large");
  expect_closed_after(*client);
  EXPECT_EQ(pod_.request_count(), 0u);
}

std::string numbered_fields(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += "X-Field-" + std::to_string(i) + ": " + std::to_string(i) + "\r\n";
  return out;
}

TEST_F(error_responses, more_than_100_header_fields_get_431) {
  start_proxy();
  auto client = connect();
  // Host + Content-Length + 99 = 101 fields, far below max_header_bytes.
  ASSERT_FALSE(client->send(post(k_host, "", numbered_fields(99))));
  expect_proxy_error(client->read_response(), 431, "headers_too_large");
  expect_closed_after(*client);
  EXPECT_EQ(pod_.request_count(), 0u);
}

TEST_F(error_responses, exactly_100_header_fields_are_forwarded) {
  start_proxy();
  // Host + Content-Length + 98 = 100 fields.
  const auto r = round_trip(post(k_host, "", numbered_fields(98)));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(pod_.request_count(), 1u);
}

}  // namespace
}  // namespace ignite::test
