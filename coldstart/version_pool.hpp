#pragma once
// The pods of one app version, the requests waiting for them, and every scaling
// decision. The proxy asks "give me a pod of this version" and gets either a pod at once,
// a place in the version's FIFO hold queue (answered later, exactly once), or a refusal.
// Speaks readiness, not HTTP; time comes from a `clock`, so the whole state machine is
// tested with a manual one.
//
// Thread-safety: every public method may be called from any thread (one mutex per
// version). Waiter callbacks and provider calls are made after the mutex is released.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "coldstart/clock.hpp"
#include "coldstart/pod_provider.hpp"

namespace ignite::coldstart {

struct pool_settings {
  unsigned reserved_capacity = 0;
  unsigned max_replicas = 4;
  unsigned container_concurrency = 0;  // 0: a pod takes any number of requests at once
  std::chrono::milliseconds idle_timeout{300000};
  std::size_t max_held_requests = 1000;
  // A pod that has not listened this long after its start, with nobody waiting, is
  // stopped: a pod that never listens must not linger.
  std::chrono::milliseconds cold_start_timeout{30000};

  bool operator==(const pool_settings&) const = default;
};

// A pod a request may use; it counts as one request in flight on that pod until
// release() (or unreachable()).
struct grant {
  pod_id pod = 0;
  endpoint address;         // resolved once, when the pod became ready
  bool cold_start = false;  // the request waited for this pod to start
};

enum class failure { overloaded, pod_start_failed, no_source };

// Why a request got no pod: `message` is fit for anyone who called the app (it names
// what happened, never a path or the pod's output); `detail` adds what the log and the
// app's owner may see.
struct failure_reason {
  std::string message;
  std::string detail;
};

// Why hold() refused a request at once.
struct refusal {
  failure why = failure::overloaded;
  failure_reason reason;
};

// A held request. Exactly one of granted/failed is called, once, from any thread,
// unless cancel() removed it first.
class waiter {
 public:
  virtual ~waiter() = default;
  virtual void granted(const grant& g) = 0;
  virtual void failed(failure why, const failure_reason& reason) = 0;
};

// What happened to a pod, for the proxy's log.
struct pod_note {
  enum class kind { starting, ready, stopping, exited } what;
  pod_id pod;
  std::string detail;          // ready: "ip:port"; stopping: why; exited: the cause
  std::int64_t start_ms = -1;  // ready: start → listening, for pods this pool started
};

struct pool_stats {
  std::uint64_t cold_starts = 0;          // pods that came up
  std::uint64_t cold_start_ms_total = 0;  // start → listening, summed
  std::uint64_t held = 0;                 // requests that had to wait
  std::uint64_t overloaded = 0;           // refused: hold queue full
  std::uint64_t start_failures = 0;       // pods that died before listening
  std::uint64_t pods_stopped_idle = 0;
  unsigned pods = 0;  // starting + ready now
  unsigned ready = 0;
  unsigned stopping = 0;  // told to stop, not exited yet
  std::size_t waiting = 0;
};

class version_pool final : public pod_events, public std::enable_shared_from_this<version_pool> {
 public:
  enum class acquire_result { granted, must_hold, rejected };

  // `endpoints` non-empty: a static version whose pods are those endpoints; they are
  // all "started" (probed) by activate(), never scaled and never cold.
  using observer = std::function<void(const pod_spec&, const pod_note&)>;

  // `observe` (may be empty) hears of every pod start, readiness, stop and exit, after
  // the lock is released.
  version_pool(pool_settings settings, pod_spec spec, std::vector<common::host_port> endpoints, pod_provider* provider,
               const clock& clock, observer observe = {});
  ~version_pool() override;

  // Fast path: a ready pod with a free slot → granted (out filled). Otherwise
  // must_hold; nothing changes.
  acquire_result try_acquire(grant& out);

  // Holds `w` in FIFO order, starting pods as demand needs. Re-checks for a free slot
  // first (granted, out filled, `w` never called). rejected: the queue is full, the
  // version cannot run at all, or the proxy is stopping; `refused` says which.
  acquire_result hold(const std::shared_ptr<waiter>& w, grant& out, refusal& refused);

  // A held request gave up (timeout, client gone). True if it was still queued and so
  // will never be called back; false if its callback is already on its way.
  bool cancel(const waiter* w);

  // The request holding `g` is done with the pod.
  void release(pod_id pod);

  // The pod of a grant refused the connection: the grant is returned and the pod is
  // probed until it listens again (or dies). The caller may acquire again.
  void unreachable(pod_id pod);

  // Why a request held `waited` long got no pod, for the 504.
  failure_reason timeout_reason(std::chrono::milliseconds waited) const;

  // Starts what must run without traffic: reserved capacity, or the static pods.
  void activate();
  // A request is probably on its way (a TLS ClientHello named the app): starts one pod
  // now if none is starting or ready, so the handshake overlaps the start. Nothing for
  // static versions. True if a pod was started.
  bool prewarm();
  // No longer the active version: keep serving what is held/in flight, then stop.
  void retire();
  // Stop every pod now (shutdown).
  void stop_all();
  // Idle scale-down and reserved capacity; call periodically.
  void tick();

  void update_settings(const pool_settings& s);
  bool finished() const;  // retired or stopped, and no pod left
  pool_stats stats() const;
  const pod_spec& spec() const noexcept { return spec_; }

  // pod_events
  void on_ready(pod_id id, const endpoint& at, bool remote = false) override;
  void on_exit(pod_id id, const pod_exit& how) override;

 private:
  enum class pod_state : std::uint8_t { starting, ready, stopping };
  struct pod {
    pod_id id;
    pod_state state = pod_state::starting;
    unsigned in_flight = 0;
    endpoint address;
    common::host_port configured;  // static pods: the configured endpoint
    clock::time_point started_at;
    clock::time_point idle_since;
    bool was_ready = false;
    bool remote = false;  // runs on another node
  };
  // What a locked section decided; carried out after unlocking.
  struct effects {
    std::vector<std::pair<std::shared_ptr<waiter>, grant>> grants;
    std::vector<std::pair<std::shared_ptr<waiter>, failure_reason>> failures;
    std::vector<std::pair<pod_id, pod_spec>> starts;
    std::vector<pod_id> probes;
    std::vector<pod_id> stops;
    std::vector<pod_note> notes;
  };

  pod* find(pod_id id);
  pod* pick();
  void hand_out(pod& p, grant& out, bool cold);
  void serve_waiters(effects& fx);
  void scale(effects& fx);
  void start_pod(effects& fx, common::host_port configured);
  void stop_idle(effects& fx, bool everything_idle);
  void stop_pod(effects& fx, pod& p, const char* why);
  unsigned live_pods() const;
  void apply(effects& fx);

  static pod_id next_id();

  const clock& clock_;
  pod_provider* provider_;
  observer observe_;  // null: no way to run this version's source
  const pod_spec spec_;
  const std::vector<common::host_port> endpoints_;
  mutable std::mutex mutex_;
  pool_settings settings_;
  std::vector<pod> pods_;
  struct held {
    std::shared_ptr<waiter> w;
    bool saw_start;  // a pod was starting when it arrived: it waits for a cold start
  };
  std::deque<held> waiting_;
  unsigned in_flight_ = 0;
  bool retired_ = false;
  bool stopped_ = false;
  std::optional<clock::time_point> last_start_failure_;
  failure_reason last_failure_;
  pool_stats stats_;
};

}  // namespace ignite::coldstart
