// Per-version counters: status codes fold into a bounded label set, each writer counts
// into its own slice and read() adds them up, and pod starts are classified by how they
// ended. The registry keeps a block while its version is routed to, and only then.
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "proxy/counter_registry.hpp"
#include "proxy/version_counters.hpp"

namespace ignite::proxy {
namespace {

using namespace std::chrono_literals;
using kind = coldstart::pod_note::kind;

TEST(version_counters, status_codes_map_to_a_bounded_set_of_labels) {
  EXPECT_EQ(version_counters::code_label(version_counters::code_slot(200)), "200");
  EXPECT_EQ(version_counters::code_label(version_counters::code_slot(499)), "499");
  EXPECT_EQ(version_counters::code_label(version_counters::code_slot(418)), "4xx");
  EXPECT_EQ(version_counters::code_label(version_counters::code_slot(299)), "2xx");
  EXPECT_EQ(version_counters::code_label(version_counters::code_slot(599)), "5xx");
  EXPECT_EQ(version_counters::code_label(version_counters::code_slot(600)), "other");
  EXPECT_EQ(version_counters::code_label(version_counters::code_slot(99)), "other");
  EXPECT_EQ(version_counters::code_label(version_counters::code_slot(100000)), "other");
  std::set<std::string> labels;
  for (unsigned s = 0; s < 1200; ++s)
    labels.insert(std::string(version_counters::code_label(version_counters::code_slot(s))));
  EXPECT_EQ(labels.size(), version_counters::k_code_slots);
}

TEST(version_counters, each_writer_counts_apart_and_a_read_adds_them_up) {
  version_counters c("acme-corp:greeter", "3", 3);
  constexpr int k_each = 10000;
  std::vector<std::thread> writers;
  for (std::size_t w = 0; w < 3; ++w)
    writers.emplace_back([&c, w] {
      for (int i = 0; i < k_each; ++i) c.count(w, w == 2 ? 503 : 200, 700us, w == 0 ? 300us : -1us);
    });
  for (auto& t : writers) t.join();
  auto t = c.read();
  EXPECT_EQ(t.requests[version_counters::code_slot(200)], 2u * k_each);
  EXPECT_EQ(t.requests[version_counters::code_slot(503)], 1u * k_each);
  EXPECT_EQ(t.request.count(), 3u * k_each);
  EXPECT_EQ(t.request.sum_us, 3u * k_each * 700);
  EXPECT_EQ(t.request.counts[duration_histogram::bucket_of(700)], 3u * k_each);  // le=0.001
  EXPECT_EQ(t.upstream.count(), 1u * k_each);                                    // -1: never reached a pod
  EXPECT_EQ(t.upstream.counts[0], 1u * k_each);                                  // le=0.0005
}

TEST(version_counters, histogram_buckets_hold_their_upper_bound) {
  EXPECT_EQ(duration_histogram::bucket_of(0), 0u);
  EXPECT_EQ(duration_histogram::bucket_of(500), 0u);
  EXPECT_EQ(duration_histogram::bucket_of(501), 1u);
  EXPECT_EQ(duration_histogram::bucket_of(300000000), duration_histogram::k_bounds_us.size() - 1);
  EXPECT_EQ(duration_histogram::bucket_of(300000001), duration_histogram::k_bounds_us.size());  // +Inf
}

TEST(version_counters, pod_starts_end_ready_failed_or_abandoned) {
  version_counters c("acme-corp:greeter", "1", 1);
  auto note = [&](kind k, coldstart::pod_id pod, std::int64_t ms = -1) {
    coldstart::pod_note n{k, pod, {}};
    n.start_ms = ms;
    c.pod_note(n);
  };
  note(kind::starting, 1);
  note(kind::ready, 1, 120);
  note(kind::stopping, 1);  // idle later: not a start outcome
  note(kind::exited, 1);
  note(kind::starting, 2);
  note(kind::exited, 2);  // died before listening
  note(kind::starting, 3);
  note(kind::stopping, 3);  // never listened, nobody waited
  note(kind::exited, 3);
  note(kind::ready, 4, 5);  // never seen starting: not counted
  auto t = c.read();
  EXPECT_EQ(t.starts[0], 1u);  // ready
  EXPECT_EQ(t.starts[1], 1u);  // failed
  EXPECT_EQ(t.starts[2], 1u);  // abandoned
  EXPECT_EQ(t.start_duration.count(), 1u);
  EXPECT_EQ(t.start_duration.sum_us, 120000u);
}

TEST(counter_registry, a_version_keeps_its_counts_while_routed_and_leaves_when_not) {
  counter_registry r(2);
  r.begin();
  auto a = r.use("acme-corp:a", "1");
  auto b = r.use("acme-corp:b", "1");
  r.commit();
  a->count(0, 200, 1ms, 1ms);
  EXPECT_EQ(r.all().size(), 2u);

  r.begin();
  EXPECT_EQ(r.use("acme-corp:a", "1"), a);  // same block: counts carry over
  r.commit();
  auto all = r.all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]->app_id(), "acme-corp:a");
  EXPECT_EQ(all[0]->read().requests[version_counters::code_slot(200)], 1u);

  r.begin();
  EXPECT_NE(r.use("acme-corp:a", "2"), a);  // a new version is a new series
  r.commit();
  ASSERT_EQ(r.all().size(), 1u);
  EXPECT_EQ(r.all()[0]->version(), "2");
}

TEST(counter_registry, pod_events_count_for_run_versions_only) {
  counter_registry r(1);
  r.begin();
  auto block = r.use("acme-corp:a", "1");
  coldstart::pod_spec command;
  command.app_id = "acme-corp:a";
  command.version = "1";
  command.command = {"/bin/true"};
  // Before commit: a pool starts its pods as the generation is built.
  r.on_pod_note(command, {kind::starting, 7, {}});
  r.commit();
  coldstart::pod_note ready{kind::ready, 7, {}};
  ready.start_ms = 3;
  r.on_pod_note(command, ready);
  coldstart::pod_spec endpoints = command;
  endpoints.command.clear();
  r.on_pod_note(endpoints, {kind::starting, 8, {}});
  r.on_pod_note(endpoints, {kind::exited, 8, {}});
  auto t = block->read();
  EXPECT_EQ(t.starts[0], 1u);
  EXPECT_EQ(t.starts[1], 0u);
}

}  // namespace
}  // namespace ignite::proxy
