// cluster::etcd_store against a real etcd (tests/support/etcd_cluster): the state_store
// contract the control plane relies on, as etcd gives it. One single-member etcd serves
// the suite; each test works under a prefix of its own.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cluster/etcd_store.hpp"
#include "store_ops.hpp"
#include "support/container_engine.hpp"
#include "support/etcd_cluster.hpp"
#include "support/wait_until.hpp"

namespace ignite::cluster {
namespace {

using namespace std::chrono_literals;
using routing::compare;
using routing::event;
using routing::operation;
using routing::revision;
using routing::state_error;

using namespace ignite::cluster::testing;

class etcd_store_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (auto missing = test::etcd_cluster::missing_tools(); !missing.empty()) {
      unavailable_ = missing;
      return;
    }
    etcd_ = new test::etcd_cluster(1);
  }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
  }
  void SetUp() override {
    if (!etcd_) {
      if (test::container_tests_required()) FAIL() << unavailable_ << " (CI=true: these tests must run)";
      GTEST_SKIP() << unavailable_;
    }
  }
  // A store on the suite's etcd, under a prefix no other test uses.
  std::unique_ptr<etcd_store> store(std::vector<std::string> endpoints = {}) {
    routing::etcd_spec spec;
    if (endpoints.empty()) endpoints = etcd_->endpoints();
    for (const auto& e : endpoints) {
      std::string why;
      spec.endpoints.push_back(*common::parse_host_port(e, false, why));
    }
    spec.prefix =
        "/t" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    spec.request_timeout = 3s;
    return std::make_unique<etcd_store>(spec);
  }

  static inline test::etcd_cluster* etcd_ = nullptr;
  static inline std::string unavailable_;
};

TEST_F(etcd_store_test, revisions_and_versions_across_put_put_erase_put) {
  auto s = store();
  EXPECT_FALSE(s->get("/a"));
  EXPECT_TRUE(s->range("/").empty());
  const revision r0 = s->current_revision();
  auto t1 = s->txn({}, {put("/a", "1")});
  ASSERT_TRUE(t1.succeeded);
  EXPECT_EQ(t1.at, r0 + 1);
  auto t2 = s->txn({}, {put("/a", "2")});
  auto kv = s->get("/a");
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->key, "/a");
  EXPECT_EQ(kv->value, "2");
  EXPECT_EQ(kv->create_revision, t1.at);
  EXPECT_EQ(kv->mod_revision, t2.at);
  EXPECT_EQ(kv->version, 2);
  auto t3 = s->txn({}, {erase("/a")});
  EXPECT_EQ(t3.at, t2.at + 1);
  EXPECT_FALSE(s->get("/a"));
  auto t4 = s->txn({}, {put("/a", "3")});
  kv = s->get("/a");
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->create_revision, t4.at);
  EXPECT_EQ(kv->version, 1);
  EXPECT_EQ(s->current_revision(), t4.at);
}

TEST_F(etcd_store_test, range_takes_exactly_the_keys_under_the_prefix_in_key_order_and_bytes_survive) {
  auto s = store();
  const std::string binary("v\0\xff\x01", 4);
  ASSERT_TRUE(s->txn({}, {put("/apps/b", "2"), put("/apps/a", binary), put("/apps", "x"), put("/appsx", "y"),
                          put("/apps/\xff", "z")})
                  .succeeded);
  revision at = 0;
  auto kvs = s->range("/apps/", &at);
  ASSERT_EQ(kvs.size(), 3u);
  EXPECT_EQ(kvs[0].key, "/apps/a");
  EXPECT_EQ(kvs[0].value, binary);
  EXPECT_EQ(kvs[1].key, "/apps/b");
  EXPECT_EQ(kvs[2].key, "/apps/\xff");
  EXPECT_EQ(at, s->current_revision());
  // Another store's keys (another prefix) are never seen.
  EXPECT_EQ(s->range("/").size(), 5u);
}

TEST_F(etcd_store_test, compare_and_swap_and_a_failed_compare_applies_nothing_and_names_the_key) {
  auto s = store();
  auto created = s->txn({{"/k", 0}}, {put("/k", "1")});
  ASSERT_TRUE(created.succeeded);
  EXPECT_FALSE(s->txn({{"/k", 0}}, {put("/k", "again")}).succeeded) << "0 means absent";
  auto swapped = s->txn({{"/k", created.at}}, {put("/k", "2")});
  ASSERT_TRUE(swapped.succeeded);
  auto stale = s->txn({{"/k", created.at}}, {put("/k", "3")});
  EXPECT_FALSE(stale.succeeded);
  EXPECT_EQ(stale.failed_key, "/k");
  EXPECT_EQ(s->get("/k")->value, "2");

  auto both = s->txn({{"/k", swapped.at}, {"/other", 7}}, {put("/k", "4"), put("/new", "n")});
  EXPECT_FALSE(both.succeeded);
  EXPECT_EQ(both.failed_key, "/other");
  EXPECT_EQ(s->get("/k")->value, "2");
  EXPECT_FALSE(s->get("/new"));
}

TEST_F(etcd_store_test, a_batch_is_one_revision_and_the_last_operation_on_a_key_wins) {
  auto s = store();
  auto t = s->txn({}, {put("/a", "1"), put("/b", "1"), put("/a", "2"), erase("/b"), put("/c", "1")});
  ASSERT_TRUE(t.succeeded);
  EXPECT_EQ(s->get("/a")->value, "2");
  EXPECT_FALSE(s->get("/b"));
  EXPECT_EQ(s->get("/a")->mod_revision, t.at);
  EXPECT_EQ(s->get("/c")->mod_revision, t.at);
}

TEST_F(etcd_store_test, a_watch_delivers_each_txn_once_in_order_and_before_the_txn_returns) {
  auto s = store();
  recorder seen;
  auto w = s->watch("/apps/", s->current_revision(), seen.callback());
  auto t1 = s->txn({}, {put("/apps/a", "1"), put("/apps/b", "1")});
  // txn() returned: the watch has delivered it already.
  ASSERT_EQ(seen.revisions(), std::vector<revision>{t1.at});
  auto t2 = s->txn({}, {put("/other", "x")});  // not under the prefix
  auto t3 = s->txn({}, {erase("/apps/a")});
  ASSERT_EQ(seen.revisions(), (std::vector<revision>{t1.at, t3.at}));
  auto batches = seen.batches();
  ASSERT_EQ(batches[0].size(), 2u);
  EXPECT_EQ(batches[0][0].kv.key, "/apps/a");
  EXPECT_EQ(batches[0][0].kv.value, "1");
  EXPECT_EQ(batches[1][0].what, event::kind::erase);
  EXPECT_EQ(batches[1][0].kv.key, "/apps/a");
  (void)t2;
}

TEST_F(etcd_store_test, a_watch_from_an_older_revision_replays_what_came_after_it) {
  auto s = store();
  const auto before = s->current_revision();
  auto t1 = s->txn({}, {put("/x/1", "a")});
  auto t2 = s->txn({}, {put("/x/2", "b")});
  recorder seen;
  auto w = s->watch("/x/", before, seen.callback());
  ASSERT_TRUE(test::wait_until([&] { return seen.size() == 2; }, 5s));
  EXPECT_EQ(seen.revisions(), (std::vector<revision>{t1.at, t2.at}));
}

TEST_F(etcd_store_test, destroying_the_handle_stops_callbacks_and_a_callback_may_destroy_its_own) {
  auto s = store();
  recorder seen;
  auto w = s->watch("/", s->current_revision(), seen.callback());
  s->txn({}, {put("/a", "1")});
  w.reset();
  s->txn({}, {put("/a", "2")});
  EXPECT_EQ(seen.size(), 1u);

  std::mutex m;
  std::condition_variable cv;
  bool ran = false;
  std::unique_ptr<routing::state_store::watch_handle> self;
  self = s->watch("/", s->current_revision(), [&](const std::vector<event>&, revision) {
    std::lock_guard lock(m);
    self.reset();
    ran = true;
    cv.notify_all();
  });
  s->txn({}, {put("/a", "3")});
  std::unique_lock lock(m);
  EXPECT_TRUE(cv.wait_for(lock, 5s, [&] { return ran; }));
}

TEST_F(etcd_store_test, a_txn_from_a_callback_neither_deadlocks_nor_is_lost) {
  auto s = store();
  recorder seen;
  auto w = s->watch("/in/", s->current_revision(), [&](const std::vector<event>& events, revision at) {
    if (events.front().kv.key == "/in/first") s->txn({}, {put("/in/second", "from the callback")});
  });
  auto w2 = s->watch("/in/", s->current_revision(), seen.callback());
  s->txn({}, {put("/in/first", "1")});
  EXPECT_TRUE(test::wait_until([&] { return seen.size() == 2; }, 5s));
  EXPECT_EQ(s->get("/in/second")->value, "from the callback");
}

TEST_F(etcd_store_test, concurrent_compare_and_swap_loops_on_two_stores_lose_no_update) {
  auto a = store();
  auto b = store();
  a->txn({}, {put("/counter", "0")});
  auto loop = [](etcd_store& s) {
    for (int i = 0; i < 25; ++i) {
      for (;;) {
        auto kv = s.get("/counter");
        const int n = std::stoi(kv->value);
        if (s.txn({{"/counter", kv->mod_revision}}, {put("/counter", std::to_string(n + 1))}).succeeded) break;
      }
    }
  };
  std::thread ta([&] { loop(*a); });
  std::thread tb([&] { loop(*b); });
  ta.join();
  tb.join();
  EXPECT_EQ(a->get("/counter")->value, "50");
}

TEST_F(etcd_store_test, no_endpoint_answering_is_a_state_error_naming_them) {
  routing::etcd_spec spec;
  spec.endpoints.push_back({"127.0.0.1", 1});
  spec.request_timeout = 1s;
  try {
    etcd_store s(spec);
    ADD_FAILURE() << "no error";
  } catch (const state_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:1"), std::string::npos) << e.what();
  }
}

// A cluster of three, the store and its watch talking to `first` first.
class etcd_store_cluster : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto missing = test::etcd_cluster::missing_tools(); !missing.empty()) {
      if (test::container_tests_required()) FAIL() << missing;
      GTEST_SKIP() << missing;
    }
    etcd_ = std::make_unique<test::etcd_cluster>(3);
  }
  std::unique_ptr<etcd_store> store_starting_at(int first) {
    routing::etcd_spec spec;
    const auto endpoints = etcd_->endpoints();
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
      std::string why;
      spec.endpoints.push_back(*common::parse_host_port(endpoints[(first + i) % endpoints.size()], false, why));
    }
    spec.request_timeout = 3s;
    return std::make_unique<etcd_store>(spec);
  }
  std::unique_ptr<test::etcd_cluster> etcd_;
};

TEST_F(etcd_store_cluster, a_killed_follower_is_skipped_and_the_watch_resumes_without_a_gap) {
  const int leader = etcd_->leader();
  ASSERT_GE(leader, 0) << etcd_->output();
  const int follower = (leader + 1) % 3;
  auto s = store_starting_at(follower);
  recorder seen;
  auto w = s->watch("/", s->current_revision(), seen.callback());
  auto t1 = s->txn({}, {put("/a", "1")});
  etcd_->kill(follower);  // the member both the store and the watch talk to
  std::vector<revision> want{t1.at};
  for (int i = 2; i <= 4; ++i) want.push_back(s->txn({}, {put("/a", std::to_string(i))}).at);
  EXPECT_TRUE(test::wait_until([&] { return seen.size() == want.size(); }, 10s)) << etcd_->output();
  EXPECT_EQ(seen.revisions(), want);
  EXPECT_EQ(s->get("/a")->value, "4");
}

// Killing the leader stops writes until the others elect one (etcd's own behaviour): a
// write meanwhile fails with a state_error, and succeeds again after the election; no
// acknowledged write is lost and the watch misses nothing.
TEST_F(etcd_store_cluster, a_killed_leader_stalls_writes_only_until_an_election) {
  const int leader = etcd_->leader();
  ASSERT_GE(leader, 0) << etcd_->output();
  auto s = store_starting_at(leader);
  recorder seen;
  auto w = s->watch("/", s->current_revision(), seen.callback());
  std::vector<revision> acknowledged{s->txn({}, {put("/a", "1")}).at};
  etcd_->kill(leader);
  bool written = test::wait_until(
      [&] {
        try {
          acknowledged.push_back(s->txn({}, {put("/b", "after")}).at);
          return true;
        } catch (const state_error&) {
          return false;  // no leader yet
        }
      },
      20s);
  ASSERT_TRUE(written) << etcd_->output();
  EXPECT_EQ(s->get("/a")->value, "1");
  EXPECT_EQ(s->get("/b")->value, "after");
  EXPECT_TRUE(test::wait_until([&] { return seen.size() >= acknowledged.size(); }, 10s));
  auto revs = seen.revisions();
  for (auto r : acknowledged) EXPECT_NE(std::find(revs.begin(), revs.end(), r), revs.end()) << r;
}

}  // namespace
}  // namespace ignite::cluster
