// Where a version's requests go: the ready pod with the fewest in flight, pods that
// refused a connection skipped until they listen again, holding when nothing is ready.
// (Scaling, hold queues and cold starts: version_pool_scaling_test.cpp; the registry
// of pools across config generations: pool_registry_test.cpp.) No sockets, no
// processes: a recording provider and a manual clock.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "coldstart/clock.hpp"
#include "coldstart/pod_provider.hpp"
#include "coldstart/version_pool.hpp"
#include "pool_doubles.hpp"

namespace ignite::coldstart {
namespace {

using namespace std::chrono_literals;

using namespace ignite::coldstart::testing;

const std::vector<common::host_port> k_three = endpoints_of({"127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"});
const std::set<std::string> k_three_text = {"127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"};

pod_spec static_spec() {
  pod_spec s;
  s.app_id = "acme-corp:greeter";
  s.version = "1";
  return s;
}

class pool_test : public ::testing::Test {
 protected:
  std::shared_ptr<version_pool> make(pool_settings settings, pod_spec spec, std::vector<common::host_port> endpoints) {
    return std::make_shared<version_pool>(settings, std::move(spec), std::move(endpoints), &provider_, clock_);
  }

  // A static pool over `endpoints` whose pods all listen, in endpoint order.
  std::shared_ptr<version_pool> ready_static_pool(const std::vector<common::host_port>& endpoints,
                                                  pool_settings settings = {}) {
    auto pool = make(settings, static_spec(), endpoints);
    pool->activate();
    auto started = provider_.started();
    EXPECT_EQ(started.size(), endpoints.size());
    for (const auto& [id, spec] : started) {
      pool->on_ready(id, loopback(spec.endpoint.port));
    }
    return pool;
  }

  grant acquire(version_pool& pool) {
    grant g;
    EXPECT_EQ(pool.try_acquire(g), version_pool::acquire_result::granted);
    return g;
  }

  manual_clock clock_;
  recording_provider provider_;
};

// --- static endpoints: choosing a pod ------------------------------------------------

TEST_F(pool_test, activate_starts_one_pod_per_static_endpoint) {
  auto pool = make({}, static_spec(), k_three);
  pool->activate();
  auto started = provider_.started();
  ASSERT_EQ(started.size(), 3u);
  std::set<std::string> endpoints;
  std::set<pod_id> ids;
  for (const auto& [id, spec] : started) {
    endpoints.insert(spec.endpoint.to_string());
    ids.insert(id);
    EXPECT_EQ(spec.app_id, "acme-corp:greeter");
    EXPECT_EQ(spec.version, "1");
  }
  EXPECT_EQ(endpoints, k_three_text);
  EXPECT_EQ(ids.size(), 3u);

  // Activating again does not start them twice.
  pool->activate();
  EXPECT_EQ(provider_.started().size(), 3u);
}

TEST_F(pool_test, nothing_is_granted_before_a_pod_listens) {
  auto pool = make({}, static_spec(), k_three);
  pool->activate();
  grant g;
  EXPECT_EQ(pool->try_acquire(g), version_pool::acquire_result::must_hold);
}

TEST_F(pool_test, grant_carries_the_address_the_pod_listens_on) {
  auto pool = ready_static_pool(endpoints_of({"127.0.0.1:9001"}));
  auto g = acquire(*pool);
  EXPECT_EQ(text(g.address), "127.0.0.1:9001");
  EXPECT_EQ(g.pod, provider_.started_ids().at(0));
  EXPECT_FALSE(g.cold_start);
}

TEST_F(pool_test, picks_the_pod_with_fewest_in_flight) {
  auto pool = ready_static_pool(k_three);
  // Three requests spread over the three idle pods.
  auto a = acquire(*pool);
  auto b = acquire(*pool);
  auto c = acquire(*pool);
  EXPECT_EQ((std::set<pod_id>{a.pod, b.pod, c.pod}).size(), 3u);
  EXPECT_EQ((std::set<std::string>{text(a.address), text(b.address), text(c.address)}), k_three_text);

  // b's pod is now the only one with nothing in flight.
  pool->release(b.pod);
  EXPECT_EQ(acquire(*pool).pod, b.pod);
  pool->release(c.pod);
  EXPECT_EQ(acquire(*pool).pod, c.pod);

  auto stats = pool->stats();
  EXPECT_EQ(stats.ready, 3u);
  EXPECT_EQ(stats.pods, 3u);
}

TEST_F(pool_test, fewest_in_flight_with_uneven_load) {
  auto pool = ready_static_pool(k_three);
  std::vector<grant> grants;
  for (int i = 0; i < 9; ++i) grants.push_back(acquire(*pool));  // 3 each
  std::map<pod_id, int> load;
  for (const auto& g : grants) ++load[g.pod];
  ASSERT_EQ(load.size(), 3u);
  for (const auto& [pod, n] : load) EXPECT_EQ(n, 3) << pod;

  // Free two slots on one pod: the next two requests go there.
  const pod_id lightest = grants[0].pod;
  pool->release(lightest);
  pool->release(lightest);
  EXPECT_EQ(acquire(*pool).pod, lightest);
  EXPECT_EQ(acquire(*pool).pod, lightest);
}

TEST_F(pool_test, unreachable_pod_is_skipped_until_it_listens_again) {
  auto pool = ready_static_pool(endpoints_of({"127.0.0.1:9001", "127.0.0.1:9002"}));
  auto first = acquire(*pool);
  pool->unreachable(first.pod);  // the connect was refused: the grant is given back
  EXPECT_EQ(provider_.probed(), std::vector<pod_id>{first.pod});

  // Every request now goes to the other pod, however loaded it gets.
  for (int i = 0; i < 5; ++i) EXPECT_NE(acquire(*pool).pod, first.pod);
  EXPECT_EQ(pool->stats().ready, 1u);

  // Listening again, and idle, it is the least loaded one.
  pool->on_ready(first.pod, loopback(9001));
  auto back = acquire(*pool);
  EXPECT_EQ(back.pod, first.pod);
  EXPECT_EQ(text(back.address), "127.0.0.1:9001");
}

TEST_F(pool_test, must_hold_when_every_pod_is_unreachable) {
  auto pool = ready_static_pool(endpoints_of({"127.0.0.1:9001", "127.0.0.1:9002"}));
  auto a = acquire(*pool);
  auto b = acquire(*pool);
  ASSERT_NE(a.pod, b.pod);
  pool->unreachable(a.pod);
  pool->unreachable(b.pod);
  grant g;
  EXPECT_EQ(pool->try_acquire(g), version_pool::acquire_result::must_hold);
  EXPECT_EQ(pool->stats().ready, 0u);

  // A held request gets the first pod that listens again; static pods are never "cold".
  auto w = std::make_shared<recording_waiter>();
  refusal refused;
  EXPECT_EQ(pool->hold(w, g, refused), version_pool::acquire_result::must_hold);
  EXPECT_EQ(w->calls, 0);
  pool->on_ready(b.pod, loopback(9002));
  EXPECT_EQ(w->calls, 1);
  ASSERT_TRUE(w->got);
  EXPECT_EQ(w->got->pod, b.pod);
  EXPECT_EQ(text(w->got->address), "127.0.0.1:9002");
  EXPECT_FALSE(w->got->cold_start);
}

TEST_F(pool_test, release_of_an_unknown_pod_is_ignored) {
  auto pool = ready_static_pool(endpoints_of({"127.0.0.1:9001"}));
  pool->release(999999999);
  pool->unreachable(999999999);
  auto g = acquire(*pool);
  EXPECT_EQ(text(g.address), "127.0.0.1:9001");
}

TEST_F(pool_test, static_pods_are_not_stopped_when_idle) {
  pool_settings s;
  s.idle_timeout = 1000ms;
  auto pool = ready_static_pool(k_three, s);
  clock_.advance(10s);
  pool->tick();
  EXPECT_TRUE(provider_.stopped().empty());
  EXPECT_EQ(pool->stats().ready, 3u);
}

}  // namespace
}  // namespace ignite::coldstart
