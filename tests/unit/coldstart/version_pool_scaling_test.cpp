// The pool and hold-queue state machine, driven by hand: a manual clock, a provider
// that only records what it was asked, and pod events sent by the test.

#include "coldstart/version_pool.hpp"

#include "pool_doubles.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ignite::coldstart {
namespace {

using namespace std::chrono_literals;

using namespace ignite::coldstart::testing;

class version_pool_scaling_test : public ::testing::Test {
 protected:
  std::shared_ptr<version_pool> make(pool_settings s, std::vector<common::host_port> endpoints = {}) {
    pod_spec spec;
    spec.app_id = "acme-corp:greeter";
    spec.version = "1";
    if (endpoints.empty()) spec.command = {"greeter"};
    return std::make_shared<version_pool>(s, spec, std::move(endpoints), &provider_, clock_);
  }

  // Holds a new waiter; expects it to be queued.
  std::shared_ptr<recording_waiter> hold(version_pool& pool) {
    auto w = std::make_shared<recording_waiter>();
    grant g;
    refusal refused;
    EXPECT_EQ(pool.hold(w, g, refused), version_pool::acquire_result::must_hold) << refused.reason.message;
    return w;
  }

  manual_clock clock_;
  recording_provider provider_;
};

TEST_F(version_pool_scaling_test, first_request_starts_a_pod_and_gets_it_when_it_listens) {
  auto pool = make({});
  grant g;
  EXPECT_EQ(pool->try_acquire(g), version_pool::acquire_result::must_hold);
  EXPECT_TRUE(provider_.started().empty()) << "try_acquire must not start pods";
  auto w = hold(*pool);
  ASSERT_EQ(provider_.started().size(), 1u);
  EXPECT_EQ(provider_.started()[0].second.app_id, "acme-corp:greeter");
  EXPECT_EQ(w->calls, 0);

  clock_.advance(250ms);
  pool->on_ready(provider_.started_ids()[0], loopback(41000));
  ASSERT_EQ(w->calls, 1);
  ASSERT_TRUE(w->got);
  EXPECT_EQ(text(w->got->address), "127.0.0.1:41000");
  EXPECT_TRUE(w->got->cold_start);
  auto s = pool->stats();
  EXPECT_EQ(s.cold_starts, 1u);
  EXPECT_EQ(s.cold_start_ms_total, 250u);
  EXPECT_EQ(s.held, 1u);

  // Warm now: the fast path grants at once, not cold.
  grant warm;
  EXPECT_EQ(pool->try_acquire(warm), version_pool::acquire_result::granted);
  EXPECT_FALSE(warm.cold_start);
  EXPECT_EQ(provider_.started().size(), 1u);
}

TEST_F(version_pool_scaling_test, a_burst_with_no_concurrency_limit_is_served_by_one_pod) {
  auto pool = make({});
  std::vector<std::shared_ptr<recording_waiter>> waiters;
  for (int i = 0; i < 200; ++i) waiters.push_back(hold(*pool));
  ASSERT_EQ(provider_.started().size(), 1u);
  pool->on_ready(provider_.started_ids()[0], loopback(41000));
  for (auto& w : waiters) {
    ASSERT_EQ(w->calls, 1);
    ASSERT_TRUE(w->got);
  }
  EXPECT_EQ(pool->stats().waiting, 0u);
}

TEST_F(version_pool_scaling_test, held_requests_are_granted_in_arrival_order) {
  pool_settings s;
  s.container_concurrency = 1;
  s.max_replicas = 1;
  auto pool = make(s);
  auto a = hold(*pool);
  auto b = hold(*pool);
  auto c = hold(*pool);
  pool->on_ready(provider_.started_ids().at(0), loopback(41000));
  ASSERT_TRUE(a->got);
  EXPECT_FALSE(b->got);
  pool->release(a->got->pod);
  ASSERT_TRUE(b->got);
  EXPECT_FALSE(c->got);
  EXPECT_TRUE(b->got->cold_start) << "b arrived while the pod was starting";
  pool->release(b->got->pod);
  EXPECT_TRUE(c->got);
}

TEST_F(version_pool_scaling_test, waiting_only_for_a_busy_pods_slot_is_not_a_cold_start) {
  pool_settings s;
  s.container_concurrency = 1;
  s.max_replicas = 1;
  s.reserved_capacity = 1;
  auto pool = make(s);
  pool->activate();
  pool->on_ready(provider_.started_ids().at(0), loopback(41000));
  grant first;
  ASSERT_EQ(pool->try_acquire(first), version_pool::acquire_result::granted);
  auto w = hold(*pool);
  EXPECT_EQ(provider_.started().size(), 1u) << "max_replicas reached";
  pool->release(first.pod);
  ASSERT_TRUE(w->got);
  EXPECT_FALSE(w->got->cold_start);
}

TEST_F(version_pool_scaling_test, a_full_hold_queue_rejects_and_counts) {
  pool_settings s;
  s.max_held_requests = 3;
  auto pool = make(s);
  for (int i = 0; i < 3; ++i) hold(*pool);
  auto w = std::make_shared<recording_waiter>();
  grant g;
  refusal refused;
  EXPECT_EQ(pool->hold(w, g, refused), version_pool::acquire_result::rejected);
  EXPECT_EQ(refused.why, failure::overloaded);
  EXPECT_NE(refused.reason.detail.find("hold queue full"), std::string::npos) << refused.reason.detail;
  EXPECT_EQ(refused.reason.message.find("hold queue"), std::string::npos) << "the count is for the log";
  EXPECT_EQ(w->calls, 0);
  EXPECT_EQ(pool->stats().overloaded, 1u);
  EXPECT_EQ(pool->stats().waiting, 3u);
}

TEST_F(version_pool_scaling_test, a_pod_dying_before_it_listens_fails_its_held_requests_at_once) {
  auto pool = make({});
  auto a = hold(*pool);
  auto b = hold(*pool);
  pool->on_exit(provider_.started_ids().at(0),
                {"exited with status 3", {"config missing", "bye"}, "exited with status 3"});
  for (auto& w : {a, b}) {
    ASSERT_EQ(w->calls, 1);
    ASSERT_TRUE(w->failed_with);
    EXPECT_EQ(*w->failed_with, failure::pod_start_failed);
    EXPECT_NE(w->message.find("exited with status 3"), std::string::npos) << w->message;
    EXPECT_NE(w->detail.find("config missing | bye"), std::string::npos) << w->detail;
    EXPECT_EQ(w->message.find("config missing"), std::string::npos) << "a pod's output is never public";
  }
  EXPECT_EQ(pool->stats().start_failures, 1u);
  EXPECT_EQ(provider_.started().size(), 1u) << "no restart for requests that already failed";
  // A later request tries again.
  hold(*pool);
  EXPECT_EQ(provider_.started().size(), 2u);
}

TEST_F(version_pool_scaling_test, a_start_failure_keeps_requests_another_starting_pod_can_take) {
  pool_settings s;
  s.container_concurrency = 1;
  s.max_replicas = 2;
  auto pool = make(s);
  auto a = hold(*pool);
  auto b = hold(*pool);
  ASSERT_EQ(provider_.started().size(), 2u);
  pool->on_exit(provider_.started_ids()[0], {"exited with status 1", {}, {}});
  // One pod is still starting with one free slot: the older request keeps waiting.
  EXPECT_EQ(a->calls, 0);
  ASSERT_EQ(b->calls, 1);
  EXPECT_TRUE(b->failed_with);
  pool->on_ready(provider_.started_ids()[1], loopback(41001));
  EXPECT_TRUE(a->got);
}

TEST_F(version_pool_scaling_test, scales_out_to_ceil_demand_over_concurrency_capped_at_max_replicas) {
  pool_settings s;
  s.container_concurrency = 2;
  s.max_replicas = 3;
  auto pool = make(s);
  for (int i = 0; i < 3; ++i) hold(*pool);
  EXPECT_EQ(provider_.started().size(), 2u);  // ceil(3 / 2)
  for (int i = 0; i < 5; ++i) hold(*pool);
  EXPECT_EQ(provider_.started().size(), 3u);  // ceil(8 / 2) = 4, capped at 3
}

TEST_F(version_pool_scaling_test, requests_go_to_the_pod_with_the_fewest_in_flight) {
  pool_settings s;
  s.container_concurrency = 0;
  s.reserved_capacity = 2;
  auto pool = make(s);
  pool->activate();
  ASSERT_EQ(provider_.started().size(), 2u);
  pool->on_ready(provider_.started_ids()[0], loopback(41000));
  pool->on_ready(provider_.started_ids()[1], loopback(41001));
  std::vector<grant> grants(4);
  for (auto& g : grants) ASSERT_EQ(pool->try_acquire(g), version_pool::acquire_result::granted);
  auto on = [&](pod_id id) {
    return std::count_if(grants.begin(), grants.end(), [&](auto& g) { return g.pod == id; });
  };
  EXPECT_EQ(on(provider_.started_ids()[0]), 2);
  EXPECT_EQ(on(provider_.started_ids()[1]), 2);
}

TEST_F(version_pool_scaling_test, an_idle_pod_is_stopped_after_idle_timeout_down_to_zero) {
  pool_settings s;
  s.idle_timeout = 1000ms;
  auto pool = make(s);
  auto w = hold(*pool);
  auto id = provider_.started_ids().at(0);
  pool->on_ready(id, loopback(41000));
  clock_.advance(5000ms);  // busy time does not count as idle
  pool->tick();
  EXPECT_TRUE(provider_.stopped().empty());
  pool->release(w->got->pod);
  clock_.advance(999ms);
  pool->tick();
  EXPECT_TRUE(provider_.stopped().empty());
  clock_.advance(1ms);
  pool->tick();
  ASSERT_EQ(provider_.stopped(), std::vector<pod_id>{id});
  EXPECT_EQ(pool->stats().pods_stopped_idle, 1u);
  pool->on_exit(id, {"was stopped", {}, {}});
  EXPECT_EQ(pool->stats().pods, 0u);
  // From zero, the next request is a cold start again.
  hold(*pool);
  EXPECT_EQ(provider_.started().size(), 2u);
}

TEST_F(version_pool_scaling_test, a_pod_another_node_uses_is_not_stopped_when_idle_here) {
  pool_settings s;
  s.idle_timeout = 1000ms;
  auto pool = make(s);
  auto w = hold(*pool);
  auto id = provider_.started_ids().at(0);
  pool->on_ready(id, loopback(41000));
  pool->release(w->got->pod);
  provider_.set_used_elsewhere(id, true);
  clock_.advance(1000ms);
  pool->tick();
  EXPECT_TRUE(provider_.stopped().empty()) << "stopped while another node sends it requests";
  // Once the other node lets go, a full idle_timeout from then stops it.
  provider_.set_used_elsewhere(id, false);
  clock_.advance(999ms);
  pool->tick();
  EXPECT_TRUE(provider_.stopped().empty());
  clock_.advance(1ms);
  pool->tick();
  EXPECT_EQ(provider_.stopped(), std::vector<pod_id>{id});
}

TEST_F(version_pool_scaling_test, this_nodes_pods_are_taken_before_pods_on_other_nodes) {
  pool_settings s;
  s.container_concurrency = 1;
  auto pool = make(s);
  auto first = hold(*pool);
  auto second = hold(*pool);
  ASSERT_EQ(provider_.started().size(), 2u);
  const auto remote = provider_.started_ids()[0], local = provider_.started_ids()[1];
  pool->on_ready(remote, loopback(41000), /*remote=*/true);
  pool->on_ready(local, loopback(41001));
  ASSERT_TRUE(first->got && second->got);
  pool->release(first->got->pod);
  pool->release(second->got->pod);
  // Both idle: the local one first, the remote one when the local one is full.
  grant a, b;
  ASSERT_EQ(pool->try_acquire(a), version_pool::acquire_result::granted);
  EXPECT_EQ(a.pod, local);
  ASSERT_EQ(pool->try_acquire(b), version_pool::acquire_result::granted);
  EXPECT_EQ(b.pod, remote);
}

TEST_F(version_pool_scaling_test, reserved_capacity_starts_without_traffic_and_is_kept_when_idle) {
  pool_settings s;
  s.reserved_capacity = 1;
  s.idle_timeout = 100ms;
  auto pool = make(s);
  EXPECT_TRUE(provider_.started().empty());
  pool->activate();
  ASSERT_EQ(provider_.started().size(), 1u);
  pool->on_ready(provider_.started_ids()[0], loopback(41000));
  clock_.advance(10s);
  pool->tick();
  EXPECT_TRUE(provider_.stopped().empty());
  grant g;
  EXPECT_EQ(pool->try_acquire(g), version_pool::acquire_result::granted);
  EXPECT_FALSE(g.cold_start);
}

TEST_F(version_pool_scaling_test, reserved_capacity_is_restored_after_a_pod_dies) {
  pool_settings s;
  s.reserved_capacity = 1;
  auto pool = make(s);
  pool->activate();
  pool->on_ready(provider_.started_ids().at(0), loopback(41000));
  pool->on_exit(provider_.started_ids()[0], {"was killed by signal 9 (SIGKILL)", {}, {}});
  EXPECT_EQ(provider_.started().size(), 2u);
}

TEST_F(version_pool_scaling_test, a_pod_dying_while_serving_is_replaced_for_the_requests_still_waiting) {
  pool_settings s;
  s.container_concurrency = 1;
  s.max_replicas = 1;
  auto pool = make(s);
  auto a = hold(*pool);
  auto b = hold(*pool);
  auto first = provider_.started_ids().at(0);
  pool->on_ready(first, loopback(41000));
  ASSERT_TRUE(a->got);
  pool->on_exit(first, {"was killed by signal 11 (SIGSEGV)", {}, {}});
  EXPECT_EQ(b->calls, 0) << "a request not yet sent to the dead pod is held again, not failed";
  ASSERT_EQ(provider_.started().size(), 2u);
  pool->release(a->got->pod);  // the failed request finishing is harmless
  pool->on_ready(provider_.started_ids()[1], loopback(41001));
  ASSERT_TRUE(b->got);
  EXPECT_EQ(text(b->got->address), "127.0.0.1:41001");
}

TEST_F(version_pool_scaling_test, an_unreachable_pod_is_probed_and_not_granted_until_it_listens_again) {
  auto pool = make({});
  auto w = hold(*pool);
  auto id = provider_.started_ids().at(0);
  pool->on_ready(id, loopback(41000));
  pool->unreachable(w->got->pod);
  EXPECT_EQ(provider_.probed(), std::vector<pod_id>{id});
  grant g;
  EXPECT_EQ(pool->try_acquire(g), version_pool::acquire_result::must_hold);
  auto again = hold(*pool);
  EXPECT_EQ(provider_.started().size(), 1u) << "the pod is starting again; no second pod";
  pool->on_ready(id, loopback(41000));
  EXPECT_TRUE(again->got);
}

TEST_F(version_pool_scaling_test, a_cancelled_request_is_never_called_back) {
  auto pool = make({});
  auto w = hold(*pool);
  EXPECT_TRUE(pool->cancel(w.get()));
  EXPECT_FALSE(pool->cancel(w.get()));
  pool->on_ready(provider_.started_ids().at(0), loopback(41000));
  EXPECT_EQ(w->calls, 0);
}

TEST_F(version_pool_scaling_test, cancel_after_the_answer_reports_it_is_on_its_way) {
  auto pool = make({});
  auto w = hold(*pool);
  pool->on_ready(provider_.started_ids().at(0), loopback(41000));
  EXPECT_FALSE(pool->cancel(w.get()));
  EXPECT_EQ(w->calls, 1);
}

TEST_F(version_pool_scaling_test, timeout_message_names_the_cause) {
  pool_settings s;
  s.container_concurrency = 1;
  s.max_replicas = 1;
  auto pool = make(s);
  hold(*pool);
  EXPECT_EQ(pool->timeout_reason(30000ms).message, "no pod listened on $PORT within 30 s");
  pool->on_ready(provider_.started_ids().at(0), loopback(41000));
  hold(*pool);
  auto busy = pool->timeout_reason(1500ms).detail;
  EXPECT_NE(busy.find("busy for 1500 ms"), std::string::npos) << busy;
}

TEST_F(version_pool_scaling_test, a_pod_that_never_listens_is_stopped_once_nobody_waits) {
  pool_settings s;
  s.cold_start_timeout = 500ms;
  auto pool = make(s);
  auto w = hold(*pool);
  clock_.advance(600ms);
  pool->tick();
  EXPECT_TRUE(provider_.stopped().empty()) << "someone still waits";
  ASSERT_TRUE(pool->cancel(w.get()));
  pool->tick();
  EXPECT_EQ(provider_.stopped().size(), 1u);
}

TEST_F(version_pool_scaling_test, retiring_stops_idle_pods_and_busy_ones_once_their_requests_finish) {
  pool_settings s;
  s.reserved_capacity = 2;
  auto pool = make(s);
  pool->activate();
  auto a = provider_.started_ids().at(0), b = provider_.started_ids().at(1);
  pool->on_ready(a, loopback(41000));
  pool->on_ready(b, loopback(41001));
  grant g;
  ASSERT_EQ(pool->try_acquire(g), version_pool::acquire_result::granted);
  pool->retire();
  ASSERT_EQ(provider_.stopped().size(), 1u);
  EXPECT_NE(provider_.stopped()[0], g.pod);
  pool->release(g.pod);
  EXPECT_EQ(provider_.stopped().size(), 2u);
  pool->on_exit(a, {"was stopped", {}, {}});
  EXPECT_FALSE(pool->finished());
  pool->on_exit(b, {"was stopped", {}, {}});
  EXPECT_TRUE(pool->finished());
}

TEST_F(version_pool_scaling_test, stop_all_stops_every_pod_and_fails_held_requests) {
  auto pool = make({});
  auto w = hold(*pool);
  pool->stop_all();
  EXPECT_EQ(provider_.stopped().size(), 1u);
  ASSERT_EQ(w->calls, 1);
  EXPECT_TRUE(w->failed_with);
  pool->on_exit(provider_.started_ids().at(0), {"was stopped", {}, {}});
  EXPECT_TRUE(pool->finished());
}

TEST_F(version_pool_scaling_test, static_endpoints_are_all_probed_never_cold_and_never_idle_stopped) {
  pool_settings s;
  s.idle_timeout = 10ms;
  auto pool = make(s, endpoints_of({"127.0.0.1:9001", "127.0.0.1:9002"}));
  auto w = hold(*pool);
  pool->activate();
  ASSERT_EQ(provider_.started().size(), 2u);
  EXPECT_EQ(provider_.started()[0].second.endpoint.to_string(), "127.0.0.1:9001");
  EXPECT_EQ(provider_.started()[1].second.endpoint.to_string(), "127.0.0.1:9002");
  pool->on_ready(provider_.started_ids()[1], loopback(9002));
  ASSERT_TRUE(w->got);
  EXPECT_FALSE(w->got->cold_start);
  pool->release(w->got->pod);
  clock_.advance(1s);
  pool->tick();
  EXPECT_TRUE(provider_.stopped().empty());
}

TEST_F(version_pool_scaling_test, a_version_without_a_provider_is_refused_at_once) {
  pod_spec spec;
  spec.image_ref = "registry.local/greeter:1";
  auto pool = std::make_shared<version_pool>(pool_settings{}, spec, std::vector<common::host_port>{}, nullptr, clock_);
  auto w = std::make_shared<recording_waiter>();
  grant g;
  refusal refused;
  EXPECT_EQ(pool->hold(w, g, refused), version_pool::acquire_result::rejected);
  EXPECT_EQ(refused.why, failure::no_source);
  EXPECT_FALSE(refused.reason.message.empty());
}

}  // namespace
}  // namespace ignite::coldstart

namespace ignite::coldstart {
namespace {

class retired_pool_test : public ::testing::Test {
 protected:
  manual_clock clock_;
  recording_provider provider_;
};

// A request that took the old routes just before a reload still gets served by the old
// version, even after its idle pods were stopped.
TEST_F(retired_pool_test, a_late_request_to_a_retired_static_pool_is_still_served) {
  pod_spec spec;
  spec.app_id = "acme-corp:greeter";
  spec.version = "1";
  auto pool =
      std::make_shared<version_pool>(pool_settings{}, spec, endpoints_of({"127.0.0.1:9001"}), &provider_, clock_);
  pool->activate();
  auto first = provider_.started_ids().at(0);
  pool->on_ready(first, loopback(9001));
  pool->retire();
  ASSERT_EQ(provider_.stopped(), std::vector<pod_id>{first});
  pool->on_exit(first, {"stopped", {}, {}});
  EXPECT_TRUE(pool->finished());

  auto w = std::make_shared<recording_waiter>();
  grant g;
  refusal refused;
  ASSERT_EQ(pool->hold(w, g, refused), version_pool::acquire_result::must_hold) << refused.reason.message;
  ASSERT_EQ(provider_.started().size(), 2u);
  pool->on_ready(provider_.started_ids()[1], loopback(9001));
  ASSERT_TRUE(w->got);
  pool->release(w->got->pod);
  EXPECT_EQ(provider_.stopped().size(), 2u) << "and stopped again once idle";
}

}  // namespace
}  // namespace ignite::coldstart
