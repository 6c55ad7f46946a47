#include "proxy/worker.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.hpp"
#include "proxy/client_stream.hpp"
#include "proxy/deadlines.hpp"
#include "proxy/http_session.hpp"
#include "proxy/request_context.hpp"
#include "routing/host.hpp"

namespace ignite::proxy {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// The overload manager switches on at 90% of max_connections and off below 80%: the
// gap keeps it from flapping with every connection that comes and goes.
bool overload_starts(std::size_t connections, std::size_t max) { return connections * 10 >= max * 9; }
bool overload_ends(std::size_t connections, std::size_t max) { return connections * 10 < max * 8; }

// A refused connection is answered, then given this long to close its side: closing
// at once on bytes it already sent would reset the connection and could destroy the
// answer before the client reads it.
constexpr auto k_reject_linger = std::chrono::seconds(1);
// Refused connections lingering at once, per worker; more are closed without an answer
// (a flood must not turn the refusals themselves into the resource it exhausts).
constexpr std::size_t k_max_lingering = 256;
// Parked connections the overload manager looks at, oldest first, for one to close.
constexpr std::size_t k_eviction_scan = 16;

std::uint64_t unix_ms_now() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// The contract's 503 overloaded, as http_session writes its errors.
std::string overloaded_answer(std::string_view execution_id) {
  std::string body = R"({"error":{"code":"overloaded","message":"too many connections, try again","execution_id":")";
  body.append(execution_id).append(R"("}})");
  std::string out = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nx-ignite-error: proxy\r\nx-ignite-execution-id: ";
  out.append(execution_id).append("\r\nRetry-After: 1\r\nConnection: close\r\n\r\n").append(body);
  return out;
}

}  // namespace

worker::worker(shared_state& shared, std::shared_ptr<const route_snapshot> snapshot, std::size_t index)
    : shared_(shared),
      index_(index),
      snapshot_(std::move(snapshot)),
      context_blocks_(sizeof(request_context), 256),
      log_(ctx_, shared.access_sink) {}

worker::~worker() {
  stop();
  join();
}

void worker::start(tcp_acceptor http, std::optional<tcp_acceptor> https) {
  acceptor_ = std::make_unique<tcp_acceptor>(std::move(http));
  net::co_spawn(ctx_, accept_loop<tcp_socket>(*acceptor_), net::detached);
  if (https) {
    tls_acceptor_ = std::make_unique<tcp_acceptor>(std::move(*https));
    net::co_spawn(ctx_, accept_loop<tls_stream>(*tls_acceptor_), net::detached);
  }
  net::co_spawn(ctx_, upstream_.sweep(), net::detached);
  thread_ = std::thread([this] { run(); });
}

// A handler that throws unwinds out of run(); the loop logs it and runs on, so one
// connection's fault never takes the worker (and the process) down with it.
void worker::run() {
  for (;;) {
    try {
      ctx_.run();
      break;
    } catch (const std::exception& e) {
      worker_stats::bump(stats_.faults);
      std::string fields = "\"what\":";
      common::append_json_string(fields, e.what());
      common::log_event("worker_fault", fields);
    } catch (...) {
      worker_stats::bump(stats_.faults);
      common::log_event("worker_fault", "\"what\":\"unknown\"");
    }
  }
  log_.flush();
}

void worker::join() {
  if (thread_.joinable()) thread_.join();
}

void worker::publish(std::shared_ptr<const route_snapshot> snapshot, std::function<void()> applied) {
  net::post(ctx_, [this, snapshot = std::move(snapshot), applied = std::move(applied)]() mutable {
    snapshot_ = std::move(snapshot);
    if (applied) applied();
  });
}

void worker::set_certificates(std::shared_ptr<const certificate_set> certificates) {
  net::post(ctx_,
            [this, certificates = std::move(certificates)]() mutable { certificates_ = std::move(certificates); });
}

void worker::prewarm(std::string_view server_name) {
  if (!snapshot_->prewarm_on_sni()) return;
  auto label = routing::label_of_host(server_name, snapshot_->table().domain());
  const auto* app = label ? snapshot_->table().find(label->view()) : nullptr;
  if (!app) return;
  if (const auto& pool = snapshot_->pool(*app->active); pool && pool->prewarm())
    worker_stats::bump(stats_.sni_prewarms);
}

void worker::close_acceptors() {
  boost::system::error_code ignored;
  if (acceptor_) acceptor_->close(ignored);
  if (tls_acceptor_) tls_acceptor_->close(ignored);
}

void worker::begin_drain() {
  net::post(ctx_, [this] {
    if (draining_) return;
    draining_ = true;
    close_acceptors();
    // Copy: closing an idle session detaches it from sessions_.
    auto sessions = sessions_;
    for (auto* s : sessions) s->on_drain();
    if (sessions_.empty() && shared_.on_worker_drained) shared_.on_worker_drained();
  });
}

void worker::stop() {
  net::post(ctx_, [this] {
    draining_ = true;
    close_acceptors();
    auto sessions = sessions_;
    for (auto* s : sessions) s->force_close();
    upstream_.close_all();
    parking_.stop();
    // No ctx_.stop(): every operation was just cancelled, so run() returns once their
    // handlers have run and every session has been destroyed in order.
  });
}

void worker::attach(session_base& s) noexcept {
  s.registry_index_ = static_cast<std::uint32_t>(sessions_.size());
  sessions_.push_back(&s);
  stats_.open_connections.store(sessions_.size(), std::memory_order_relaxed);
}

void worker::detach(session_base& s) noexcept {
  unpark(s);
  const auto i = s.registry_index_;
  sessions_[i] = sessions_.back();
  sessions_[i]->registry_index_ = i;
  sessions_.pop_back();
  stats_.open_connections.store(sessions_.size(), std::memory_order_relaxed);
  if (overloaded_) update_overload(shared_.connections.load(std::memory_order_relaxed));
  if (draining_ && sessions_.empty() && shared_.on_worker_drained) shared_.on_worker_drained();
}

void worker::park(session_base& s) noexcept {
  s.in_idle_list_ = true;
  s.idle_prev_ = idle_tail_;
  s.idle_next_ = nullptr;
  if (idle_tail_)
    idle_tail_->idle_next_ = &s;
  else
    idle_head_ = &s;
  idle_tail_ = &s;
}

void worker::unpark(session_base& s) noexcept {
  if (!s.in_idle_list_) return;
  s.in_idle_list_ = false;
  (s.idle_prev_ ? s.idle_prev_->idle_next_ : idle_head_) = s.idle_next_;
  (s.idle_next_ ? s.idle_next_->idle_prev_ : idle_tail_) = s.idle_prev_;
  s.idle_prev_ = s.idle_next_ = nullptr;
}

// ---- the overload manager ------------------------------------------------------------
//
// A connection costs the proxy little, but max_connections bounds them, and a flood of
// connections that send nothing (or trickle) would otherwise hold every slot until
// their timeouts, while normal clients are refused. So, like Envoy's overload manager:
//  - from 90% of max_connections, waits for a request head shrink to
//    deadlines::k_overloaded_wait, for new connections and for those already waiting;
//  - while overloaded, each new connection closes the connection that has been idle
//    longest (never sent a request, or between keep-alive requests): connections that
//    use their slot keep it;
//  - over max_connections with nothing idle to close, the new connection gets a fast
//    503 overloaded and is closed.

bool worker::admit() {
  const auto max = snapshot_->limits().max_connections;
  const auto connections = shared_.connections.fetch_add(1, std::memory_order_relaxed) + 1;
  update_overload(connections);
  if (!overloaded_) return true;
  // The oldest idle connection makes room; a few are looked at, since a parked one may
  // already have a request waiting. Its slot is free once its handler has run.
  std::size_t looked = 0;
  for (auto* s = idle_head_; s && looked < k_eviction_scan; s = s->idle_next_, ++looked) {
    if (!s->try_evict()) continue;
    unpark(*s);
    worker_stats::bump(stats_.connections_evicted);
    return true;
  }
  if (connections <= max) return true;
  shared_.connections.fetch_sub(1, std::memory_order_relaxed);
  return false;
}

void worker::update_overload(std::size_t connections) {
  const auto max = snapshot_->limits().max_connections;
  if (!overloaded_ && overload_starts(connections, max)) {
    overloaded_ = true;
    stats_.overload_active.store(true, std::memory_order_relaxed);
    worker_stats::bump(stats_.overload_episodes);
    common::log_event("overload", "\"state\":\"on\",\"connections\":" + std::to_string(connections));
    // Copy: a session may close, and detach, from its handler.
    auto sessions = sessions_;
    for (auto* s : sessions) s->on_overload();
  } else if (overloaded_ && overload_ends(connections, max)) {
    overloaded_ = false;
    stats_.overload_active.store(false, std::memory_order_relaxed);
    common::log_event("overload", "\"state\":\"off\",\"connections\":" + std::to_string(connections));
  }
}

// One write without waiting: a new connection's send buffer is empty, so the answer fits
// or the client is already gone.
void worker::reject(tcp_socket& socket, bool answer_it) {
  worker_stats::bump(stats_.connections_rejected);
  boost::system::error_code ignored;
  if (!answer_it || lingering_ >= k_max_lingering) {
    socket.close(ignored);
    return;
  }
  const auto answer = overloaded_answer(ids_.next(unix_ms_now()).view());
  if (::send(socket.native_handle(), answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
    socket.close(ignored);
    return;
  }
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  net::co_spawn(ctx_, linger(std::move(socket)), net::detached);
}

// Reads and drops what the refused client sends until it closes, for at most
// k_reject_linger.
net::awaitable<void> worker::linger(tcp_socket socket) {
  ++lingering_;
  steady_timer timer(ctx_.get_executor(), k_reject_linger);
  timer.async_wait([&socket](boost::system::error_code ec) {
    boost::system::error_code ignored;
    if (!ec) socket.cancel(ignored);  // the frame lives until the read below ends
  });
  std::array<char, 1024> sink;
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(net::buffer(sink), net::as_tuple(net::use_awaitable));
    if (ec) break;
  }
  timer.cancel();
  --lingering_;
}

// ---- spreading connections over the workers ------------------------------------------
//
// The workers share one listening socket, and whichever is awake first accepts: a burst
// of keep-alive connections (a load balancer's, a client's pool) can land mostly on one
// worker and stay there, so that it runs flat out while the other idles (seen: 95% and
// 11% of a core under wrk). So the worker that accepts a connection gives it to the
// worker with the fewest open connections, itself on a tie (HAProxy spreads accepted
// connections over its threads the same way). The move costs the connection an
// epoll_ctl out and one in, once. Per-worker listening sockets (SO_REUSEPORT) would
// spread them by the kernel's hash instead, but would let a second instance of the proxy
// bind the same port and silently take part of the traffic (app/server.cpp).

worker& worker::least_loaded() noexcept {
  worker* best = this;
  auto best_load = load();
  for (auto* w : shared_.workers) {
    if (const auto l = w->load(); l < best_load) {
      best = w;
      best_load = l;
    }
  }
  return *best;
}

template <class Stream>
void worker::hand_over(int fd, tcp protocol) {
  incoming_.fetch_add(1, std::memory_order_relaxed);
  // The descriptor is closed if this worker's loop is gone before the handler runs.
  struct descriptor {
    int fd;
    explicit descriptor(int f) : fd(f) {}
    descriptor(descriptor&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
    descriptor(const descriptor&) = delete;
    ~descriptor() {
      if (fd >= 0) ::close(fd);
    }
  };
  net::post(ctx_, [this, d = descriptor(fd), protocol]() mutable {
    incoming_.fetch_sub(1, std::memory_order_relaxed);
    tcp_socket socket(ctx_.get_executor());
    boost::system::error_code ec;
    socket.assign(protocol, d.fd, ec);
    if (ec) return;
    d.fd = -1;
    take<Stream>(std::move(socket));
  });
}

template <class Stream>
void worker::take(tcp_socket socket) {
  boost::system::error_code ignored;
  // Handed over while this worker began to drain: closed, as its listener would have.
  if (draining_) return socket.close(ignored);
  if (!admit()) {
    // A TLS client cannot read a plain-text 503 before its handshake: it is closed.
    reject(socket, !std::is_same_v<Stream, tls_stream>);
    return;
  }
  socket.set_option(tcp::no_delay(true), ignored);
  if constexpr (std::is_same_v<Stream, tls_stream>) {
    // The handshake is the session's first step (under its timeout).
    std::make_shared<http_session<tls_stream>>(*this, tls_stream(std::move(socket), certificates_->front()))->start();
  } else {
    // Plain TCP answers are written at once where the socket takes them (write_now).
    socket.non_blocking(true, ignored);
    parking_.park(std::move(socket),
                  deadlines::next_request(std::chrono::steady_clock::now(), false, snapshot_->limits(), overloaded_),
                  false);
  }
}

template <class Stream>
net::awaitable<void> worker::accept_loop(tcp_acceptor& acceptor) {
  boost::system::error_code ignored;
  const auto protocol = acceptor.local_endpoint(ignored).protocol();
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(net::as_tuple(net::use_awaitable));
    if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors (EMFILE/ENFILE) or a transient error: back off briefly instead
      // of spinning on an accept that keeps failing.
      std::string fields = "\"error\":";
      common::append_json_string(fields, ec.message());
      common::log_event("accept_failed", fields);
      steady_timer pause(ctx_.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(net::as_tuple(net::use_awaitable));
      continue;
    }
    worker_stats::bump(stats_.connections_accepted);
    auto& to = least_loaded();
    if (&to == this) {
      take<Stream>(std::move(socket));
      continue;
    }
    const int fd = socket.release(ec);  // out of this worker's epoll set
    if (ec) {
      socket.close(ignored);
      continue;
    }
    to.hand_over<Stream>(fd, protocol);
  }
}

}  // namespace ignite::proxy
