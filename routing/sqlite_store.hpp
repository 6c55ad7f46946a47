#pragma once
// The embedded state store: one SQLite file at `state_file`, for a single proxy.
//
// On disk: the current keys (key, value, create_revision, mod_revision, version), a change
// log (one row per event, keyed by revision) for watch(), and the store-wide revision.
// journal_mode=WAL and synchronous=FULL: txn() returns only once its commit is fsynced to
// the WAL, so an acknowledged change survives kill -9 (and power loss); a crash mid-commit
// leaves the previous revision, never half a batch.
//
// Revisions: an empty store is at revision 0; the first committed txn is revision 1, and
// every committed txn with at least one operation takes the next one, even if all it did
// was erase keys that did not exist (then it has no events). A txn with no operations
// only checks its compares and writes nothing: it succeeds or fails at the current
// revision. No key ever has mod_revision 0, so compare{key, 0} means "key is absent".
//
// Log trimming: the log keeps the last `log_revisions` revisions; older ones are deleted
// in the transaction that commits a newer one. watch() from a revision older than that
// throws state_error("... compacted ..."): read the current state with range() and watch
// from the revision it returns.
//
// Threads: one connection behind a mutex (the control plane writes rarely; the request
// path never reads the store). The file is opened with locking_mode=EXCLUSIVE: a second
// store (in this process or another) on the same file fails with state_error instead of
// writing behind this one's back; the lock dies with the process, so a restart after
// kill -9 opens the file at once.
//
// Watch callbacks run on the committing thread after COMMIT, outside the store's mutex,
// one txn at a time in revision order (a committer waits for the one before it to finish
// its callbacks). txn() called from a callback throws state_error rather than deadlock.
// A callback that throws is logged and does not affect the committed txn.
//
// Errors from SQLite (cannot open, disk full, corrupt file, locked by another process)
// throw state_error naming the file and SQLite's message.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "routing/state_store.hpp"

struct sqlite3;

namespace ignite::routing {

struct sqlite_store_options {
  // How many revisions of change log watch() can replay. At least 1.
  std::int64_t log_revisions = 10'000;
  // How long opening waits for another process that still holds the file (a previous
  // instance shutting down) before it fails.
  std::chrono::milliseconds busy_timeout{5'000};
  // false only for tools that fill a store in bulk (bench/state_fill): commits are not
  // flushed to disk. The proxy always opens its store durable.
  bool durable = true;
};

class sqlite_store final : public state_store {
 public:
  // Opens (creating it and its parent directories if missing) the store at `path`.
  // Throws state_error if the file cannot be opened, is not a store, or is in use.
  explicit sqlite_store(std::filesystem::path path, sqlite_store_options options = {});
  ~sqlite_store() override;
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  std::optional<key_value> get(std::string_view key) override;
  std::vector<key_value> range(std::string_view prefix, revision* at = nullptr) override;
  txn_result txn(const std::vector<compare>& compares, const std::vector<operation>& operations) override;
  // 0 for an empty store.
  revision current_revision() override;
  // Throws state_error containing "compacted" if `after` is older than the log holds.
  std::unique_ptr<watch_handle> watch(std::string_view prefix, revision after, watch_callback on_change) override;

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  struct statements;
  struct watcher;
  class watcher_list;
  class handle;
  struct delivery;

  void open(const sqlite_store_options& options);
  void create_schema();
  std::vector<delivery> commit_operations(const std::vector<operation>& operations, revision& committed);
  void deliver(revision at, std::vector<delivery> deliveries);

  std::filesystem::path path_;
  std::int64_t log_revisions_;

  std::mutex mutex_;  // guards the connection, its statements, revision_ and compacted_
  sqlite3* db_ = nullptr;
  std::unique_ptr<statements> stmts_;
  revision revision_ = 0;   // the last committed revision
  revision compacted_ = 0;  // the log holds every revision after this one

  std::shared_ptr<watcher_list> watchers_;  // shared with the handles, which may outlive the store

  // Committers take turns, in revision order, to run callbacks.
  std::mutex turn_mutex_;
  std::condition_variable turn_changed_;
  revision delivered_ = 0;  // callbacks of every revision up to this one have run
};

}  // namespace ignite::routing
