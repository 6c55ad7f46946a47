#include "routing/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include "common/log.hpp"

namespace ignite::routing {

namespace {

constexpr int k_schema_version = 1;

// Keys and values are BLOBs: any bytes, ordered by memcmp, like std::string.
constexpr const char* k_schema = R"sql(
CREATE TABLE IF NOT EXISTS meta (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0), ('compacted', 0);
CREATE TABLE IF NOT EXISTS kv (
  key             BLOB PRIMARY KEY,
  value           BLOB NOT NULL,
  create_revision INTEGER NOT NULL,
  mod_revision    INTEGER NOT NULL,
  version         INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log (
  revision        INTEGER NOT NULL,
  seq             INTEGER NOT NULL,
  kind            INTEGER NOT NULL,
  key             BLOB NOT NULL,
  value           BLOB,
  create_revision INTEGER NOT NULL,
  version         INTEGER NOT NULL,
  PRIMARY KEY (revision, seq)
) WITHOUT ROWID;
)sql";

constexpr std::int64_t k_log_put = 0;
constexpr std::int64_t k_log_erase = 1;

// The smallest string greater than every string starting with `prefix`, or nullopt if
// there is none ("" or all 0xff): the exclusive upper bound of a prefix scan.
std::optional<std::string> prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) return std::nullopt;
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

std::string describe(const std::filesystem::path& path) { return "state store " + path.string(); }

// fsyncs a directory, so that a file just created in it survives a power loss.
void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw state_error(describe(dir) + ": cannot open directory to sync it: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw state_error(describe(dir) + ": cannot sync directory: " + std::strerror(err));
}

// The thread's store whose watch callback it is running, if any: txn() on it from there
// would wait for its own turn forever.
thread_local const void* t_in_callback_of = nullptr;

}  // namespace

// ---------------------------------------------------------------------------------------
// Statements, prepared once.

namespace {

struct finalizer {
  void operator()(sqlite3_stmt* s) const noexcept { ::sqlite3_finalize(s); }
};
using statement = std::unique_ptr<sqlite3_stmt, finalizer>;

[[noreturn]] void fail(sqlite3* db, const std::filesystem::path& path, std::string_view what) {
  std::string message = describe(path);
  message += ": ";
  message += what;
  message += ": ";
  message += db ? ::sqlite3_errmsg(db) : "out of memory";
  throw state_error(message);
}

// Runs `sql` (any number of statements, rows ignored).
void exec(sqlite3* db, const std::filesystem::path& path, const char* sql, std::string_view what) {
  char* message = nullptr;
  if (::sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : ::sqlite3_errmsg(db);
    ::sqlite3_free(message);
    throw state_error(describe(path) + ": " + std::string(what) + ": " + text);
  }
}

statement prepare(sqlite3* db, const std::filesystem::path& path, std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  const int rc =
      ::sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) fail(db, path, "prepare " + std::string(sql));
  return statement(s);
}

// One use of a cached statement: bind, step, read columns. Resetting on the way out ends
// the statement's implicit read transaction and leaves it ready for the next use.
class use {
 public:
  use(sqlite3* db, const std::filesystem::path& path, const statement& s) : db_(db), path_(path), s_(s.get()) {}
  ~use() {
    ::sqlite3_reset(s_);
    ::sqlite3_clear_bindings(s_);
  }
  use(const use&) = delete;
  use& operator=(const use&) = delete;

  use& bind(int index, std::string_view bytes) {
    // A null pointer would bind NULL, not an empty blob.
    const char* data = bytes.data() ? bytes.data() : "";
    check(::sqlite3_bind_blob64(s_, index, data, bytes.size(), SQLITE_STATIC), "bind");
    return *this;
  }
  // Meta names are TEXT, and TEXT never equals a BLOB.
  use& bind_text(int index, std::string_view text) {
    check(::sqlite3_bind_text64(s_, index, text.data() ? text.data() : "", text.size(), SQLITE_STATIC, SQLITE_UTF8),
          "bind");
    return *this;
  }
  use& bind(int index, std::int64_t value) {
    check(::sqlite3_bind_int64(s_, index, value), "bind");
    return *this;
  }

  // true with a row to read, false when done.
  bool step() {
    const int rc = ::sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, path_, ::sqlite3_sql(s_));
  }
  void run() {
    while (step()) {
    }
  }

  std::string text(int column) const {
    const auto* data = static_cast<const char*>(::sqlite3_column_blob(s_, column));
    const int size = ::sqlite3_column_bytes(s_, column);
    return data ? std::string(data, static_cast<std::size_t>(size)) : std::string();
  }
  std::int64_t integer(int column) const { return ::sqlite3_column_int64(s_, column); }

 private:
  void check(int rc, std::string_view what) {
    if (rc != SQLITE_OK) fail(db_, path_, what);
  }

  sqlite3* db_;
  const std::filesystem::path& path_;
  sqlite3_stmt* s_;
};

}  // namespace

struct sqlite_store::statements {
  statement begin, commit, rollback;
  statement get, get_revisions;
  statement range_bounded, range_open;
  statement put, erase;
  statement log_insert, log_bounded, log_open, log_trim;
  statement set_meta;

  statements(sqlite3* db, const std::filesystem::path& p)
      : begin(prepare(db, p, "BEGIN IMMEDIATE")),
        commit(prepare(db, p, "COMMIT")),
        rollback(prepare(db, p, "ROLLBACK")),
        get(prepare(db, p, "SELECT key, value, create_revision, mod_revision, version FROM kv WHERE key = ?1")),
        get_revisions(prepare(db, p, "SELECT create_revision, mod_revision, version FROM kv WHERE key = ?1")),
        range_bounded(prepare(db, p,
                              "SELECT key, value, create_revision, mod_revision, version FROM kv"
                              " WHERE key >= ?1 AND key < ?2 ORDER BY key")),
        range_open(prepare(db, p,
                           "SELECT key, value, create_revision, mod_revision, version FROM kv"
                           " WHERE key >= ?1 ORDER BY key")),
        put(prepare(db, p,
                    "INSERT INTO kv (key, value, create_revision, mod_revision, version) VALUES (?1, ?2, ?3, ?4, ?5)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value, mod_revision = excluded.mod_revision,"
                    " version = excluded.version")),
        erase(prepare(db, p, "DELETE FROM kv WHERE key = ?1")),
        log_insert(prepare(db, p,
                           "INSERT INTO log (revision, seq, kind, key, value, create_revision, version)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")),
        log_bounded(prepare(db, p,
                            "SELECT revision, kind, key, value, create_revision, version FROM log"
                            " WHERE revision > ?1 AND key >= ?2 AND key < ?3 ORDER BY revision, seq")),
        log_open(prepare(db, p,
                         "SELECT revision, kind, key, value, create_revision, version FROM log"
                         " WHERE revision > ?1 AND key >= ?2 ORDER BY revision, seq")),
        log_trim(prepare(db, p, "DELETE FROM log WHERE revision <= ?1")),
        set_meta(prepare(db, p, "UPDATE meta SET value = ?2 WHERE name = ?1")) {}
};

namespace {

// BEGIN IMMEDIATE ... COMMIT, rolled back unless committed. IMMEDIATE takes the write
// lock at once, so the compares and the writes see the same state.
class write_transaction {
 public:
  write_transaction(sqlite3* db, const std::filesystem::path& path, const statement& begin, const statement& commit,
                    const statement& rollback)
      : db_(db), path_(path), commit_(commit), rollback_(rollback) {
    use(db, path, begin).run();
  }
  ~write_transaction() {
    if (done_ || ::sqlite3_get_autocommit(db_)) return;  // committed, or SQLite already rolled back
    ::sqlite3_step(rollback_.get());
    ::sqlite3_reset(rollback_.get());
  }
  write_transaction(const write_transaction&) = delete;
  write_transaction& operator=(const write_transaction&) = delete;

  void commit() {
    use(db_, path_, commit_).run();
    done_ = true;
  }

 private:
  sqlite3* db_;
  const std::filesystem::path& path_;
  const statement& commit_;
  const statement& rollback_;
  bool done_ = false;
};

key_value read_key_value(const use& row) {
  return key_value{row.text(0), row.text(1), row.integer(2), row.integer(3), row.integer(4)};
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Watchers.

struct sqlite_store::watcher {
  std::string prefix;
  revision after;
  watch_callback on_change;

  std::mutex running;  // held while a callback of this watcher runs
  std::atomic<bool> stopped{false};
  std::atomic<std::thread::id> running_on{};  // the thread in a callback, while `running` is held
};

struct sqlite_store::delivery {
  std::shared_ptr<watcher> to;
  std::vector<event> events;
};

// The registered watchers. Its own mutex, taken after the store's (match) or alone (a
// handle going away), so a handle can be destroyed while the store is busy or gone.
class sqlite_store::watcher_list {
 public:
  void add(std::shared_ptr<watcher> w) {
    std::lock_guard lock(mutex_);
    list_.push_back(std::move(w));
  }
  void remove(const watcher* w) {
    std::lock_guard lock(mutex_);
    std::erase_if(list_, [w](const auto& p) { return p.get() == w; });
  }
  // Each watcher with events of `events` under its prefix, and those events.
  std::vector<delivery> match(const std::vector<event>& events, revision at) {
    std::vector<delivery> out;
    std::lock_guard lock(mutex_);
    for (const auto& w : list_) {
      if (at <= w->after) continue;
      delivery d{w, {}};
      for (const auto& e : events)
        if (e.kv.key.starts_with(w->prefix)) d.events.push_back(e);
      if (!d.events.empty()) out.push_back(std::move(d));
    }
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<watcher>> list_;
};

class sqlite_store::handle final : public watch_handle {
 public:
  handle(std::shared_ptr<watcher_list> list, std::shared_ptr<watcher> w) : list_(std::move(list)), w_(std::move(w)) {}
  ~handle() override {
    w_->stopped = true;  // a committer that already matched this watcher skips it
    list_->remove(w_.get());
    // From inside this watcher's own callback: it is this thread's, and returns next.
    if (w_->running_on.load() == std::this_thread::get_id()) return;
    // Elsewhere: wait for a callback running on another thread to return.
    std::lock_guard wait(w_->running);
  }

 private:
  std::shared_ptr<watcher_list> list_;
  std::shared_ptr<watcher> w_;
};

namespace {

// Runs one callback with the marks that the handle's destructor and txn() look at.
// Callers hold w.running.
template <class Watcher>
void run_callback(Watcher& w, const void* store, const std::vector<event>& events, revision at) {
  w.running_on = std::this_thread::get_id();
  const void* outer = std::exchange(t_in_callback_of, store);
  struct restore {
    Watcher& w;
    const void* outer;
    ~restore() {
      t_in_callback_of = outer;
      w.running_on = std::thread::id{};
    }
  } restore_marks{w, outer};
  w.on_change(events, at);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Opening.

sqlite_store::sqlite_store(std::filesystem::path path, sqlite_store_options options)
    : path_(std::move(path)), log_revisions_(options.log_revisions), watchers_(std::make_shared<watcher_list>()) {
  if (log_revisions_ < 1) throw state_error(describe(path_) + ": log_revisions must be at least 1");
  try {
    open(options);
  } catch (...) {
    stmts_.reset();
    ::sqlite3_close(db_);
    throw;
  }
  delivered_ = revision_;
}

sqlite_store::~sqlite_store() {
  stmts_.reset();  // every statement finalized, or close would refuse
  ::sqlite3_close(db_);
}

void sqlite_store::open(const sqlite_store_options& options) {
  // The directories that do not exist yet, to sync their parents once they do.
  std::vector<std::filesystem::path> created;
  const auto parent = path_.parent_path();
  std::error_code ec;
  for (auto p = parent; !p.empty() && !std::filesystem::exists(p, ec); p = p.parent_path()) {
    created.push_back(p);
    if (p == p.parent_path()) break;
  }
  if (!parent.empty()) {
    std::filesystem::create_directories(parent, ec);
    if (ec) throw state_error(describe(path_) + ": cannot create " + parent.string() + ": " + ec.message());
  }
  const bool is_new = !std::filesystem::exists(path_, ec);

  const int rc =
      ::sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) fail(db_, path_, "cannot open");
  ::sqlite3_extended_result_codes(db_, 1);
  ::sqlite3_busy_timeout(db_, static_cast<int>(options.busy_timeout.count()));

  // EXCLUSIVE before WAL: the WAL index then lives in this process's memory (no -shm
  // file), and no other connection can write behind this one's cached revision.
  exec(db_, path_, "PRAGMA locking_mode = EXCLUSIVE", "cannot set locking_mode");
  {
    // journal_mode answers with the mode it ended up in: some file systems refuse WAL.
    auto s = prepare(db_, path_, "PRAGMA journal_mode = WAL");
    use q(db_, path_, s);
    if (!q.step() || q.text(0) != "wal")
      throw state_error(describe(path_) + ": cannot use journal_mode=WAL on this file system");
  }
  exec(db_, path_, options.durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = OFF",
       "cannot set synchronous");
  create_schema();
  if (is_new) {
    // The file's directory entry (and those of new directories) must be as durable as
    // the first commit.
    sync_directory(parent);
    for (const auto& dir : created) sync_directory(dir.parent_path());
  }
}

void sqlite_store::create_schema() {
  auto begin = prepare(db_, path_, "BEGIN IMMEDIATE");
  auto commit = prepare(db_, path_, "COMMIT");
  auto rollback = prepare(db_, path_, "ROLLBACK");
  // The write lock taken here is kept (locking_mode=EXCLUSIVE): a second store fails now.
  write_transaction t(db_, path_, begin, commit, rollback);

  std::int64_t schema = 0;
  {
    auto s = prepare(db_, path_, "PRAGMA user_version");
    use q(db_, path_, s);
    if (q.step()) schema = q.integer(0);
  }
  if (schema > k_schema_version)
    throw state_error(describe(path_) + ": written by a newer version (schema " + std::to_string(schema) + ")");
  exec(db_, path_, k_schema, "cannot create the tables");
  if (schema == 0) {
    auto s = prepare(db_, path_, "PRAGMA user_version = " + std::to_string(k_schema_version));
    use(db_, path_, s).run();
  }
  t.commit();

  stmts_ = std::make_unique<statements>(db_, path_);
  {
    auto s = prepare(db_, path_, "SELECT name, value FROM meta");
    use q(db_, path_, s);
    while (q.step()) {
      const auto name = q.text(0);
      if (name == "revision") revision_ = q.integer(1);
      if (name == "compacted") compacted_ = q.integer(1);
    }
  }
  // A log row past the revision counter means the file was not written by this code.
  auto s = prepare(db_, path_, "SELECT max(revision) FROM log");
  use q(db_, path_, s);
  if (q.step() && q.integer(0) > revision_)
    throw state_error(describe(path_) + ": inconsistent: change log goes past revision " + std::to_string(revision_));
}

// ---------------------------------------------------------------------------------------
// Reads.

std::optional<key_value> sqlite_store::get(std::string_view key) {
  std::lock_guard lock(mutex_);
  use q(db_, path_, stmts_->get);
  q.bind(1, key);
  if (!q.step()) return std::nullopt;
  return read_key_value(q);
}

std::vector<key_value> sqlite_store::range(std::string_view prefix, revision* at) {
  const auto end = prefix_end(prefix);
  std::lock_guard lock(mutex_);
  use q(db_, path_, end ? stmts_->range_bounded : stmts_->range_open);
  q.bind(1, prefix);
  if (end) q.bind(2, *end);
  std::vector<key_value> out;
  while (q.step()) out.push_back(read_key_value(q));
  if (at) *at = revision_;
  return out;
}

revision sqlite_store::current_revision() {
  std::lock_guard lock(mutex_);
  return revision_;
}

// ---------------------------------------------------------------------------------------
// Writes.

txn_result sqlite_store::txn(const std::vector<compare>& compares, const std::vector<operation>& operations) {
  if (t_in_callback_of == this)
    throw state_error(describe(path_) + ": txn() called from a watch callback (it would wait for itself)");

  revision committed = 0;
  std::vector<delivery> deliveries;
  {
    std::lock_guard lock(mutex_);
    write_transaction t(db_, path_, stmts_->begin, stmts_->commit, stmts_->rollback);
    for (const auto& c : compares) {
      use q(db_, path_, stmts_->get_revisions);
      q.bind(1, c.key);
      const revision mod = q.step() ? q.integer(1) : 0;
      if (mod != c.mod_revision) return txn_result{false, revision_, c.key};
    }
    if (operations.empty()) return txn_result{true, revision_, {}};
    deliveries = commit_operations(operations, committed);
    t.commit();
    revision_ = committed;
    compacted_ = std::max(compacted_, committed - log_revisions_);
  }
  deliver(committed, std::move(deliveries));
  return txn_result{true, committed, {}};
}

// Applies `operations` as the next revision inside the open transaction and returns who
// to tell. Called with the mutex held; nothing is visible until the caller commits.
std::vector<sqlite_store::delivery> sqlite_store::commit_operations(const std::vector<operation>& operations,
                                                                    revision& committed) {
  const revision at = revision_ + 1;
  std::vector<event> events;
  for (const auto& op : operations) {
    revision create = at;
    std::int64_t version = 1;
    bool exists = false;
    {
      use q(db_, path_, stmts_->get_revisions);
      q.bind(1, op.key);
      if (q.step()) {
        exists = true;
        create = q.integer(0);
        version = q.integer(2) + 1;
      }
    }
    if (op.what == operation::kind::put) {
      use(db_, path_, stmts_->put).bind(1, op.key).bind(2, op.value).bind(3, create).bind(4, at).bind(5, version).run();
      events.push_back(event{event::kind::put, key_value{op.key, op.value, create, at, version}});
    } else if (exists) {
      use(db_, path_, stmts_->erase).bind(1, op.key).run();
      events.push_back(event{event::kind::erase, key_value{op.key, {}, 0, at, 0}});
    }  // erasing a missing key changes nothing
  }

  std::int64_t seq = 0;
  for (const auto& e : events) {
    const bool put = e.what == event::kind::put;
    use q(db_, path_, stmts_->log_insert);
    q.bind(1, at).bind(2, seq++).bind(3, put ? k_log_put : k_log_erase).bind(4, e.kv.key);
    if (put) q.bind(5, e.kv.value);
    q.bind(6, e.kv.create_revision).bind(7, e.kv.version).run();
  }
  // Trimmed in the same transaction: the log and the counter never disagree on disk.
  const revision floor = at - log_revisions_;
  if (floor > compacted_) {
    use(db_, path_, stmts_->log_trim).bind(1, floor).run();
    use(db_, path_, stmts_->set_meta).bind_text(1, "compacted").bind(2, floor).run();
  }
  use(db_, path_, stmts_->set_meta).bind_text(1, "revision").bind(2, at).run();

  committed = at;
  if (events.empty()) return {};
  return watchers_->match(events, at);
}

// Runs the callbacks of revision `at`, after those of `at - 1`, outside the store's mutex.
// Every committed revision passes here exactly once, or later ones would wait forever.
void sqlite_store::deliver(revision at, std::vector<delivery> deliveries) {
  std::unique_lock turn(turn_mutex_);
  turn_changed_.wait(turn, [&] { return delivered_ == at - 1; });
  turn.unlock();
  for (auto& d : deliveries) {
    std::lock_guard running(d.to->running);
    if (d.to->stopped) continue;
    try {
      run_callback(*d.to, this, d.events, at);
    } catch (const std::exception& e) {
      std::string fields = "\"state_file\":";
      common::append_json_string(fields, path_.string());
      fields += ",\"revision\":" + std::to_string(at) + ",\"error\":";
      common::append_json_string(fields, e.what());
      common::log_event("watch_callback_failed", fields);
    } catch (...) {
      common::log_event("watch_callback_failed", "\"revision\":" + std::to_string(at));
    }
  }
  turn.lock();
  delivered_ = at;
  turn.unlock();
  turn_changed_.notify_all();
}

// ---------------------------------------------------------------------------------------
// Watching.

std::unique_ptr<state_store::watch_handle> sqlite_store::watch(std::string_view prefix, revision after,
                                                               watch_callback on_change) {
  auto w = std::make_shared<watcher>();
  w->prefix = std::string(prefix);
  w->after = after;
  w->on_change = std::move(on_change);
  const auto end = prefix_end(prefix);

  // Held until the backlog is out: a txn committed after registration waits for it here.
  std::unique_lock running(w->running);
  std::vector<std::pair<revision, std::vector<event>>> backlog;
  {
    std::lock_guard lock(mutex_);
    if (after < compacted_)
      throw state_error(describe(path_) + ": cannot watch from revision " + std::to_string(after) +
                        ": revisions up to " + std::to_string(compacted_) +
                        " are compacted; read with range() and watch from its revision");
    use q(db_, path_, end ? stmts_->log_bounded : stmts_->log_open);
    q.bind(1, after).bind(2, prefix);
    if (end) q.bind(3, *end);
    while (q.step()) {
      const revision at = q.integer(0);
      if (backlog.empty() || backlog.back().first != at) backlog.emplace_back(at, std::vector<event>{});
      if (q.integer(1) == k_log_put)
        backlog.back().second.push_back(
            event{event::kind::put, key_value{q.text(2), q.text(3), q.integer(4), at, q.integer(5)}});
      else
        backlog.back().second.push_back(event{event::kind::erase, key_value{q.text(2), {}, 0, at, 0}});
    }
    // Registered in the same critical section as the read: no commit falls in between.
    watchers_->add(w);
  }
  try {
    for (const auto& [at, events] : backlog) run_callback(*w, this, events, at);
  } catch (...) {
    w->stopped = true;
    watchers_->remove(w.get());
    throw;
  }
  running.unlock();
  return std::make_unique<handle>(watchers_, std::move(w));
}

}  // namespace ignite::routing
