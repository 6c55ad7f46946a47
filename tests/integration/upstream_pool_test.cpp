// The upstream side: keep-alive reuse, pods closing pooled connections, balancing across
// endpoints, refusing endpoints.
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "proxy_fixture.hpp"
#include "support/refused_port.hpp"
#include "support/unaccepting_listener.hpp"
#include "support/wait_until.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;

class upstream_pool : public proxy_fixture {};

TEST_F(upstream_pool, sequential_requests_reuse_one_upstream_connection) {
  start_proxy();
  {
    auto client = connect();
    for (int i = 0; i < 10; ++i) {
      ASSERT_FALSE(client->send(post(k_host, "same connection")));
      const auto r = client->read_response();
      ASSERT_TRUE(r) << i;
      ASSERT_EQ(r->status, 200u) << i;
    }
  }
  for (int i = 0; i < 10; ++i) {
    const auto r = round_trip(post(k_host, "new client connection"));
    ASSERT_TRUE(r) << i;
    ASSERT_EQ(r->status, 200u) << i;
  }
  EXPECT_EQ(pod_.request_count(), 20u);
  EXPECT_EQ(pod_.connections_with_requests(), 1u);
}

TEST_F(upstream_pool, pod_answering_connection_close_causes_no_502) {
  pod_reply reply = pod_reply::text("bye");
  reply.connection_close = true;
  pod_.reply_with(reply);
  start_proxy();
  auto client = connect();
  for (int i = 0; i < 5; ++i) {
    ASSERT_FALSE(client->send(post(k_host, "hi")));
    const auto r = client->read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200u) << i << " " << r->body;
    EXPECT_EQ(r->body, "bye");
  }
  EXPECT_EQ(pod_.request_count(), 5u);
  EXPECT_EQ(pod_.connections_with_requests(), 5u);
}

TEST_F(upstream_pool, pooled_connection_closed_by_the_pod_is_not_reused) {
  // The pod answers as if keeping the connection, then closes it while it idles in the pool.
  pod_reply reply = pod_reply::text("bye");
  reply.close_after = true;
  pod_.reply_with(reply);
  start_proxy();
  for (std::size_t i = 1; i <= 3; ++i) {
    const auto r = round_trip(post(k_host, "hi"));
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200u) << i << " " << r->body;
    // Only send the next request once the pooled connection is really gone.
    ASSERT_EQ(pod_.request_count(), i);
    const auto used = pod_.requests().back().connection;
    ASSERT_TRUE(wait_until([&] { return pod_.connection_closed(used); }, k_cap));
  }
  EXPECT_EQ(pod_.request_count(), 3u);
  EXPECT_EQ(pod_.connections_with_requests(), 3u);
}

TEST_F(upstream_pool, concurrent_requests_spread_over_both_endpoints) {
  fake_pod a("pod-a"), b("pod-b");
  auto hold = std::make_shared<gate>();
  for (auto* pod : {&a, &b}) {
    pod_reply reply = pod_reply::text(pod->name());
    reply.hold = hold;
    pod->reply_with(reply);
  }
  start_proxy(config(json::array({app("acme-corp", "greeter", {a.endpoint(), b.endpoint()})})));
  // The proxy checks that static endpoints listen before sending them traffic; requests
  // that come before B is known to listen rightly all go to A.
  ASSERT_TRUE(wait_until(
      [&] {
        std::size_t ready = 0;
        for (const auto& line : proxy().lines()) ready += line.find("\"event\":\"pod_ready\"") != std::string::npos;
        return ready == 2;
      },
      k_cap))
      << "the proxy never saw both endpoints listen\n"
      << proxy().output();

  constexpr int n = 4;
  std::vector<std::unique_ptr<raw_client>> clients;
  for (int i = 0; i < n; ++i) {
    clients.push_back(connect());
    ASSERT_FALSE(clients.back()->send(post(k_host, "slow")));
  }
  // All four are in flight at once: each pod holds what it got.
  ASSERT_TRUE(wait_until([&] { return a.request_count() + b.request_count() == n; }, k_cap))
      << "a " << a.request_count() << " b " << b.request_count();
  EXPECT_GE(a.request_count(), 1u);
  EXPECT_GE(b.request_count(), 1u);
  hold->open();
  for (auto& c : clients) {
    const auto r = c->read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200u);
  }
}

TEST_F(upstream_pool, refusing_endpoint_is_skipped) {
  const auto dead = "127.0.0.1:" + std::to_string(refused_port());
  start_proxy(config(json::array({app("acme-corp", "greeter", {dead, pod_.endpoint()})}),
                     {{"upstream_connect_timeout_ms", 200}}));
  for (int i = 0; i < 6; ++i) {
    const auto r = round_trip(post(k_host, "hi"));
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200u) << i << " " << r->body;
  }
  EXPECT_EQ(pod_.request_count(), 6u);
}

TEST_F(upstream_pool, endpoint_whose_connects_hang_is_given_up_after_connect_timeout) {
  unaccepting_listener silent;
  // Without a bound on each connect attempt, a request tried on `silent` would wait for
  // the whole cold start timeout and end in a 504.
  start_proxy(config(json::array({app("acme-corp", "greeter", {silent.endpoint(), pod_.endpoint()})}),
                     {{"upstream_connect_timeout_ms", 100}, {"cold_start_timeout_ms", 4000}}));
  for (int i = 0; i < 4; ++i) {
    const auto r = round_trip(post(k_host, "hi"));
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200u) << i << " " << r->body;
  }
  EXPECT_EQ(pod_.request_count(), 4u);
}

}  // namespace
}  // namespace ignite::test
