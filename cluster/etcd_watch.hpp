#pragma once
// One watch on etcd (`POST /v3/watch`, a stream of JSON lines), on its own thread and
// connection. Events are grouped by revision (one etcd txn, one callback) and delivered in
// order; a broken stream is opened again on the next endpoint from the revision after the
// last one delivered, so nothing is skipped or repeated. Destroying the handle stops the
// callbacks: none runs after the destructor returns (a callback may destroy its own
// handle).
//
// etcd forgets old revisions when it is compacted, so a watch that was away long enough
// cannot resume where it stopped. It then re-lists: it keeps the keys of its range as the
// last delivered revision left them (key -> mod_revision; read at `after` as it starts,
// then kept by every event), reads the range as it is now, at revision R, and delivers
// one group at R: a put for each key that is new or changed, an erase (mod_revision R)
// for each key that is gone. Watching resumes from R + 1. A consumer that applies events
// by key ends where it would have if it had seen every revision. If `after` itself is
// compacted already when the watch starts, it starts from no keys: a later re-list then
// puts every key but cannot name the keys erased before it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "routing/config.hpp"
#include "routing/state_store.hpp"

namespace ignite::cluster {

class etcd_watch final : public routing::state_store::watch_handle {
 public:
  // What the thread and the store share: outlives the handle while the thread runs.
  struct state;

  // Watches etcd keys [key, range_end) from revision `after` + 1; keys are reported
  // without `strip`. Returns at once; the first events may come from the thread later.
  // Connects to `spec`'s endpoints with its TLS and auth (the token renewed when etcd
  // refuses it); throws routing::state_error if a TLS file cannot be used.
  etcd_watch(const routing::etcd_spec& spec, std::chrono::milliseconds timeout, std::string key, std::string range_end,
             std::string strip, routing::revision after, routing::state_store::watch_callback on_change);
  ~etcd_watch() override;

  const std::shared_ptr<state>& shared() const { return state_; }

  // Waits until the events of revision `at` have been delivered if `etcd_key` is one
  // this watch sees, for at most `cap` (a re-list at R counts as delivering every
  // revision up to R). Returns at once when called from the watch's own
  // thread (a callback writing to the store).
  static void wait_delivered(state& s, const std::string& etcd_key, routing::revision at,
                             std::chrono::milliseconds cap);

 private:
  std::shared_ptr<state> state_;
  std::thread thread_;
};

}  // namespace ignite::cluster
