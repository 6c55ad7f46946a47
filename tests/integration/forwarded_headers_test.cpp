// What reaches the pod and what comes back (DESIGN.md, "What reaches the pod" and "What
// reaches the client"): x-ignite-* injection, hop-by-hop removal, X-Forwarded-*,
// Expect: 100-continue, de-chunking.
#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "proxy_fixture.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;

class forwarded_headers : public proxy_fixture {
 protected:
  // One POST from a fresh connection; returns the client's response and what the pod saw.
  std::pair<raw_response, recorded_request> exchange(const std::string& raw) {
    const auto r = round_trip(raw);
    EXPECT_TRUE(r) << "no response";
    EXPECT_EQ(pod_.request_count(), 1u);
    if (!r || pod_.request_count() != 1) throw std::runtime_error("exchange failed");
    return {*r, pod_.requests()[0]};
  }
};

const std::set<std::string> k_injected = {"x-ignite-app",         "x-ignite-app-id",       "x-ignite-cold-start",
                                          "x-ignite-deadline-ms", "x-ignite-execution-id", "x-ignite-org",
                                          "x-ignite-source",      "x-ignite-version"};

TEST_F(forwarded_headers, spoofed_ignite_headers_are_replaced_by_exactly_the_injected_set) {
  start_proxy(greeter_config({{"request_timeout_ms", 60000}}));
  const std::string spoofed_id = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
  const auto before = unix_ms();
  const auto [r, seen] = exchange(post(k_host, "hi",
                                       "X-Ignite-Execution-Id: " + spoofed_id +
                                           "\r\n"
                                           "x-ignite-app-id: evil-org:evil\r\n"
                                           "X-IGNITE-ORG: evil-org\r\n"
                                           "x-ignite-app: evil\r\n"
                                           "x-ignite-version: 99\r\n"
                                           "x-ignite-cold-start: true\r\n"
                                           "x-ignite-deadline-ms: 1\r\n"
                                           "x-ignite-source: invoke\r\n"
                                           "x-ignite-error: proxy\r\n"
                                           "X-Ignite-Custom: sneaky\r\n"));
  const auto after = unix_ms();
  EXPECT_EQ(r.status, 200u);

  std::multiset<std::string> names;
  for (const auto& n : seen.headers.names_with_prefix("x-ignite-")) names.insert(to_lower(n));
  EXPECT_EQ(names, std::multiset<std::string>(k_injected.begin(), k_injected.end())) << seen.headers.to_string();

  const auto id = seen.headers.get("x-ignite-execution-id").value_or("");
  EXPECT_TRUE(is_ulid(id)) << id;
  EXPECT_NE(id, spoofed_id);
  EXPECT_EQ(seen.headers.get("x-ignite-app-id").value_or(""), "acme-corp:greeter");
  EXPECT_EQ(seen.headers.get("x-ignite-org").value_or(""), "acme-corp");
  EXPECT_EQ(seen.headers.get("x-ignite-app").value_or(""), "greeter");
  EXPECT_EQ(seen.headers.get("x-ignite-version").value_or(""), "1");
  EXPECT_EQ(seen.headers.get("x-ignite-cold-start").value_or(""), "false");
  EXPECT_EQ(seen.headers.get("x-ignite-source").value_or(""), "public");
  const auto deadline = std::stoll(seen.headers.get("x-ignite-deadline-ms").value_or("0"));
  // Arrival lies between `before` and `after`; a little slack for clock granularity.
  EXPECT_GE(deadline, before + 60000 - 250);
  EXPECT_LE(deadline, after + 60000 + 250);

  // The client gets the very id the pod saw.
  EXPECT_EQ(r.headers.get_all("x-ignite-execution-id"), std::vector<std::string>{id});
  EXPECT_EQ(r.headers.get_all("x-ignite-cold-start"), std::vector<std::string>{"false"});
}

TEST_F(forwarded_headers, execution_ids_are_unique_per_request) {
  start_proxy();
  std::set<std::string> ids;
  auto client = connect();
  for (int i = 0; i < 5; ++i) {
    ASSERT_FALSE(client->send(post(k_host, "hi")));
    const auto r = client->read_response();
    ASSERT_TRUE(r);
    ids.insert(r->headers.get("x-ignite-execution-id").value_or(""));
  }
  EXPECT_EQ(ids.size(), 5u);
  ASSERT_EQ(pod_.request_count(), 5u);
  for (const auto& req : pod_.requests())
    EXPECT_EQ(ids.count(req.headers.get("x-ignite-execution-id").value_or("")), 1u);
}

TEST_F(forwarded_headers, pod_set_ignite_headers_do_not_reach_the_client) {
  pod_reply reply = pod_reply::text("hello");
  reply.headers = {{"x-ignite-error", "pretend"},
                   {"x-ignite-execution-id", "pod-made"},
                   {"x-ignite-cold-start", "true"},
                   {"X-Pod", "yes"}};
  pod_.reply_with(reply);
  start_proxy();
  const auto [r, seen] = exchange(post(k_host, "hi"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.headers.get("X-Pod").value_or(""), "yes");
  EXPECT_FALSE(r.headers.has("x-ignite-error")) << r.headers.to_string();
  EXPECT_EQ(r.headers.get_all("x-ignite-execution-id"),
            std::vector<std::string>{seen.headers.get("x-ignite-execution-id").value_or("?")});
  EXPECT_EQ(r.headers.get_all("x-ignite-cold-start"), std::vector<std::string>{"false"});
}

TEST_F(forwarded_headers, pod_gets_post_slash_with_query_original_host_and_http11) {
  start_proxy();
  const auto [r, seen] = exchange(post("Greeter-ACME-corp.ignite.dodil.cloud", "payload", "", "/?a=1&b=two"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/?a=1&b=two");
  EXPECT_EQ(seen.version, 11u);
  EXPECT_EQ(seen.headers.get_all("Host"), std::vector<std::string>{"Greeter-ACME-corp.ignite.dodil.cloud"});
  EXPECT_EQ(seen.body, "payload");
  EXPECT_EQ(seen.headers.get("Content-Length").value_or(""), "7");
}

TEST_F(forwarded_headers, hop_by_hop_request_headers_are_not_forwarded) {
  start_proxy();
  const auto [r, seen] = exchange(post(k_host, "hi",
                                       "Connection: close, X-Foo\r\n"
                                       "X-Foo: connection-scoped\r\n"
                                       "Keep-Alive: timeout=5\r\n"
                                       "TE: trailers\r\n"
                                       "Trailer: X-Checksum\r\n"
                                       "Upgrade: websocket\r\n"
                                       "Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"
                                       "Proxy-Connection: keep-alive\r\n"
                                       "X-Keep: kept\r\n"));
  EXPECT_EQ(r.status, 200u);
  for (const char* gone : {"X-Foo", "Keep-Alive", "TE", "Trailer", "Upgrade", "Proxy-Authorization", "Proxy-Connection",
                           "Transfer-Encoding", "Expect"})
    EXPECT_FALSE(seen.headers.has(gone)) << gone << " reached the pod:\n" << seen.headers.to_string();
  // The proxy may say keep-alive/close for its own upstream hop, but never relay the client's list.
  for (const auto& v : seen.headers.get_all("Connection")) EXPECT_EQ(to_lower(v).find("x-foo"), std::string::npos) << v;
  EXPECT_EQ(seen.headers.get("X-Keep").value_or(""), "kept");
}

TEST_F(forwarded_headers, hop_by_hop_response_headers_are_not_relayed) {
  pod_reply reply = pod_reply::text("hello");
  reply.headers = {{"Connection", "X-Pod-Private"},
                   {"X-Pod-Private", "connection-scoped"},
                   {"Keep-Alive", "timeout=5"},
                   {"Upgrade", "h2c"},
                   {"X-Pod-Public", "end-to-end"}};
  pod_.reply_with(reply);
  start_proxy();
  const auto [r, seen] = exchange(post(k_host, "hi"));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "hello");
  for (const char* gone : {"X-Pod-Private", "Keep-Alive", "Upgrade"})
    EXPECT_FALSE(r.headers.has(gone)) << gone << " reached the client:\n" << r.headers.to_string();
  for (const auto& v : r.headers.get_all("Connection"))
    EXPECT_EQ(to_lower(v).find("x-pod-private"), std::string::npos) << v;
  EXPECT_EQ(r.headers.get("X-Pod-Public").value_or(""), "end-to-end");
}

TEST_F(forwarded_headers, x_forwarded_for_is_appended_to_the_clients_value) {
  start_proxy();
  const auto [r, seen] = exchange(post(k_host, "hi", "X-Forwarded-For: 203.0.113.7\r\n"));
  EXPECT_EQ(seen.headers.get_all("X-Forwarded-For"), std::vector<std::string>{"203.0.113.7, 127.0.0.1"});
}

TEST_F(forwarded_headers, x_forwarded_for_is_the_peer_when_client_sent_none) {
  start_proxy();
  const auto [r, seen] = exchange(post(k_host, "hi"));
  EXPECT_EQ(seen.headers.get_all("X-Forwarded-For"), std::vector<std::string>{"127.0.0.1"});
}

TEST_F(forwarded_headers, x_forwarded_proto_and_host_are_set_not_relayed) {
  start_proxy();
  const auto [r, seen] =
      exchange(post(k_host, "hi", "X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example.com\r\n"));
  EXPECT_EQ(seen.headers.get_all("X-Forwarded-Proto"), std::vector<std::string>{"http"});
  EXPECT_EQ(seen.headers.get_all("X-Forwarded-Host"), std::vector<std::string>{std::string(k_host)});
}

TEST_F(forwarded_headers, expect_100_continue_is_answered_by_the_proxy_and_not_forwarded) {
  start_proxy();
  auto client = connect();
  ASSERT_FALSE(client->send("POST / HTTP/1.1\r\nHost: " + std::string(k_host) +
                            "\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  const auto interim = client->read_response();
  ASSERT_TRUE(interim) << client->last_error().message();
  EXPECT_EQ(interim->status, 100u);
  EXPECT_EQ(pod_.request_count(), 0u);

  ASSERT_FALSE(client->send("hello"));
  const auto r = client->read_response();
  ASSERT_TRUE(r) << client->last_error().message();
  EXPECT_EQ(r->status, 200u);
  ASSERT_EQ(pod_.request_count(), 1u);
  const auto seen = pod_.requests()[0];
  EXPECT_EQ(seen.body, "hello");
  EXPECT_FALSE(seen.headers.has("Expect")) << seen.headers.to_string();
}

TEST_F(forwarded_headers, chunked_request_body_reaches_the_pod_with_content_length) {
  start_proxy();
  const auto [r, seen] = exchange("POST / HTTP/1.1\r\nHost: " + std::string(k_host) +
                                  "\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "3\r\nhel\r\n6\r\nlo wor\r\n2\r\nld\r\n0\r\n\r\n");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(seen.body, "hello world");
  EXPECT_FALSE(seen.chunked);
  EXPECT_FALSE(seen.headers.has("Transfer-Encoding"));
  EXPECT_EQ(seen.headers.get_all("Content-Length"), std::vector<std::string>{"11"});
}

TEST_F(forwarded_headers, each_request_is_logged_with_its_execution_id) {
  start_proxy();
  const auto [r, seen] = exchange(post(k_host, "hi"));
  const auto id = r.headers.get("x-ignite-execution-id").value_or("");
  const auto line = proxy().wait_for_line(
      [&](const json& j) { return j.value("event", "") == "request" && j.value("execution_id", "") == id; }, k_cap);
  ASSERT_TRUE(line) << "no request log line for " << id;
  EXPECT_EQ(line->value("app", ""), "acme-corp:greeter");
  EXPECT_EQ(line->value("version", 0), 1);
  EXPECT_EQ(line->value("status", 0), 200);
  EXPECT_TRUE(line->contains("duration_ms") && (*line)["duration_ms"].is_number());
  EXPECT_FALSE(line->contains("error")) << line->dump();
}

}  // namespace
}  // namespace ignite::test
