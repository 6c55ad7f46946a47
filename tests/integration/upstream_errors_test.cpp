// 502 and 504: what the client gets when the pod misbehaves or cannot be reached.
#include <memory>

#include <gtest/gtest.h>

#include "proxy_fixture.hpp"
#include "support/refused_port.hpp"
#include "support/unaccepting_listener.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;

class upstream_errors : public proxy_fixture {};

TEST_F(upstream_errors, pod_reset_after_reading_request_is_502_and_not_retried) {
  pod_.reply_with(pod_reply::of(pod_reply::action::reset));
  start_proxy();
  expect_proxy_error(round_trip(post(k_host, "once")), 502, "upstream_error");
  // The answer comes after the proxy gave up, so any retry would already have arrived.
  EXPECT_EQ(pod_.request_count(), 1u);
  EXPECT_EQ(pod_.connections_with_requests(), 1u);
}

TEST_F(upstream_errors, pod_closing_without_answer_is_502_and_not_retried) {
  pod_.reply_with(pod_reply::of(pod_reply::action::close));
  start_proxy();
  expect_proxy_error(round_trip(post(k_host, "once")), 502, "upstream_error");
  EXPECT_EQ(pod_.request_count(), 1u);
}

TEST_F(upstream_errors, garbage_response_is_502) {
  pod_.reply_with(pod_reply::of(pod_reply::action::garbage));
  start_proxy();
  expect_proxy_error(round_trip(post(k_host, "hi")), 502, "upstream_error");
  EXPECT_EQ(pod_.request_count(), 1u);
}

TEST_F(upstream_errors, upstream_error_is_logged_with_its_code) {
  pod_.reply_with(pod_reply::of(pod_reply::action::reset));
  start_proxy();
  const auto r = round_trip(post(k_host, "hi"));
  ASSERT_TRUE(r);
  const auto id = r->headers.get("x-ignite-execution-id").value_or("");
  const auto line = proxy().wait_for_line(
      [&](const json& j) { return j.value("event", "") == "request" && j.value("execution_id", "") == id; }, k_cap);
  ASSERT_TRUE(line) << "no request log line for " << id;
  EXPECT_EQ(line->value("status", 0), 502);
  EXPECT_EQ(line->value("error", ""), "upstream_error");
  EXPECT_EQ(line->value("app", ""), "acme-corp:greeter");
  EXPECT_EQ(line->value("version", 0), 1);
}

TEST_F(upstream_errors, pod_silent_past_request_timeout_is_504_upstream_timeout) {
  auto hold = std::make_shared<gate>();
  pod_reply slow = pod_reply::text("too late");
  slow.hold = hold;
  pod_.reply_with(slow);
  start_proxy(greeter_config({{"request_timeout_ms", 300}}));
  expect_proxy_error(round_trip(post(k_host, "hi")), 504, "upstream_timeout");
  hold->open();
  EXPECT_EQ(pod_.request_count(), 1u);
}

TEST_F(upstream_errors, request_timeout_mid_body_just_closes_the_client_connection) {
  auto hold = std::make_shared<gate>();
  pod_reply stream;
  stream.chunks = {"first-part", "never-sent-in-time"};
  stream.after_first_chunk = hold;
  pod_.reply_with(stream);
  start_proxy(greeter_config({{"request_timeout_ms", 300}}));
  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, "hi")));
  ASSERT_TRUE(client->read_until("first-part")) << client->last_error().message();
  const auto end = client->read_until_closed();
  EXPECT_TRUE(end.closed()) << "connection not closed: " << end.ec.message();
  EXPECT_EQ(end.data.find("never-sent-in-time"), std::string::npos);
  EXPECT_EQ(end.data.find("0\r\n\r\n"), std::string::npos) << "the truncated body must not look complete";
  hold->open();
}

TEST_F(upstream_errors, only_endpoint_refusing_is_504_cold_start_timeout) {
  start_proxy(config(json::array({app("acme-corp", "greeter", {"127.0.0.1:" + std::to_string(refused_port())})}),
                     {{"cold_start_timeout_ms", 300}, {"upstream_connect_timeout_ms", 100}}));
  expect_proxy_error(round_trip(post(k_host, "hi")), 504, "cold_start_timeout");
}

TEST_F(upstream_errors, only_endpoint_never_accepting_is_504_cold_start_timeout) {
  unaccepting_listener silent;
  start_proxy(config(json::array({app("acme-corp", "greeter", {silent.endpoint()})}),
                     {{"cold_start_timeout_ms", 300}, {"upstream_connect_timeout_ms", 100}}));
  expect_proxy_error(round_trip(post(k_host, "hi")), 504, "cold_start_timeout");
}

}  // namespace
}  // namespace ignite::test
