// The embedded state store: keys, revisions, compare-and-swap, watch, persistence, threads,
// errors, and durability across kill -9 of a real writer process.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <latch>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "routing/sqlite_store.hpp"

namespace ignite::routing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A private directory under the system temp dir, removed with everything in it.
class temp_dir {
 public:
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "ignite-store-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const fs::path& path() const { return path_; }
  fs::path file() const { return path_ / "state.db"; }

 private:
  fs::path path_;
};

operation put(std::string key, std::string value) { return {operation::kind::put, std::move(key), std::move(value)}; }
operation erase(std::string key) { return {operation::kind::erase, std::move(key), {}}; }

std::string printable(std::string_view bytes) {
  std::string out;
  for (const unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

// "key=value c<create> m<mod> v<version>": comparable, and readable when a check fails.
std::string show(const key_value& kv) {
  return printable(kv.key) + "=" + printable(kv.value) + " c" + std::to_string(kv.create_revision) + " m" +
         std::to_string(kv.mod_revision) + " v" + std::to_string(kv.version);
}
std::string show(const std::optional<key_value>& kv) { return kv ? show(*kv) : "(none)"; }
std::vector<std::string> show(const std::vector<key_value>& list) {
  std::vector<std::string> out;
  for (const auto& kv : list) out.push_back(show(kv));
  return out;
}
std::string show(const event& e) { return (e.what == event::kind::put ? "put " : "erase ") + show(e.kv); }

std::vector<std::string> keys(const std::vector<key_value>& list) {
  std::vector<std::string> out;
  for (const auto& kv : list) out.push_back(kv.key);
  return out;
}

// What a watch delivered: one line per callback, "@<at>: <event>; <event>", and the
// threads it ran on.
class recorder {
 public:
  state_store::watch_callback callback() {
    return [this](const std::vector<event>& events, revision at) {
      std::string line = "@" + std::to_string(at) + ":";
      for (const auto& e : events) line += " " + show(e) + ";";
      std::lock_guard lock(mutex_);
      lines_.push_back(line);
      revisions_.push_back(at);
      threads_[at] = std::this_thread::get_id();
    };
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  std::vector<revision> revisions() const {
    std::lock_guard lock(mutex_);
    return revisions_;
  }
  std::map<revision, std::thread::id> threads() const {
    std::lock_guard lock(mutex_);
    return threads_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  std::vector<revision> revisions_;
  std::map<revision, std::thread::id> threads_;
};

// ---------------------------------------------------------------------------------------
// Keys and revisions.

TEST(sqlite_store, an_empty_store_is_at_revision_0_and_holds_nothing) {
  temp_dir dir;
  sqlite_store store(dir.file());
  EXPECT_EQ(store.current_revision(), 0);
  EXPECT_FALSE(store.get("/apps/a"));
  revision at = -1;
  EXPECT_TRUE(store.range("", &at).empty());
  EXPECT_EQ(at, 0);
}

TEST(sqlite_store, revisions_and_versions_across_put_put_erase_put) {
  temp_dir dir;
  sqlite_store store(dir.file());

  auto r = store.txn({}, {put("/apps/a", "one")});
  EXPECT_TRUE(r.succeeded);
  EXPECT_EQ(r.at, 1);
  EXPECT_EQ(show(store.get("/apps/a")), "/apps/a=one c1 m1 v1");

  r = store.txn({}, {put("/apps/b", "bee")});
  EXPECT_EQ(r.at, 2);
  r = store.txn({}, {put("/apps/a", "two")});
  EXPECT_EQ(r.at, 3);
  EXPECT_EQ(show(store.get("/apps/a")), "/apps/a=two c1 m3 v2");
  EXPECT_EQ(show(store.get("/apps/b")), "/apps/b=bee c2 m2 v1");

  r = store.txn({}, {erase("/apps/a")});
  EXPECT_EQ(r.at, 4);
  EXPECT_FALSE(store.get("/apps/a"));

  // Created again: a new life, counted from its new creation.
  r = store.txn({}, {put("/apps/a", "three")});
  EXPECT_EQ(r.at, 5);
  EXPECT_EQ(show(store.get("/apps/a")), "/apps/a=three c5 m5 v1");
  EXPECT_EQ(store.current_revision(), 5);
}

TEST(sqlite_store, range_takes_exactly_the_keys_under_the_prefix_in_key_order) {
  temp_dir dir;
  sqlite_store store(dir.file());
  store.txn({}, {put("/apps/b", "2"), put("/apps/a/x", "3"), put("/apps/a", "1"), put("/apps/", "0"),
                 put("/apps", "no"), put("/apps0", "no"), put("/app", "no"), put("/apps.", "no"),
                 put("/apps/\xff", "4"), put("/apps/\xff\xff", "5"), put("/apps0/x", "no")});

  EXPECT_EQ(keys(store.range("/apps/")),
            (std::vector<std::string>{"/apps/", "/apps/a", "/apps/a/x", "/apps/b", "/apps/\xff", "/apps/\xff\xff"}));
  EXPECT_EQ(keys(store.range("/apps/a")), (std::vector<std::string>{"/apps/a", "/apps/a/x"}));
  EXPECT_EQ(keys(store.range("/apps/a/x")), (std::vector<std::string>{"/apps/a/x"}));
  EXPECT_TRUE(store.range("/apps/c").empty());
  EXPECT_EQ(store.range("").size(), 11u);
  EXPECT_EQ(keys(store.range("/apps/\xff")), (std::vector<std::string>{"/apps/\xff", "/apps/\xff\xff"}));
}

TEST(sqlite_store, a_prefix_of_0xff_bytes_has_no_upper_bound_to_compute) {
  temp_dir dir;
  sqlite_store store(dir.file());
  using namespace std::string_literals;  // the keys hold NUL bytes
  store.txn({}, {put("\xff"s, "a"), put("\xff\xff"s, "b"), put("\xff\xff\x00\x01"s, "c"), put("\xfe\xff"s, "no"),
                 put("\xff\x00"s, "d")});
  EXPECT_EQ(keys(store.range("\xff\xff")), (std::vector<std::string>{"\xff\xff"s, "\xff\xff\x00\x01"s}));
  EXPECT_EQ(store.range("\xff").size(), 4u);
}

TEST(sqlite_store, keys_and_values_are_bytes) {
  temp_dir dir;
  sqlite_store store(dir.file());
  const std::string key("/k/\0/\x80", 6);
  const std::string value("a\0b\xff", 4);
  store.txn({}, {put(key, value), put("/k/empty", "")});
  const auto kv = store.get(key);
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->key, key);
  EXPECT_EQ(kv->value, value);
  const auto empty = store.get("/k/empty");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->value, "");
  EXPECT_FALSE(store.get(std::string("/k/\0", 4)));
  EXPECT_FALSE(store.get(""));
}

TEST(sqlite_store, range_reports_the_revision_it_read_at) {
  temp_dir dir;
  sqlite_store store(dir.file());
  store.txn({}, {put("/a", "1")});
  store.txn({}, {put("/b", "2")});
  revision at = 0;
  EXPECT_EQ(store.range("/", &at).size(), 2u);
  EXPECT_EQ(at, 2);
}

TEST(sqlite_store, erasing_a_missing_key_changes_nothing_but_takes_a_revision) {
  temp_dir dir;
  sqlite_store store(dir.file());
  store.txn({}, {put("/a", "1")});
  recorder seen;
  const auto watch = store.watch("", 1, seen.callback());

  const auto r = store.txn({}, {erase("/missing")});
  EXPECT_TRUE(r.succeeded);
  EXPECT_EQ(r.at, 2);
  EXPECT_EQ(store.current_revision(), 2);
  EXPECT_EQ(show(store.get("/a")), "/a=1 c1 m1 v1");
  EXPECT_TRUE(seen.lines().empty());  // no event, so no callback
}

TEST(sqlite_store, a_txn_without_operations_only_checks_its_compares) {
  temp_dir dir;
  sqlite_store store(dir.file());
  store.txn({}, {put("/a", "1")});
  auto r = store.txn({compare{"/a", 1}}, {});
  EXPECT_TRUE(r.succeeded);
  EXPECT_EQ(r.at, 1);
  r = store.txn({compare{"/a", 0}}, {});
  EXPECT_FALSE(r.succeeded);
  EXPECT_EQ(r.failed_key, "/a");
  EXPECT_EQ(store.current_revision(), 1);
}

// ---------------------------------------------------------------------------------------
// Compare-and-swap and atomicity.

TEST(sqlite_store, compare_with_0_creates_only_if_absent) {
  temp_dir dir;
  sqlite_store store(dir.file());
  auto r = store.txn({compare{"/apps/a", 0}}, {put("/apps/a", "first")});
  EXPECT_TRUE(r.succeeded);
  r = store.txn({compare{"/apps/a", 0}}, {put("/apps/a", "second")});
  EXPECT_FALSE(r.succeeded);
  EXPECT_EQ(r.failed_key, "/apps/a");
  EXPECT_EQ(r.at, 1);
  EXPECT_EQ(show(store.get("/apps/a")), "/apps/a=first c1 m1 v1");
}

TEST(sqlite_store, compare_and_swap_applies_only_at_the_compared_revision) {
  temp_dir dir;
  sqlite_store store(dir.file());
  store.txn({}, {put("/apps/a", "v1")});
  store.txn({}, {put("/other", "x")});

  auto r = store.txn({compare{"/apps/a", 1}}, {put("/apps/a", "v2")});
  EXPECT_TRUE(r.succeeded);
  EXPECT_EQ(r.at, 3);
  EXPECT_TRUE(r.failed_key.empty());

  // Stale: someone wrote at 3 since.
  r = store.txn({compare{"/apps/a", 1}}, {put("/apps/a", "lost")});
  EXPECT_FALSE(r.succeeded);
  EXPECT_EQ(r.failed_key, "/apps/a");
  EXPECT_EQ(r.at, 3);
  EXPECT_EQ(show(store.get("/apps/a")), "/apps/a=v2 c1 m3 v2");

  // A key that is gone has no revision to match.
  store.txn({}, {erase("/apps/a")});
  r = store.txn({compare{"/apps/a", 3}}, {put("/apps/a", "back")});
  EXPECT_FALSE(r.succeeded);
  EXPECT_FALSE(store.get("/apps/a"));
}

TEST(sqlite_store, a_failed_compare_applies_nothing_and_names_the_first_failing_key) {
  temp_dir dir;
  sqlite_store store(dir.file());
  store.txn({}, {put("/a", "1"), put("/b", "1"), put("/c", "1")});
  recorder seen;
  const auto watch = store.watch("", 1, seen.callback());
  const auto before = show(store.range(""));

  const auto r = store.txn({compare{"/a", 1}, compare{"/b", 7}, compare{"/c", 9}},
                           {put("/a", "2"), erase("/c"), put("/new", "x")});
  EXPECT_FALSE(r.succeeded);
  EXPECT_EQ(r.failed_key, "/b");
  EXPECT_EQ(r.at, 1);
  EXPECT_EQ(store.current_revision(), 1);
  EXPECT_EQ(show(store.range("")), before);
  EXPECT_TRUE(seen.lines().empty());

  // The next success takes the next revision: the failure used none.
  EXPECT_EQ(store.txn({}, {put("/d", "1")}).at, 2);
}

TEST(sqlite_store, a_batch_is_one_revision_and_one_callback) {
  temp_dir dir;
  sqlite_store store(dir.file());
  store.txn({}, {put("/apps/old", "x"), put("/apps/kept", "k")});
  recorder seen;
  const auto watch = store.watch("/apps/", 1, seen.callback());

  const auto r = store.txn({compare{"/apps/kept", 1}},
                           {put("/apps/a", "A"), put("/apps/b", "B"), erase("/apps/old"), put("/apps/kept", "k2")});
  ASSERT_TRUE(r.succeeded);
  EXPECT_EQ(r.at, 2);
  EXPECT_EQ(show(store.range("/apps/")),
            (std::vector<std::string>{"/apps/a=A c2 m2 v1", "/apps/b=B c2 m2 v1", "/apps/kept=k2 c1 m2 v2"}));
  EXPECT_EQ(seen.lines(), (std::vector<std::string>{"@2: put /apps/a=A c2 m2 v1; put /apps/b=B c2 m2 v1; erase "
                                                    "/apps/old= c0 m2 v0; put /apps/kept=k2 c1 m2 v2;"}));
}

TEST(sqlite_store, operations_on_one_key_apply_in_order) {
  temp_dir dir;
  sqlite_store store(dir.file());
  store.txn({}, {put("/a", "1"), put("/a", "2"), put("/b", "x"), erase("/b")});
  EXPECT_EQ(show(store.get("/a")), "/a=2 c1 m1 v2");
  EXPECT_FALSE(store.get("/b"));
  store.txn({}, {erase("/a"), put("/a", "new")});
  EXPECT_EQ(show(store.get("/a")), "/a=new c2 m2 v1");
}

// ---------------------------------------------------------------------------------------
// Watch.

TEST(sqlite_store_watch, replays_what_was_committed_after_the_revision_then_delivers_live_changes) {
  temp_dir dir;
  sqlite_store store(dir.file());
  store.txn({}, {put("/apps/a", "1")});                       // 1
  store.txn({}, {put("/other", "x")});                        // 2: not under the prefix
  store.txn({}, {put("/apps/b", "1"), put("/apps/a", "2")});  // 3
  store.txn({}, {erase("/apps/b")});                          // 4

  recorder all;
  const auto from_start = store.watch("/apps/", 0, all.callback());
  EXPECT_EQ(all.lines(), (std::vector<std::string>{"@1: put /apps/a=1 c1 m1 v1;",
                                                   "@3: put /apps/b=1 c3 m3 v1; put /apps/a=2 c1 m3 v2;",
                                                   "@4: erase /apps/b= c0 m4 v0;"}));
  recorder later;
  const auto from_3 = store.watch("/apps/", 3, later.callback());
  EXPECT_EQ(later.lines(), (std::vector<std::string>{"@4: erase /apps/b= c0 m4 v0;"}));

  const auto r = store.txn({}, {put("/apps/c", "1")});
  EXPECT_EQ(all.lines().back(), "@5: put /apps/c=1 c5 m5 v1;");
  EXPECT_EQ(later.lines().back(), "@5: put /apps/c=1 c5 m5 v1;");
  // Live callbacks run on the committing thread, before txn() returns.
  EXPECT_EQ(all.threads().at(r.at), std::this_thread::get_id());
}

TEST(sqlite_store_watch, sees_only_its_prefix_and_is_not_called_without_events) {
  temp_dir dir;
  sqlite_store store(dir.file());
  recorder apps, secrets, everything;
  const auto w1 = store.watch("/apps/", 0, apps.callback());
  const auto w2 = store.watch("/secrets/", 0, secrets.callback());
  const auto w3 = store.watch("", 0, everything.callback());

  store.txn({}, {put("/apps/a", "1"), put("/secrets/s", "2"), put("/apps0", "3")});
  store.txn({}, {put("/tokens/t", "4")});

  EXPECT_EQ(apps.lines(), (std::vector<std::string>{"@1: put /apps/a=1 c1 m1 v1;"}));
  EXPECT_EQ(secrets.lines(), (std::vector<std::string>{"@1: put /secrets/s=2 c1 m1 v1;"}));
  EXPECT_EQ(everything.revisions(), (std::vector<revision>{1, 2}));
}

TEST(sqlite_store_watch, from_a_future_revision_waits_for_it) {
  temp_dir dir;
  sqlite_store store(dir.file());
  recorder seen;
  const auto watch = store.watch("", 2, seen.callback());
  store.txn({}, {put("/a", "1")});
  store.txn({}, {put("/a", "2")});
  store.txn({}, {put("/a", "3")});
  EXPECT_EQ(seen.revisions(), (std::vector<revision>{3}));
}

TEST(sqlite_store_watch, older_than_the_log_holds_is_compacted) {
  temp_dir dir;
  {
    sqlite_store store(dir.file(), {.log_revisions = 3});
    for (int i = 1; i <= 6; ++i) store.txn({}, {put("/a", std::to_string(i))});
    // The log holds 4, 5, 6: watching after 3 replays them all, after 2 would miss 3.
    try {
      store.watch("/", 2, [](const auto&, revision) {});
      ADD_FAILURE() << "watch from a trimmed revision did not throw";
    } catch (const state_error& e) {
      EXPECT_NE(std::string(e.what()).find("compacted"), std::string::npos) << e.what();
    }
    recorder seen;
    const auto watch = store.watch("/", 3, seen.callback());
    EXPECT_EQ(seen.revisions(), (std::vector<revision>{4, 5, 6}));
  }
  // The trimming survives a restart.
  sqlite_store store(dir.file(), {.log_revisions = 3});
  EXPECT_THROW(store.watch("/", 0, [](const auto&, revision) {}), state_error);
  recorder seen;
  const auto watch = store.watch("/", 3, seen.callback());
  EXPECT_EQ(seen.revisions(), (std::vector<revision>{4, 5, 6}));
}

TEST(sqlite_store_watch, destroying_the_handle_stops_callbacks) {
  temp_dir dir;
  sqlite_store store(dir.file());
  recorder seen;
  auto watch = store.watch("", 0, seen.callback());
  store.txn({}, {put("/a", "1")});
  watch.reset();
  store.txn({}, {put("/a", "2")});
  EXPECT_EQ(seen.revisions(), (std::vector<revision>{1}));
}

TEST(sqlite_store_watch, a_handle_may_outlive_the_store) {
  temp_dir dir;
  recorder seen;
  std::unique_ptr<state_store::watch_handle> watch;
  {
    sqlite_store store(dir.file());
    watch = store.watch("", 0, seen.callback());
    store.txn({}, {put("/a", "1")});
  }
  watch.reset();
  EXPECT_EQ(seen.revisions(), (std::vector<revision>{1}));
}

TEST(sqlite_store_watch, destroying_the_handle_waits_for_a_callback_running_on_another_thread) {
  temp_dir dir;
  sqlite_store store(dir.file());
  std::mutex mutex;
  std::condition_variable changed;
  bool entered = false, destroying = false, destroyed = false, finished = false;
  bool destroyed_while_running = false;

  auto watch = store.watch("", 0, [&](const std::vector<event>&, revision) {
    std::unique_lock lock(mutex);
    entered = true;
    changed.notify_all();
    changed.wait_for(lock, 10s, [&] { return destroying; });
    // A destructor that does not wait for this callback returns within this window.
    changed.wait_for(lock, 200ms, [&] { return destroyed; });
    destroyed_while_running = destroyed;
    finished = true;
  });
  std::thread committer([&] { store.txn({}, {put("/a", "1")}); });
  {
    std::unique_lock lock(mutex);
    EXPECT_TRUE(changed.wait_for(lock, 10s, [&] { return entered; }));
    destroying = true;
  }
  changed.notify_all();
  watch.reset();
  bool finished_when_destroyed = false;
  {
    std::lock_guard lock(mutex);
    destroyed = true;
    finished_when_destroyed = finished;
  }
  changed.notify_all();
  committer.join();
  EXPECT_TRUE(finished_when_destroyed);
  EXPECT_FALSE(destroyed_while_running);
}

TEST(sqlite_store_watch, a_callback_may_destroy_its_own_handle) {
  temp_dir dir;
  sqlite_store store(dir.file());
  int calls = 0;
  std::unique_ptr<state_store::watch_handle> watch;
  watch = store.watch("", 0, [&](const std::vector<event>&, revision) {
    ++calls;
    watch.reset();  // must not wait for itself
  });
  store.txn({}, {put("/a", "1")});
  store.txn({}, {put("/a", "2")});
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(watch);
}

TEST(sqlite_store_watch, a_txn_from_a_callback_is_refused_not_deadlocked) {
  temp_dir dir;
  sqlite_store store(dir.file());
  std::string refused;
  const auto watch = store.watch("", 0, [&](const std::vector<event>&, revision) {
    try {
      store.txn({}, {put("/from-callback", "x")});
    } catch (const state_error& e) {
      refused = e.what();
    }
  });
  store.txn({}, {put("/a", "1")});
  EXPECT_NE(refused.find("watch callback"), std::string::npos) << refused;
  EXPECT_FALSE(store.get("/from-callback"));
}

TEST(sqlite_store_watch, a_throwing_callback_neither_undoes_the_commit_nor_starves_other_watchers) {
  temp_dir dir;
  sqlite_store store(dir.file());
  const auto thrower = store.watch(
      "", 0, [](const std::vector<event>&, revision) { throw std::runtime_error("callback failed on purpose"); });
  recorder seen;
  const auto watch = store.watch("", 0, seen.callback());
  const auto r = store.txn({}, {put("/a", "1")});
  EXPECT_TRUE(r.succeeded);
  EXPECT_EQ(show(store.get("/a")), "/a=1 c1 m1 v1");
  EXPECT_EQ(seen.revisions(), (std::vector<revision>{1}));
  EXPECT_EQ(store.txn({}, {put("/a", "2")}).at, 2);  // the turn passed on
}

// ---------------------------------------------------------------------------------------
// Persistence, threads, errors.

TEST(sqlite_store, everything_survives_close_and_reopen) {
  temp_dir dir;
  std::vector<std::string> state, history;
  {
    sqlite_store store(dir.file());
    store.txn({}, {put("/apps/a", "1")});
    store.txn({}, {put("/apps/b", "1"), put("/secrets/s", "x")});
    store.txn({}, {put("/apps/a", "2")});
    store.txn({}, {erase("/apps/b")});
    store.txn({}, {erase("/nothing")});
    state = show(store.range(""));
    recorder seen;
    store.watch("", 0, seen.callback());
    history = seen.lines();
  }
  ASSERT_EQ(history.size(), 4u);  // revision 5 erased nothing

  sqlite_store store(dir.file());
  EXPECT_EQ(store.current_revision(), 5);
  EXPECT_EQ(show(store.range("")), state);
  recorder seen;
  store.watch("", 0, seen.callback());
  EXPECT_EQ(seen.lines(), history);
  EXPECT_EQ(store.txn({}, {put("/apps/a", "3")}).at, 6);
  EXPECT_EQ(show(store.get("/apps/a")), "/apps/a=3 c1 m6 v3");
}

TEST(sqlite_store, concurrent_compare_and_swap_loops_lose_no_update) {
  temp_dir dir;
  sqlite_store store(dir.file());
  constexpr int k_threads = 4;
  constexpr int k_increments = 25;
  recorder seen;
  const auto watch = store.watch("/counter", 0, seen.callback());

  std::latch start(k_threads);
  std::atomic<int> conflicts{0};
  std::mutex committed_mutex;
  std::map<revision, std::thread::id> committed_on;
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t)
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < k_increments; ++i) {
        for (;;) {  // read, modify, compare-and-swap; again on conflict
          const auto kv = store.get("/counter");
          const int value = kv ? std::stoi(kv->value) : 0;
          const auto r =
              store.txn({compare{"/counter", kv ? kv->mod_revision : 0}}, {put("/counter", std::to_string(value + 1))});
          if (r.succeeded) {
            std::lock_guard lock(committed_mutex);
            committed_on[r.at] = std::this_thread::get_id();
            break;
          }
          EXPECT_EQ(r.failed_key, "/counter");
          ++conflicts;
        }
      }
    });
  for (auto& t : threads) t.join();

  constexpr int k_total = k_threads * k_increments;
  const auto counter = store.get("/counter");
  ASSERT_TRUE(counter);
  EXPECT_EQ(counter->value, std::to_string(k_total));
  EXPECT_EQ(counter->version, k_total);
  EXPECT_EQ(store.current_revision(), k_total);  // failed attempts took no revision
  // Every revision reached the watcher once, in order, on the thread that committed it.
  std::vector<revision> expected;
  for (revision r = 1; r <= k_total; ++r) expected.push_back(r);
  EXPECT_EQ(seen.revisions(), expected);
  EXPECT_EQ(seen.threads(), committed_on);
  std::printf("[          ] %d compare failures retried\n", conflicts.load());
}

TEST(sqlite_store, creates_missing_parent_directories) {
  temp_dir dir;
  const auto file = dir.path() / "a" / "b" / "state.db";
  {
    sqlite_store store(file);
    store.txn({}, {put("/a", "1")});
  }
  EXPECT_TRUE(fs::is_regular_file(file));
  sqlite_store store(file);
  EXPECT_EQ(store.current_revision(), 1);
}

TEST(sqlite_store, a_file_that_cannot_be_opened_is_a_state_error_naming_it) {
  temp_dir dir;
  const auto where = dir.path() / "is-a-directory";
  fs::create_directory(where);
  try {
    sqlite_store store(where);
    ADD_FAILURE() << "opened a directory";
  } catch (const state_error& e) {
    EXPECT_NE(std::string(e.what()).find(where.string()), std::string::npos) << e.what();
  }
}

TEST(sqlite_store, a_file_that_is_not_a_database_is_a_state_error_naming_it) {
  temp_dir dir;
  {
    std::ofstream out(dir.file(), std::ios::binary);
    out << std::string(8192, 'x');
  }
  try {
    sqlite_store store(dir.file());
    ADD_FAILURE() << "opened a file of garbage";
  } catch (const state_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(dir.file().string()), std::string::npos) << what;
    EXPECT_NE(what.find("not a database"), std::string::npos) << what;
  }
}

TEST(sqlite_store, a_second_store_on_the_same_file_is_refused_until_the_first_closes) {
  temp_dir dir;
  auto first = std::make_unique<sqlite_store>(dir.file());
  first->txn({}, {put("/a", "1")});
  try {
    sqlite_store second(dir.file(), {.busy_timeout = 50ms});
    ADD_FAILURE() << "two stores on one file";
  } catch (const state_error& e) {
    EXPECT_NE(std::string(e.what()).find("locked"), std::string::npos) << e.what();
  }
  first.reset();
  sqlite_store second(dir.file(), {.busy_timeout = 50ms});
  EXPECT_EQ(second.current_revision(), 1);
}

TEST(sqlite_store, log_revisions_must_be_positive) {
  temp_dir dir;
  EXPECT_THROW(sqlite_store(dir.file(), {.log_revisions = 0}), state_error);
}

// ---------------------------------------------------------------------------------------
// kill -9.

// tests/support/store_writer as a child process, its stdout read here: every number it
// prints is a write txn() acknowledged. Killed and reaped by the destructor at the latest;
// dies with the test process (PR_SET_PDEATHSIG).
class writer_process {
 public:
  explicit writer_process(const fs::path& state_file) {
    std::vector<std::string> args{IGNITE_STORE_WRITER_BIN, state_file.string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      ::dup2(fds[1], STDOUT_FILENO);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~writer_process() {
    if (pid_ > 0) kill_and_reap();
    if (fd_ >= 0) ::close(fd_);
  }
  writer_process(const writer_process&) = delete;
  writer_process& operator=(const writer_process&) = delete;

  // Reads acknowledgements until there are `count`, the output ends, or `cap` passes.
  bool wait_acknowledged(std::size_t count, std::chrono::milliseconds cap) {
    const auto deadline = std::chrono::steady_clock::now() + cap;
    while (acknowledged_.size() < count)
      if (!read_some(deadline)) return false;
    return true;
  }

  // SIGKILL, then every acknowledgement printed before death, then the wait status.
  int kill_and_reap() {
    ::kill(pid_, SIGKILL);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (read_some(deadline)) {
    }
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

  const std::vector<revision>& acknowledged() const { return acknowledged_; }

 private:
  // One read of what is available; false at the end of the output or the deadline.
  bool read_some(std::chrono::steady_clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) return true;
    if (ready <= 0) return false;
    char buf[4096];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) return false;
    partial_.append(buf, static_cast<std::size_t>(n));
    for (std::size_t nl; (nl = partial_.find('\n')) != std::string::npos; partial_.erase(0, nl + 1))
      acknowledged_.push_back(std::stoll(partial_.substr(0, nl)));
    return true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  std::string partial_;
  std::vector<revision> acknowledged_;
};

// PRAGMA integrity_check's answer ("ok" when sound), through a connection of our own.
std::string integrity_check(const fs::path& file) {
  sqlite3* db = nullptr;
  std::string result;
  if (::sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    result = std::string("cannot open: ") + ::sqlite3_errmsg(db);
  } else {
    char* error = nullptr;
    auto row = [](void* out, int, char** values, char**) {
      auto& text = *static_cast<std::string*>(out);
      if (!text.empty()) text += "\n";
      text += values[0] ? values[0] : "NULL";
      return 0;
    };
    if (::sqlite3_exec(db, "PRAGMA integrity_check", row, &result, &error) != SQLITE_OK)
      result = std::string("failed: ") + (error ? error : "");
    ::sqlite3_free(error);
  }
  ::sqlite3_close(db);
  return result;
}

std::string write_key(revision n) {
  char key[32];
  std::snprintf(key, sizeof key, "/writes/%08lld", static_cast<long long>(n));
  return key;
}

TEST(sqlite_store_durability, kill_9_mid_burst_loses_no_acknowledged_write) {
  temp_dir dir;
  // How many acknowledgements to wait for before each kill: mid-burst at different
  // moments (and so at different points of the WAL's checkpoints), and right after the
  // first write of a restart.
  const std::size_t kills_after[] = {300, 150, 450, 1, 250};
  std::vector<revision> acknowledged;
  for (const auto after : kills_after) {
    SCOPED_TRACE("kill after " + std::to_string(after) + " acknowledgements");
    int status = 0;
    {
      writer_process writer(dir.file());
      ASSERT_TRUE(writer.wait_acknowledged(after, 60s)) << writer.acknowledged().size() << " acknowledged";
      status = writer.kill_and_reap();
      acknowledged.insert(acknowledged.end(), writer.acknowledged().begin(), writer.acknowledged().end());
    }
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "writer ended with status " << status;

    const revision last_acknowledged = acknowledged.back();
    revision now = 0;
    {
      sqlite_store store(dir.file());
      now = store.current_revision();
      std::printf("[          ] killed at revision %lld, last acknowledged write %lld\n", static_cast<long long>(now),
                  static_cast<long long>(last_acknowledged));
      // At most the one write committed between txn() and the print that the kill cut off.
      EXPECT_GE(now, last_acknowledged);
      EXPECT_LE(now, last_acknowledged + 1);

      for (const auto n : acknowledged) {
        const auto kv = store.get(write_key(n));
        ASSERT_TRUE(kv) << "acknowledged write " << n << " is lost";
        EXPECT_EQ(kv->value, std::to_string(n));
        EXPECT_EQ(kv->mod_revision, n);
      }
      // Each revision committed exactly one numbered key: none missing, none twice.
      const auto writes = store.range("/writes/");
      ASSERT_EQ(writes.size(), static_cast<std::size_t>(now));
      for (revision n = 1; n <= now; ++n) EXPECT_EQ(writes[n - 1].key, write_key(n));
      EXPECT_EQ(show(store.get("/last")),
                "/last=" + std::to_string(now) + " c1 m" + std::to_string(now) + " v" + std::to_string(now));

      // The kept log: one batch per revision, consecutive, each the two puts of its write.
      const revision from = std::max<revision>(0, now - 9'000);
      std::vector<revision> logged;
      bool batches_whole = true;
      store.watch("", from, [&](const std::vector<event>& events, revision at) {
        logged.push_back(at);
        batches_whole = batches_whole && events.size() == 2 && events[0].kv.key == "/last" &&
                        events[1].kv.key == write_key(at) && events[1].kv.value == std::to_string(at);
      });
      std::vector<revision> expected;
      for (revision r = from + 1; r <= now; ++r) expected.push_back(r);
      EXPECT_EQ(logged, expected);
      EXPECT_TRUE(batches_whole);
    }
    EXPECT_EQ(integrity_check(dir.file()), "ok");
  }
}

}  // namespace
}  // namespace ignite::routing
