#include "proxy/worker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.hpp"
#include "proxy/client_stream.hpp"
#include "proxy/http_session.hpp"
#include "proxy/request_context.hpp"
#include "routing/host.hpp"

namespace ignite::proxy {

namespace net = boost::asio;
using tcp = net::ip::tcp;

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
    // No ctx_.stop(): every operation was just cancelled, so run() returns once their
    // handlers have run and every session has been destroyed in order.
  });
}

void worker::attach(session_base& s) noexcept {
  s.registry_index_ = sessions_.size();
  sessions_.push_back(&s);
}

void worker::detach(session_base& s) noexcept {
  auto i = s.registry_index_;
  sessions_[i] = sessions_.back();
  sessions_[i]->registry_index_ = i;
  sessions_.pop_back();
  if (draining_ && sessions_.empty() && shared_.on_worker_drained) shared_.on_worker_drained();
}

template <class Stream>
net::awaitable<void> worker::accept_loop(tcp_acceptor& acceptor) {
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
    if (shared_.connections.fetch_add(1, std::memory_order_relaxed) >= snapshot_->limits().max_connections) {
      shared_.connections.fetch_sub(1, std::memory_order_relaxed);
      worker_stats::bump(stats_.connections_rejected);
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    if constexpr (std::is_same_v<Stream, tls_stream>) {
      // The handshake is the session's first step (under its timeout).
      std::make_shared<http_session<tls_stream>>(*this, tls_stream(std::move(socket), certificates_->front()))->start();
    } else {
      std::make_shared<http_session<tcp_socket>>(*this, std::move(socket))->start();
    }
  }
}

}  // namespace ignite::proxy
