// The registry of version pools across config generations: a version whose source did
// not change keeps its pool; a version left out is retired and kept until it has
// finished; shutdown stops every pod of every pool. No sockets, no processes: recording
// providers and a manual clock.
#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "coldstart/pod_provider.hpp"
#include "coldstart/pool_registry.hpp"
#include "coldstart/version_pool.hpp"
#include "pool_doubles.hpp"

namespace ignite::coldstart {
namespace {

using namespace ignite::coldstart::testing;

using pool_set = std::set<std::shared_ptr<version_pool>>;

const std::vector<common::host_port> k_three = endpoints_of({"127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"});

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
  for (const auto& [id, spec] : endpoints_.started()) first[0]->on_exit(id, pod_exit{"stopped", {}, {}});
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
  EXPECT_FALSE(refused.reason.message.empty());
}

// --- tick, stop_all, pools -----------------------------------------------------------

TEST_F(registry_test, an_empty_registry_has_no_pools_and_is_stopped) {
  EXPECT_TRUE(registry_.pools().empty());
  EXPECT_TRUE(registry_.all_stopped());
  registry_.tick();
  registry_.stop_all();
  EXPECT_TRUE(registry_.all_stopped());
}

TEST_F(registry_test, pools_lists_active_and_retired_pools) {
  auto v2 = static_spec();
  v2.version = "2";
  const auto one = endpoints_of({"127.0.0.1:9004"});
  auto first = generation({{static_spec(), k_three}, {v2, one}});
  auto second = generation({{v2, one}, {command_spec(), {}}});
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0], first[1]);
  // first[0] is retired; its pods are stopping but have not exited, so it is still listed.
  const auto listed = registry_.pools();
  EXPECT_EQ(listed.size(), 3u);
  EXPECT_EQ(pool_set(listed.begin(), listed.end()), (pool_set{first[0], second[0], second[1]}));
}

TEST_F(registry_test, a_generation_counts_only_once_committed) {
  auto first = generation({{static_spec(), k_three}});
  auto v2 = static_spec();
  v2.version = "2";
  registry_.begin();
  auto pending = registry_.use(v2, endpoints_of({"127.0.0.1:9004"}), {});
  // Not committed: the old generation is still what the registry holds, and nothing of
  // the new one runs yet.
  EXPECT_EQ(registry_.pools(), first);
  EXPECT_EQ(endpoints_.started().size(), 3u);
  registry_.commit();
  const auto listed = registry_.pools();
  EXPECT_EQ(pool_set(listed.begin(), listed.end()), (pool_set{first[0], pending}));
  EXPECT_EQ(endpoints_.started().size(), 4u);
}

TEST_F(registry_test, an_abandoned_generation_starts_nothing) {
  auto v2 = static_spec();
  v2.version = "2";
  registry_.begin();
  registry_.use(v2, endpoints_of({"127.0.0.1:9004"}), {});
  // A load that failed half-way is dropped by the next begin().
  auto pools = generation({{static_spec(), k_three}});
  EXPECT_EQ(registry_.pools(), pools);
  EXPECT_EQ(endpoints_.started().size(), 3u);
  for (const auto& [id, spec] : endpoints_.started()) EXPECT_EQ(spec.version, "1");
}

TEST_F(registry_test, tick_drops_a_retired_pool_only_once_it_has_finished) {
  auto v2 = static_spec();
  v2.version = "2";
  auto first = generation({{static_spec(), k_three}});
  auto second = generation({{v2, endpoints_of({"127.0.0.1:9004"})}});
  const auto stopping = endpoints_.stopped();
  ASSERT_EQ(stopping.size(), 3u);  // the retired pool's idle pods

  // Two of its three pods have exited: not finished, still listed after a tick.
  first[0]->on_exit(stopping[0], pod_exit{"stopped", {}, {}});
  first[0]->on_exit(stopping[1], pod_exit{"stopped", {}, {}});
  registry_.tick();
  EXPECT_EQ(registry_.pools().size(), 2u);

  // The last one: finished, and the next tick forgets it; the active pool stays.
  first[0]->on_exit(stopping[2], pod_exit{"stopped", {}, {}});
  EXPECT_EQ(registry_.pools().size(), 2u) << "only tick() drops pools";
  registry_.tick();
  EXPECT_EQ(registry_.pools(), second);
}

TEST_F(registry_test, a_retired_pool_with_a_request_in_flight_is_kept_until_it_is_done) {
  auto first = generation({{static_spec(), k_three}});
  for (const auto& [id, spec] : endpoints_.started()) first[0]->on_ready(id, loopback(spec.endpoint.port));
  grant busy;
  ASSERT_EQ(first[0]->try_acquire(busy), version_pool::acquire_result::granted);

  generation({});
  // The idle pods are stopped; the busy one serves its request first.
  auto stopped = endpoints_.stopped();
  ASSERT_EQ(stopped.size(), 2u);
  EXPECT_EQ(std::count(stopped.begin(), stopped.end(), busy.pod), 0);
  for (auto id : stopped) first[0]->on_exit(id, pod_exit{"stopped", {}, {}});
  registry_.tick();
  EXPECT_EQ(registry_.pools(), first);
  EXPECT_FALSE(registry_.all_stopped());

  first[0]->release(busy.pod);
  stopped = endpoints_.stopped();
  ASSERT_EQ(stopped.size(), 3u);
  EXPECT_EQ(stopped.back(), busy.pod);
  first[0]->on_exit(busy.pod, pod_exit{"stopped", {}, {}});
  registry_.tick();
  EXPECT_TRUE(registry_.pools().empty());
}

TEST_F(registry_test, stop_all_stops_the_pods_of_active_and_retired_pools) {
  auto v2 = static_spec();
  v2.version = "2";
  auto first = generation({{static_spec(), k_three}});
  auto second = generation({{v2, endpoints_of({"127.0.0.1:9004", "127.0.0.1:9005"})}});
  ASSERT_EQ(endpoints_.stopped().size(), 3u);  // the retired pool's
  EXPECT_FALSE(registry_.all_stopped());

  registry_.stop_all();
  // Every live pod is asked to stop once: the active pool's two now, the retired pool's
  // three were already stopping.
  const auto stopped = endpoints_.stopped();
  EXPECT_EQ(stopped.size(), 5u);
  EXPECT_EQ(std::set<pod_id>(stopped.begin(), stopped.end()).size(), 5u);
  const auto started = endpoints_.started_ids();
  EXPECT_EQ(std::set<pod_id>(stopped.begin(), stopped.end()), std::set<pod_id>(started.begin(), started.end()));

  // all_stopped() waits for every pod of every pool to exit.
  EXPECT_FALSE(registry_.all_stopped());
  for (const auto& [id, spec] : endpoints_.started()) {
    EXPECT_FALSE(registry_.all_stopped());
    auto& pool = spec.version == "1" ? first[0] : second[0];
    pool->on_exit(id, pod_exit{"stopped", {}, {}});
  }
  EXPECT_TRUE(registry_.all_stopped());
}

TEST_F(registry_test, stop_all_with_no_pods_running_is_stopped_at_once) {
  // A command version with no reserved capacity has started nothing.
  generation({{command_spec(), {}}});
  EXPECT_FALSE(registry_.all_stopped()) << "an active pool is not stopped";
  registry_.stop_all();
  EXPECT_TRUE(commands_.stopped().empty());
  EXPECT_TRUE(registry_.all_stopped());
}

TEST_F(registry_test, stop_all_reaches_command_pods) {
  pool_settings s;
  s.reserved_capacity = 2;
  registry_.begin();
  auto pool = registry_.use(command_spec(), {}, s);
  registry_.commit();
  const auto started = commands_.started_ids();
  ASSERT_EQ(started.size(), 2u);
  registry_.stop_all();
  EXPECT_EQ(commands_.stopped(), started);
  EXPECT_TRUE(endpoints_.stopped().empty());
  for (auto id : started) pool->on_exit(id, pod_exit{"killed by signal 15", {}, {}});
  EXPECT_TRUE(registry_.all_stopped());
  // A tick after shutdown starts nothing again, reserved capacity or not.
  registry_.tick();
  EXPECT_EQ(commands_.started().size(), 2u);
}

}  // namespace
}  // namespace ignite::coldstart
