// The client side of a connection: pipelining, HTTP/1.0, streamed answers, connection
// limits and idle timeouts.
#include <memory>
#include <system_error>

#include <gtest/gtest.h>

#include "proxy_fixture.hpp"
#include "support/wait_until.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;

class client_connection : public proxy_fixture {};

TEST_F(client_connection, pipelined_requests_are_answered_in_order) {
  pod_.set_handler([](const recorded_request& req) {
    pod_reply reply = pod_reply::text("echo:" + req.body);
    // The first answer is the slowest: answers must still come back in request order.
    if (req.body == "one") reply.delay = std::chrono::milliseconds(100);
    return reply;
  });
  start_proxy();
  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, "one") + post(k_host, "two") + post(k_host, "three")));
  for (const char* expected : {"echo:one", "echo:two", "echo:three"}) {
    const auto r = client->read_response();
    ASSERT_TRUE(r) << expected << ": " << client->last_error().message();
    EXPECT_EQ(r->status, 200u);
    EXPECT_EQ(r->body, expected);
  }
}

TEST_F(client_connection, http10_request_is_answered_then_closed) {
  start_proxy();
  auto client = connect();
  ASSERT_FALSE(client->send("POST / HTTP/1.0\r\nHost: " + std::string(k_host) + "\r\nContent-Length: 5\r\n\r\nhello"));
  const auto r = client->read_response();
  ASSERT_TRUE(r) << client->last_error().message();
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, pod_.name());
  const auto end = client->read_until_closed();
  EXPECT_TRUE(end.closed()) << end.ec.message();
  EXPECT_EQ(end.data, "");
  ASSERT_EQ(pod_.request_count(), 1u);
  EXPECT_EQ(pod_.requests()[0].body, "hello");
}

TEST_F(client_connection, chunked_answer_reaches_the_client_chunk_by_chunk) {
  auto second = std::make_shared<gate>();
  pod_reply reply;
  reply.chunks = {"first-part", "second-part"};
  reply.after_first_chunk = second;
  pod_.reply_with(reply);
  start_proxy();
  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, "hi")));
  // The pod holds the second chunk until we have seen the first.
  const auto head = client->read_until("first-part");
  ASSERT_TRUE(head) << "first chunk not relayed before the answer completed: " << client->last_error().message();
  EXPECT_NE(head->find(" 200 "), std::string::npos) << *head;
  EXPECT_EQ(client->pending().find("second-part"), std::string::npos);
  second->open();
  const auto rest = client->read_until("second-part");
  ASSERT_TRUE(rest) << client->last_error().message();
  ASSERT_TRUE(client->read_until("0\r\n\r\n")) << "answer not terminated";
}

// At max_connections a new connection takes the slot of the one idle longest (the
// overload manager; the busy case, a fast 503, is in hostile_clients_test). Two of three
// slots stay under the overload threshold (90%), so neither of the first two connections
// can be closed before it sends its request.
TEST_F(client_connection, over_max_connections_a_new_connection_takes_the_oldest_idle_slot) {
  start_proxy(greeter_config({{"max_connections", 3}}));
  auto first = connect();
  auto second = connect();
  for (auto* c : {first.get(), second.get()}) {
    ASSERT_FALSE(c->send(post(k_host, "hi")));
    const auto r = c->read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200u);
  }

  auto third = connect();
  ASSERT_FALSE(third->send(post(k_host, "third")));
  const auto r = third->read_response();
  ASSERT_TRUE(r) << third->last_error().message();
  EXPECT_EQ(r->status, 200u);
  const auto end = first->read_until_closed();
  EXPECT_TRUE(end.closed()) << end.ec.message();
  EXPECT_EQ(end.data, "") << "an idle connection is closed without an answer";
  EXPECT_EQ(pod_.request_count(), 3u);

  // Once they are gone, new connections are served as before.
  first.reset();
  second.reset();
  third.reset();
  EXPECT_TRUE(wait_until(
      [&] {
        try {
          raw_client c(port(), std::chrono::milliseconds(1000));
          if (c.send(post(k_host, "again"))) return false;
          const auto again = c.read_response();
          return again && again->status == 200;
        } catch (const std::system_error&) {
          return false;
        }
      },
      k_cap));
}

TEST_F(client_connection, idle_keep_alive_connection_is_closed_silently) {
  start_proxy(greeter_config({{"client_idle_timeout_ms", 300}}));
  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, "hi")));
  const auto r = client->read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_TRUE(r->keep_alive);
  const auto end = client->read_until_closed();
  EXPECT_TRUE(end.closed()) << end.ec.message();
  EXPECT_EQ(end.data, "") << "an idle connection is closed without a response";
}

TEST_F(client_connection, keep_alive_connection_serves_many_requests) {
  start_proxy();
  auto client = connect();
  for (int i = 0; i < 5; ++i) {
    ASSERT_FALSE(client->send(post(k_host, std::to_string(i))));
    const auto r = client->read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200u);
    EXPECT_TRUE(r->keep_alive);
  }
  EXPECT_EQ(pod_.request_count(), 5u);
}

}  // namespace
}  // namespace ignite::test
