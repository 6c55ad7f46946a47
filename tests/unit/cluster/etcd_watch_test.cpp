// cluster::etcd_watch against a real etcd (tests/support/etcd_cluster): a watch that was
// away while etcd compacted the revisions it needed re-lists, and its consumer ends where
// it would have if it had seen every change.
//
// To be away deterministically, the watch is held inside a callback (on a key of its own
// range) while its member is killed and started again; the changes and the compaction
// happen meanwhile, through another store (the watching store's txn() would wait for the
// held watch). Let go, the watch finds its stream dead, and etcd answers the new one with
// compact_revision.
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cluster/etcd_connection.hpp"
#include "cluster/etcd_store.hpp"
#include "store_ops.hpp"
#include "support/container_engine.hpp"
#include "support/etcd_cluster.hpp"

namespace ignite::cluster {
namespace {

using namespace std::chrono_literals;
using routing::event;
using routing::operation;
using routing::revision;

using testing::erase;
using testing::put;

// What a watch delivered. A callback whose group has the key `hold_on` waits there until
// the test lets it go (release()), each time.
class recorder {
 public:
  explicit recorder(std::string hold_on = {}) : hold_on_(std::move(hold_on)) {}

  routing::state_store::watch_callback callback() {
    return [this](const std::vector<event>& events, revision at) {
      std::unique_lock lock(mutex_);
      groups_.push_back({events, at});
      changed_.notify_all();
      if (hold_on_.empty() ||
          std::none_of(events.begin(), events.end(), [&](const event& e) { return e.kv.key == hold_on_; }))
        return;
      const int mine = ++holds_;
      changed_.notify_all();
      changed_.wait_for(lock, 60s, [&] { return releases_ >= mine; });
    };
  }
  // Until the `n`th hold has begun.
  bool wait_holding(int n, std::chrono::milliseconds cap) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, cap, [&] { return holds_ >= n; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    ++releases_;
    changed_.notify_all();
  }
  bool wait_groups(std::size_t n, std::chrono::milliseconds cap) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, cap, [&] { return groups_.size() >= n; });
  }
  std::vector<std::pair<std::vector<event>, revision>> groups() const {
    std::lock_guard lock(mutex_);
    return groups_;
  }

 private:
  std::string hold_on_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int holds_ = 0;
  int releases_ = 0;
  std::vector<std::pair<std::vector<event>, revision>> groups_;
};

// "put /b=2" or "erase /c": a group in a form that compares and prints whole.
std::vector<std::string> described(const std::vector<event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events)
    out.push_back(e.what == event::kind::put ? "put " + e.kv.key + "=" + e.kv.value : "erase " + e.kv.key);
  std::sort(out.begin(), out.end());
  return out;
}

class etcd_watch_test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto missing = test::etcd_cluster::missing_tools(); !missing.empty()) {
      if (test::container_tests_required()) FAIL() << missing << " (CI=true: these tests must run)";
      GTEST_SKIP() << missing;
    }
    etcd_ = std::make_unique<test::etcd_cluster>(1);
  }
  routing::etcd_spec spec() const {
    routing::etcd_spec spec;
    for (const auto& e : etcd_->endpoints()) {
      std::string why;
      spec.endpoints.push_back(*common::parse_host_port(e, false, why));
    }
    spec.prefix = "/w";
    spec.request_timeout = 3s;
    return spec;
  }
  std::unique_ptr<etcd_store> store() const { return std::make_unique<etcd_store>(spec()); }
  // Forgets every revision before `at` (the data too, before it returns).
  void compact(revision at) const {
    const auto s = spec();
    etcd_connection admin(s, s.request_timeout);
    admin.post("/v3/kv/compaction", {{"revision", std::to_string(at)}, {"physical", true}}, false);
  }
  // The member goes away and comes back: every stream to it is broken.
  void bounce() const {
    etcd_->kill(0);
    etcd_->restart(0);
  }

  std::unique_ptr<test::etcd_cluster> etcd_;
};

TEST_F(etcd_watch_test, a_watch_behind_a_compaction_relists_one_group_of_the_differences_and_goes_on) {
  auto watching = store();
  auto writer = store();
  const revision r0 = writer->txn({}, {put("/a", "1"), put("/b", "1"), put("/c", "1")}).at;
  recorder seen("/hold");
  // Knows /a, /b, /c from its start (read at r0), then /hold from an event.
  auto w = watching->watch("/", r0, seen.callback());
  const revision held_at = writer->txn({}, {put("/hold", "1")}).at;
  ASSERT_TRUE(seen.wait_holding(1, 10s));

  bounce();
  writer = store();
  writer->txn({}, {put("/b", "2")});
  writer->txn({}, {erase("/c")});
  writer->txn({}, {put("/d", "1")});
  const revision now = writer->current_revision();
  compact(now);
  seen.release();

  ASSERT_TRUE(seen.wait_groups(2, 10s)) << etcd_->output();
  auto groups = seen.groups();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].second, held_at);
  EXPECT_EQ(groups[1].second, now);
  EXPECT_EQ(described(groups[1].first), (std::vector<std::string>{"erase /c", "put /b=2", "put /d=1"}));
  // An erase's own revision is gone: it carries the re-list's; a put carries the key's.
  for (const auto& e : groups[1].first) {
    if (e.what == event::kind::erase || e.kv.key == "/d") {
      EXPECT_EQ(e.kv.mod_revision, now) << e.kv.key;
    }
  }

  // Watching goes on from after the re-list; the watching store's own txn returns once
  // its watch has delivered it, as before.
  const revision next = watching->txn({}, {put("/e", "1")}).at;
  groups = seen.groups();
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[2].second, next);
  EXPECT_EQ(described(groups[2].first), std::vector<std::string>{"put /e=1"});
}

// The keys a re-list knows afterwards are the ones its group left: a second re-list
// names only what changed since the first.
TEST_F(etcd_watch_test, a_second_relist_compares_with_what_the_first_one_delivered) {
  auto watching = store();
  auto writer = store();
  const revision r0 = writer->txn({}, {put("/a", "1"), put("/b", "1")}).at;
  recorder seen("/hold");
  auto w = watching->watch("/", r0, seen.callback());
  writer->txn({}, {put("/hold", "1")});
  ASSERT_TRUE(seen.wait_holding(1, 10s));

  bounce();
  writer = store();
  writer->txn({}, {erase("/a")});
  const revision first = writer->txn({}, {put("/hold", "2")}).at;  // the re-list's group holds too
  compact(first);
  seen.release();
  ASSERT_TRUE(seen.wait_holding(2, 10s)) << etcd_->output();
  auto groups = seen.groups();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1].second, first);
  EXPECT_EQ(described(groups[1].first), (std::vector<std::string>{"erase /a", "put /hold=2"}));

  bounce();
  writer = store();
  writer->txn({}, {put("/a", "2")});
  writer->txn({}, {erase("/b")});
  writer->txn({}, {put("/c", "1")});
  const revision second = writer->current_revision();
  compact(second);
  seen.release();
  ASSERT_TRUE(seen.wait_groups(3, 10s)) << etcd_->output();
  groups = seen.groups();
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[2].second, second);
  EXPECT_EQ(described(groups[2].first), (std::vector<std::string>{"erase /b", "put /a=2", "put /c=1"}));
}

// Nothing under the watched prefix changed while the watch was away: no callback, but
// the watch has moved past the compaction and delivers the next change at once.
TEST_F(etcd_watch_test, a_relist_that_finds_nothing_changed_calls_nothing_and_goes_on) {
  auto watching = store();
  auto writer = store();
  const revision r0 = writer->txn({}, {put("/in/a", "1")}).at;
  recorder seen("/in/hold");
  auto w = watching->watch("/in/", r0, seen.callback());
  writer->txn({}, {put("/in/hold", "1")});
  ASSERT_TRUE(seen.wait_holding(1, 10s));

  bounce();
  writer = store();
  writer->txn({}, {put("/out/x", "1")});
  writer->txn({}, {put("/out/x", "2")});
  const revision now = writer->current_revision();
  compact(now);
  seen.release();

  // Nothing under /in/ came after the held revision, so only the re-list can take the
  // watch to `now`: once there, it has called nothing.
  auto* watch = dynamic_cast<etcd_watch*>(w.get());
  ASSERT_NE(watch, nullptr);
  etcd_watch::wait_delivered(*watch->shared(), "/w/in/a", now, 10s);
  EXPECT_EQ(seen.groups().size(), 1u);

  const revision next = watching->txn({}, {put("/in/b", "1")}).at;
  ASSERT_TRUE(seen.wait_groups(2, 10s)) << etcd_->output();
  auto groups = seen.groups();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1].second, next);
  EXPECT_EQ(described(groups[1].first), std::vector<std::string>{"put /in/b=1"});
}

// Started from a revision etcd no longer has, the watch cannot know which keys were
// there: its re-list puts every key that is there now (and can erase none).
TEST_F(etcd_watch_test, a_watch_from_an_already_compacted_revision_puts_every_key) {
  auto s = store();
  const revision r0 = s->txn({}, {put("/a", "1"), put("/b", "1"), put("/c", "1")}).at;
  s->txn({}, {put("/b", "2")});
  s->txn({}, {erase("/c")});
  s->txn({}, {put("/d", "1")});
  const revision now = s->current_revision();
  compact(now);

  recorder seen;
  auto w = s->watch("/", r0, seen.callback());
  ASSERT_TRUE(seen.wait_groups(1, 10s)) << etcd_->output();
  auto groups = seen.groups();
  EXPECT_EQ(groups[0].second, now);
  EXPECT_EQ(described(groups[0].first), (std::vector<std::string>{"put /a=1", "put /b=2", "put /d=1"}));

  const revision next = s->txn({}, {put("/e", "1")}).at;
  groups = seen.groups();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1].second, next);
}

}  // namespace
}  // namespace ignite::cluster
