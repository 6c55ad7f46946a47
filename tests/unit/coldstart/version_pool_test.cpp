// Where a version's requests go: the ready pod with the fewest in flight, pods that
// refused a connection skipped until they listen again, holding when nothing is ready;
// and the registry that keeps pools across config generations. (Scaling, hold queues
// and cold starts: version_pool_scaling_test.cpp.) No sockets, no processes: a
// recording provider and a manual clock.
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
#include "coldstart/pool_registry.hpp"
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

pod_spec command_spec() {
  pod_spec s;
  s.app_id = "acme-corp:greeter";
  s.version = "2";
  s.command = {"./server", "--quiet"};
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

// --- pool_registry --------------------------------------------------------------------

class registry_test : public ::testing::Test {
 protected:
  registry_test() : registry_(providers{&endpoints_, &commands_, nullptr}, clock_) {}

  // One generation with these (spec, endpoints) versions; returns their pools.
  std::vector<std::shared_ptr<version_pool>> generation(
      const std::vector<std::pair<pod_spec, std::vector<common::host_port>>>& versions) {
    std::vector<std::shared_ptr<version_pool>> pools;
    registry_.begin();
    for (const auto& [spec, endpoints] : versions) pools.push_back(registry_.use(spec, endpoints, {}));
    registry_.commit();
    return pools;
  }

  manual_clock clock_;
  recording_provider endpoints_;
  recording_provider commands_;
  pool_registry registry_;
};

TEST_F(registry_test, same_source_and_endpoints_keep_the_same_pool) {
  auto first = generation({{static_spec(), k_three}});
  auto second = generation({{static_spec(), k_three}});
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(first[0], second[0]);
  // The pods were started once, by the first generation.
  EXPECT_EQ(endpoints_.started().size(), 3u);
  EXPECT_TRUE(endpoints_.stopped().empty());
  EXPECT_EQ(registry_.pools().size(), 1u);
}

TEST_F(registry_test, changed_scaling_settings_keep_the_same_pool) {
  registry_.begin();
  auto first = registry_.use(command_spec(), {}, pool_settings{});
  registry_.commit();
  pool_settings s;
  s.reserved_capacity = 1;
  registry_.begin();
  auto second = registry_.use(command_spec(), {}, s);
  registry_.commit();
  EXPECT_EQ(first, second);
  // The new settings apply at once: reserved capacity is started.
  EXPECT_EQ(commands_.started().size(), 1u);
}

TEST_F(registry_test, a_version_left_out_of_a_generation_is_retired) {
  auto first = generation({{static_spec(), k_three}});
  generation({});
  EXPECT_EQ(endpoints_.stopped().size(), 3u);
  EXPECT_EQ(registry_.pools().size(), 1u);  // kept until it has finished
  for (const auto& [id, spec] : endpoints_.started()) first[0]->on_exit(id, pod_exit{"stopped", {}});
  EXPECT_TRUE(first[0]->finished());
  registry_.tick();
  EXPECT_TRUE(registry_.pools().empty());
  EXPECT_TRUE(registry_.all_stopped());
}

TEST_F(registry_test, changed_endpoints_make_a_new_pool_and_retire_the_old) {
  auto first = generation({{static_spec(), k_three}});
  auto second = generation({{static_spec(), endpoints_of({"127.0.0.1:9001", "127.0.0.1:9004"})}});
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(first[0], second[0]);
  EXPECT_EQ(second[0]->spec().app_id, "acme-corp:greeter");
  // The old pool's idle pods are stopped; the new pool started its own.
  EXPECT_EQ(endpoints_.stopped().size(), 3u);
  EXPECT_EQ(endpoints_.started().size(), 5u);
}

TEST_F(registry_test, other_versions_and_sources_get_their_own_pools) {
  auto v2 = static_spec();
  v2.version = "2";
  auto pools = generation({{static_spec(), k_three}, {v2, k_three}, {command_spec(), {}}});
  ASSERT_EQ(pools.size(), 3u);
  EXPECT_NE(pools[0], pools[1]);
  EXPECT_NE(pools[1], pools[2]);
  EXPECT_NE(pools[0], pools[2]);
  EXPECT_EQ(registry_.pools().size(), 3u);
  // Static versions go to the endpoints provider, commands to the process provider
  // (which, with no reserved capacity, starts nothing yet).
  EXPECT_EQ(endpoints_.started().size(), 6u);
  EXPECT_TRUE(commands_.started().empty());

  auto again = generation({{static_spec(), k_three}, {v2, k_three}, {command_spec(), {}}});
  EXPECT_EQ(again, pools);
}

TEST_F(registry_test, changed_command_makes_a_new_pool) {
  auto first = generation({{command_spec(), {}}});
  auto changed = command_spec();
  changed.command.push_back("--verbose");
  auto second = generation({{changed, {}}});
  EXPECT_NE(first[0], second[0]);
}

TEST_F(registry_test, image_version_without_image_provider_is_refused_when_held) {
  pod_spec image = static_spec();
  image.image_ref = "ghcr.io/acme/greeter:1";
  auto pools = generation({{image, {}}});
  auto w = std::make_shared<recording_waiter>();
  grant g;
  refusal refused;
  EXPECT_EQ(pools[0]->hold(w, g, refused), version_pool::acquire_result::rejected);
  EXPECT_FALSE(refused.message.empty());
}

}  // namespace
}  // namespace ignite::coldstart
