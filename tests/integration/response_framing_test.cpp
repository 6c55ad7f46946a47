// How a pod's answer is framed for the client: close-delimited answers re-chunked,
// chunked answers close-delimited for HTTP/1.0, bodiless statuses, large bodies both ways.
#include <string>

#include <gtest/gtest.h>

#include "proxy_fixture.hpp"

namespace ignite::test {
namespace {

class response_framing : public proxy_fixture {};

TEST_F(response_framing, a_close_delimited_answer_is_rechunked_and_the_client_connection_kept) {
  pod_reply reply = pod_reply::of(pod_reply::action::garbage);  // raw bytes, then close
  reply.garbage = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the pod closes";
  pod_.reply_with(reply);
  start_proxy();
  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, "one")));
  const auto r = client->read_response();
  ASSERT_TRUE(r) << client->last_error().message();
  EXPECT_EQ(r->status, 200u);
  EXPECT_TRUE(r->chunked) << "no length known: the client gets it chunked";
  EXPECT_EQ(r->body, "until the pod closes");
  EXPECT_TRUE(r->keep_alive);

  // The pod's connection ended with the answer; the next request needs a new one.
  pod_.reply_with(pod_reply::text("second"));
  ASSERT_FALSE(client->send(post(k_host, "two")));
  const auto again = client->read_response();
  ASSERT_TRUE(again) << client->last_error().message();
  EXPECT_EQ(again->body, "second");
  EXPECT_EQ(pod_.connections_with_requests(), 2u);
}

TEST_F(response_framing, a_chunked_answer_reaches_an_http10_client_close_delimited) {
  pod_reply reply;
  reply.chunks = {"first-part,", "second-part"};
  pod_.reply_with(reply);
  start_proxy();
  auto client = connect();
  ASSERT_FALSE(client->send("POST / HTTP/1.0\r\nHost: " + std::string(k_host) + "\r\nContent-Length: 2\r\n\r\nhi"));
  const auto r = client->read_response();
  ASSERT_TRUE(r) << client->last_error().message();
  EXPECT_EQ(r->status, 200u);
  EXPECT_FALSE(r->chunked) << "HTTP/1.0 has no chunked coding";
  // Complete only because the proxy closed the connection: that is the framing.
  EXPECT_EQ(r->body, "first-part,second-part");
  EXPECT_FALSE(r->keep_alive);
}

TEST_F(response_framing, a_204_answer_has_no_body_and_keeps_the_connection) {
  pod_.reply_with(pod_reply::text("", 204));
  start_proxy();
  auto client = connect();
  for (int i = 0; i < 2; ++i) {
    ASSERT_FALSE(client->send(post(k_host, "x")));
    const auto r = client->read_response();
    ASSERT_TRUE(r) << i << ": " << client->last_error().message();
    EXPECT_EQ(r->status, 204u);
    EXPECT_EQ(r->body, "");
  }
  EXPECT_EQ(pod_.request_count(), 2u);
}

TEST_F(response_framing, megabyte_bodies_cross_intact_in_both_directions) {
  std::string big(1 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  pod_.set_handler([&](const recorded_request& req) { return pod_reply::text(req.body + "!"); });
  start_proxy();
  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, big)));
  const auto r = client->read_response();
  ASSERT_TRUE(r) << client->last_error().message();
  EXPECT_EQ(r->status, 200u);
  ASSERT_EQ(r->body.size(), big.size() + 1);
  EXPECT_TRUE(r->body == big + "!");
  ASSERT_EQ(pod_.request_count(), 1u);
  EXPECT_TRUE(pod_.requests()[0].body == big);
}

TEST_F(response_framing, a_body_near_the_default_max_body_bytes_is_forwarded) {
  // Beast's parser has a body limit of its own (1 MiB): only max_body_bytes may apply.
  const std::string big((6 << 20) - 1, 'x');
  pod_.set_handler([](const recorded_request& req) { return pod_reply::text(std::to_string(req.body.size())); });
  start_proxy();
  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, big)));
  const auto r = client->read_response();
  ASSERT_TRUE(r) << client->last_error().message();
  EXPECT_EQ(r->status, 200u) << r->body;
  EXPECT_EQ(r->body, std::to_string(big.size()));
}

}  // namespace
}  // namespace ignite::test
