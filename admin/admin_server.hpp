#pragma once
// The admin listener (`listen.admin`): the control API (/v1/…), /healthz, /readyz and
// /metrics,
// apart from public traffic. One thread of its own, its own limits (request size,
// timeouts, a connection cap), so a misbehaving admin client cannot starve the data
// plane, and its own upstream connections for invoke.
//
// Threads: construct and call methods from the process's main thread; everything else
// runs on the admin thread. publish() and set_draining() may be called from any thread.

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "admin/control_plane.hpp"
#include "common/ulid.hpp"
#include "proxy/access_log_sink.hpp"
#include "proxy/io_types.hpp"
#include "proxy/route_snapshot.hpp"
#include "proxy/upstream_pool.hpp"

namespace ignite::admin {

class admin_session;

struct admin_limits {
  std::size_t max_connections = 256;
  std::size_t max_header_bytes = 16384;
  std::size_t max_body_bytes = 1 << 20;  // API documents; an invoke payload may be max_body_bytes
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
};

class admin_server {
 public:
  // Why the process is not ready, or empty when it is (for /readyz).
  using readiness = std::function<std::string()>;
  // /metrics: the exposition, rendered on the admin thread for each scrape.
  struct metrics_source {
    std::string content_type;
    std::function<std::string()> render;
  };

  admin_server(control_plane& plane, std::shared_ptr<const proxy::route_snapshot> snapshot, readiness ready,
               admin_limits limits = {});
  ~admin_server();
  admin_server(const admin_server&) = delete;
  admin_server& operator=(const admin_server&) = delete;

  boost::asio::io_context& context() noexcept { return ctx_; }
  // Starts the admin thread on `acceptor` (open and listening, on context()).
  void start(proxy::tcp_acceptor acceptor);
  // Closes the listener and every connection; joins the thread.
  void stop();
  // Any thread: the routes invoke uses from now on.
  void publish(std::shared_ptr<const proxy::route_snapshot> snapshot);
  // Before start(): what /metrics serves (without it, /metrics answers 404), where
  // invoke's request lines go (null: stderr), and the admin thread's slot in every
  // version's counters (version_counters).
  void set_metrics(metrics_source source) { metrics_ = std::move(source); }
  void set_access_log(proxy::access_log_sink* sink) { access_sink_ = sink; }
  void set_counter_index(std::size_t index) { counter_index_ = index; }
  // Any thread: open admin connections.
  std::size_t connections() const noexcept { return connections_.load(std::memory_order_relaxed); }

  // Admin thread only, for sessions.
  control_plane& plane() noexcept { return plane_; }
  const std::shared_ptr<const proxy::route_snapshot>& snapshot() const noexcept { return snapshot_; }
  proxy::upstream_pool& upstream() noexcept { return upstream_; }
  common::ulid_generator& ids() noexcept { return ids_; }
  const admin_limits& limits() const noexcept { return limits_; }
  std::string not_ready_reason() const { return ready_(); }
  const metrics_source* metrics() const noexcept { return metrics_.render ? &metrics_ : nullptr; }
  std::size_t counter_index() const noexcept { return counter_index_; }
  void write_access_log(std::string_view lines);
  void attach(admin_session* s);
  void detach(admin_session* s);

 private:
  boost::asio::awaitable<void> accept_loop();

  control_plane& plane_;
  boost::asio::io_context ctx_{1};
  std::shared_ptr<const proxy::route_snapshot> snapshot_;
  readiness ready_;
  admin_limits limits_;
  metrics_source metrics_;
  proxy::access_log_sink* access_sink_ = nullptr;
  // Without a counter_registry a route snapshot's counters take any writer below 257.
  std::size_t counter_index_ = 256;
  std::atomic<std::size_t> connections_{0};
  proxy::upstream_pool upstream_{ctx_};
  common::ulid_generator ids_;
  std::unique_ptr<proxy::tcp_acceptor> acceptor_;
  std::vector<admin_session*> sessions_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ignite::admin
