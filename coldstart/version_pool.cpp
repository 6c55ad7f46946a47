#include "coldstart/version_pool.hpp"

#include <algorithm>
#include <atomic>
#include <limits>

namespace ignite::coldstart {

namespace {

// After a pod died before listening, reserved capacity is not restarted for this long
// (requests still start pods): a broken image must not spin in a tight restart loop.
constexpr auto k_restart_backoff = std::chrono::seconds(1);

failure_reason describe_failure(const pod_exit& how) {
  failure_reason r;
  // A pod that ran ended too soon; one that never ran says why it could not.
  const std::string when = how.ran ? " before listening on $PORT" : "";
  r.message = "the app's pod " + (how.summary.empty() ? std::string("stopped") : how.summary) + when;
  r.detail = "pod " + how.cause + when;
  if (!how.last_stderr.empty()) {
    r.detail += "; last stderr lines: ";
    for (std::size_t i = 0; i < how.last_stderr.size(); ++i) {
      if (i) r.detail += " | ";
      r.detail += how.last_stderr[i];
    }
  }
  return r;
}

std::string seconds_text(std::chrono::milliseconds ms) {
  auto count = ms.count();
  if (count % 1000 == 0) return std::to_string(count / 1000) + " s";
  return std::to_string(count) + " ms";
}

}  // namespace

pod_id version_pool::next_id() {
  static std::atomic<pod_id> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

version_pool::version_pool(pool_settings settings, pod_spec spec, std::vector<common::host_port> endpoints,
                           pod_provider* provider, const clock& clock, observer observe)
    : clock_(clock),
      provider_(provider),
      observe_(std::move(observe)),
      spec_(std::move(spec)),
      endpoints_(std::move(endpoints)),
      settings_(settings) {}

version_pool::~version_pool() = default;

version_pool::pod* version_pool::find(pod_id id) {
  for (auto& p : pods_)
    if (p.id == id) return &p;
  return nullptr;
}

// The ready pod with a free slot and the fewest requests in flight, this node's pods
// before other nodes' (a request to a local pod saves a network hop).
version_pool::pod* version_pool::pick() {
  pod* best = nullptr;
  for (auto& p : pods_) {
    if (p.state != pod_state::ready) continue;
    if (settings_.container_concurrency && p.in_flight >= settings_.container_concurrency) continue;
    if (!best || std::pair(p.remote, p.in_flight) < std::pair(best->remote, best->in_flight)) best = &p;
  }
  return best;
}

void version_pool::hand_out(pod& p, grant& out, bool cold) {
  ++p.in_flight;
  ++in_flight_;
  out.pod = p.id;
  out.address = p.address;
  out.cold_start = cold;
}

unsigned version_pool::live_pods() const {
  unsigned n = 0;
  for (const auto& p : pods_) n += p.state != pod_state::stopping;
  return n;
}

void version_pool::serve_waiters(effects& fx) {
  while (!waiting_.empty()) {
    auto* p = pick();
    if (!p) return;
    grant g;
    // Cold: the request waited while a pod started (static pods never start).
    hand_out(*p, g, waiting_.front().saw_start && endpoints_.empty());
    fx.grants.emplace_back(std::move(waiting_.front().w), std::move(g));
    waiting_.pop_front();
  }
}

void version_pool::start_pod(effects& fx, common::host_port configured) {
  pod p;
  p.id = next_id();
  p.configured = std::move(configured);
  p.started_at = p.idle_since = clock_.now();
  pod_spec spec = spec_;
  spec.endpoint = p.configured;
  spec.container_concurrency = settings_.container_concurrency;
  fx.starts.emplace_back(p.id, std::move(spec));
  fx.notes.push_back({pod_note::kind::starting, p.id, p.configured.port ? p.configured.to_string() : std::string()});
  pods_.push_back(std::move(p));
}

// Starts pods until there are as many as demand (held + in flight) needs, within
// [reserved_capacity, max_replicas]. With container_concurrency 0 one pod takes any
// burst; with c > 0, ceil(demand / c) pods.
void version_pool::scale(effects& fx) {
  if (stopped_ || !provider_) return;
  if (!endpoints_.empty()) {
    // Retired: only for requests that still hold the old routes.
    if (retired_ && waiting_.empty()) return;
    for (const auto& e : endpoints_) {
      bool present = std::any_of(pods_.begin(), pods_.end(), [&](const pod& p) { return p.configured == e; });
      if (!present) start_pod(fx, e);
    }
    return;
  }
  const std::size_t demand = waiting_.size() + in_flight_;
  std::size_t want = 0;
  bool backing_off = last_start_failure_ && clock_.now() - *last_start_failure_ < k_restart_backoff;
  if (!retired_ && !backing_off) want = settings_.reserved_capacity;
  if (!waiting_.empty() || (demand > 0 && settings_.container_concurrency)) {
    std::size_t c = settings_.container_concurrency;
    std::size_t needed = c == 0 ? 1 : (demand + c - 1) / c;
    want = std::max(want, needed);
  }
  want = std::min<std::size_t>(want, settings_.max_replicas);
  for (auto live = live_pods(); live < want; ++live) start_pod(fx, {});
}

// Stops, while more than reserved_capacity remain: ready pods idle for idle_timeout,
// and pods that have not listened within cold_start_timeout now that nobody waits for
// them. With `everything_idle` (retired or shutting down), every pod without requests.
void version_pool::stop_idle(effects& fx, bool everything_idle) {
  if (!endpoints_.empty() && !everything_idle) return;  // static pods are not ours to stop
  if (everything_idle && !waiting_.empty()) return;     // held requests still need pods
  const auto now = clock_.now();
  unsigned live = live_pods();
  const unsigned keep = everything_idle ? 0 : settings_.reserved_capacity;
  for (auto& p : pods_) {
    if (live <= keep) return;
    if (p.state == pod_state::stopping || p.in_flight) continue;
    if (!everything_idle) {
      if (p.state == pod_state::starting) {
        if (!waiting_.empty() || now - p.started_at < settings_.cold_start_timeout) continue;
      } else {
        if (now - p.idle_since < settings_.idle_timeout) continue;
        if (provider_ && provider_->in_use_elsewhere(p.id)) {
          p.idle_since = now;  // another node's requests keep it busy
          continue;
        }
        ++stats_.pods_stopped_idle;
      }
    }
    stop_pod(fx, p, everything_idle ? "version retired" : p.state == pod_state::starting ? "never listened" : "idle");
    --live;
  }
}

void version_pool::stop_pod(effects& fx, pod& p, const char* why) {
  p.state = pod_state::stopping;
  fx.stops.push_back(p.id);
  fx.notes.push_back({pod_note::kind::stopping, p.id, why});
}

void version_pool::apply(effects& fx) {
  // Outside the lock: a provider or a waiter may call back into this pool.
  if (observe_)
    for (const auto& note : fx.notes) observe_(spec_, note);
  if (provider_) {
    for (auto& [id, spec] : fx.starts) provider_->start(id, spec, *this);
    for (auto id : fx.probes) provider_->probe(id);
    for (auto id : fx.stops) provider_->stop(id);
  }
  for (auto& [w, g] : fx.grants) w->granted(g);
  for (auto& [w, reason] : fx.failures) w->failed(failure::pod_start_failed, reason);
}

version_pool::acquire_result version_pool::try_acquire(grant& out) {
  std::lock_guard lock(mutex_);
  if (auto* p = pick(); p && waiting_.empty()) {
    hand_out(*p, out, false);
    return acquire_result::granted;
  }
  return acquire_result::must_hold;
}

version_pool::acquire_result version_pool::hold(const std::shared_ptr<waiter>& w, grant& out, refusal& refused) {
  effects fx;
  {
    std::lock_guard lock(mutex_);
    if (!provider_) {
      refused = {failure::no_source, {"this version cannot be run by this proxy", {}}};
      return acquire_result::rejected;
    }
    if (stopped_) {
      refused = {failure::pod_start_failed, {"the proxy is shutting down", {}}};
      return acquire_result::rejected;
    }
    if (auto* p = pick(); p && waiting_.empty()) {
      hand_out(*p, out, false);
      return acquire_result::granted;
    }
    if (waiting_.size() >= settings_.max_held_requests) {
      ++stats_.overloaded;
      refused = {failure::overloaded,
                 {"too many requests are waiting for this app to start",
                  "hold queue full: " + std::to_string(waiting_.size()) + " requests already wait for a pod"}};
      return acquire_result::rejected;
    }
    ++stats_.held;
    waiting_.push_back({w, false});
    scale(fx);
    waiting_.back().saw_start =
        std::any_of(pods_.begin(), pods_.end(), [](const pod& p) { return p.state == pod_state::starting; });
  }
  apply(fx);
  return acquire_result::must_hold;
}

bool version_pool::cancel(const waiter* w) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(waiting_.begin(), waiting_.end(), [&](const held& h) { return h.w.get() == w; });
  if (it == waiting_.end()) return false;
  waiting_.erase(it);
  return true;
}

void version_pool::release(pod_id id) {
  effects fx;
  {
    std::lock_guard lock(mutex_);
    auto* p = find(id);
    if (!p) return;  // the pod died meanwhile; its count left with it
    --p->in_flight;
    --in_flight_;
    if (p->in_flight == 0) p->idle_since = clock_.now();
    if (p->state == pod_state::ready) serve_waiters(fx);
    if (retired_) stop_idle(fx, true);
  }
  apply(fx);
}

void version_pool::unreachable(pod_id id) {
  effects fx;
  {
    std::lock_guard lock(mutex_);
    auto* p = find(id);
    if (!p) return;
    --p->in_flight;
    --in_flight_;
    if (p->state == pod_state::ready) {
      p->state = pod_state::starting;
      fx.probes.push_back(id);
    }
  }
  apply(fx);
}

failure_reason version_pool::timeout_reason(std::chrono::milliseconds waited) const {
  std::lock_guard lock(mutex_);
  bool starting = std::any_of(pods_.begin(), pods_.end(), [](const pod& p) { return p.state == pod_state::starting; });
  failure_reason r;
  if (starting || pods_.empty()) {
    r.message = "no pod listened on $PORT within " + seconds_text(waited);
    r.detail = r.message;
    if (!last_failure_.detail.empty()) r.detail += " (earlier: " + last_failure_.detail + ")";
    return r;
  }
  r.message = "all of the app's pods stayed busy for " + seconds_text(waited);
  r.detail = "all " + std::to_string(live_pods()) + " pods stayed busy for " + seconds_text(waited) +
             " (container_concurrency " + std::to_string(settings_.container_concurrency) + ", max_replicas " +
             std::to_string(settings_.max_replicas) + ")";
  return r;
}

void version_pool::activate() {
  effects fx;
  {
    std::lock_guard lock(mutex_);
    scale(fx);
  }
  apply(fx);
}

bool version_pool::prewarm() {
  effects fx;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || retired_ || !provider_ || !endpoints_.empty() || live_pods() > 0) return false;
    start_pod(fx, {});
  }
  apply(fx);
  return true;
}

void version_pool::retire() {
  effects fx;
  {
    std::lock_guard lock(mutex_);
    retired_ = true;
    stop_idle(fx, true);
  }
  apply(fx);
}

void version_pool::stop_all() {
  effects fx;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    for (auto& p : pods_)
      if (p.state != pod_state::stopping) stop_pod(fx, p, "shutdown");
    for (auto& h : waiting_) fx.failures.emplace_back(std::move(h.w), failure_reason{"the proxy is shutting down", {}});
    waiting_.clear();
  }
  apply(fx);
}

void version_pool::tick() {
  effects fx;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stop_idle(fx, retired_);
    scale(fx);
  }
  apply(fx);
}

void version_pool::update_settings(const pool_settings& s) {
  effects fx;
  {
    std::lock_guard lock(mutex_);
    settings_ = s;
    serve_waiters(fx);
    scale(fx);
  }
  apply(fx);
}

bool version_pool::finished() const {
  std::lock_guard lock(mutex_);
  return (retired_ || stopped_) && pods_.empty() && waiting_.empty();
}

pool_stats version_pool::stats() const {
  std::lock_guard lock(mutex_);
  pool_stats s = stats_;
  s.pods = live_pods();
  s.ready = static_cast<unsigned>(
      std::count_if(pods_.begin(), pods_.end(), [](const pod& p) { return p.state == pod_state::ready; }));
  s.stopping = static_cast<unsigned>(pods_.size()) - s.pods;
  s.waiting = waiting_.size();
  return s;
}

void version_pool::on_ready(pod_id id, const endpoint& at, bool remote) {
  effects fx;
  {
    std::lock_guard lock(mutex_);
    auto* p = find(id);
    if (!p || p->state != pod_state::starting) return;
    p->state = pod_state::ready;
    p->address = at;
    p->remote = remote;
    auto now = clock_.now();
    pod_note note{pod_note::kind::ready, id, common::host_port{at.address().to_string(), at.port()}.to_string()};
    if (!p->was_ready) {
      p->was_ready = true;
      if (endpoints_.empty()) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - p->started_at).count();
        ++stats_.cold_starts;
        stats_.cold_start_ms_total += static_cast<std::uint64_t>(ms);
        note.start_ms = ms;
      }
      last_start_failure_.reset();
    }
    fx.notes.push_back(std::move(note));
    if (p->in_flight == 0) p->idle_since = now;
    serve_waiters(fx);
    if (retired_ || stopped_) stop_idle(fx, true);
  }
  apply(fx);
}

void version_pool::on_exit(pod_id id, const pod_exit& how) {
  effects fx;
  {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(pods_.begin(), pods_.end(), [&](const pod& p) { return p.id == id; });
    if (it == pods_.end()) return;
    const auto state = it->state;
    const bool died_starting = state == pod_state::starting && !it->was_ready;
    in_flight_ -= it->in_flight;  // those requests fail on their own sockets (502)
    pods_.erase(it);
    fx.notes.push_back({pod_note::kind::exited, id, how.cause});
    if (died_starting) {
      ++stats_.start_failures;
      last_start_failure_ = clock_.now();
      last_failure_ = describe_failure(how);
      // Held requests that the remaining pods cannot take fail now, with the reason,
      // instead of waiting for the cold-start timeout.
      std::size_t capacity = 0;
      const unsigned c = settings_.container_concurrency;
      for (const auto& p : pods_) {
        if (p.state == pod_state::stopping) continue;
        capacity =
            c == 0 ? std::numeric_limits<std::size_t>::max() : capacity + (p.in_flight < c ? c - p.in_flight : 0);
        if (capacity == std::numeric_limits<std::size_t>::max()) break;
      }
      while (waiting_.size() > capacity) {
        fx.failures.emplace_back(std::move(waiting_.back().w), last_failure_);
        waiting_.pop_back();
      }
      // Failures reach the waiters oldest first.
      std::reverse(fx.failures.begin(), fx.failures.end());
    }
    if (state != pod_state::stopping) scale(fx);  // replace a pod that died serving
  }
  apply(fx);
}

}  // namespace ignite::coldstart
