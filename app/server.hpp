#pragma once
// The process: workers, listeners, the pod supervisor, signals. SIGHUP reloads the
// config file and swaps the route snapshot; SIGUSR1 reopens the access log file;
// SIGTERM/SIGINT drain, stop every pod this proxy started, and exit.

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "admin/admin_server.hpp"
#include "admin/control_plane.hpp"
#include "app/image_service.hpp"
#include "cluster/shared_provider.hpp"
#include "coldstart/clock.hpp"
#include "coldstart/pool_registry.hpp"
#include "coldstart/process_provider.hpp"
#include "coldstart/static_provider.hpp"
#include "proxy/access_log_sink.hpp"
#include "proxy/counter_registry.hpp"
#include "proxy/worker.hpp"
#include "routing/config.hpp"
#include "routing/state_store.hpp"

namespace ignite::app {

// Start-up could not complete: what() is one line for the operator
// ("listen.http 127.0.0.1:8080: address already in use").
class startup_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A thread running an io_context; stopped and joined when it goes away, also when the
// constructor of its owner throws after starting it.
class context_thread {
 public:
  explicit context_thread(boost::asio::io_context& ctx) : ctx_(ctx) {}
  ~context_thread() {
    ctx_.stop();
    if (thread_.joinable()) thread_.join();
  }
  template <class F>
  void start(F&& f) {
    thread_ = std::thread(std::forward<F>(f));
  }

 private:
  boost::asio::io_context& ctx_;
  std::thread thread_;
};

class server {
 public:
  // Checks the commands, binds every listener (throws startup_error if one cannot be
  // bound), opens the state store and the secrets key, and builds the first route
  // snapshot from the config file's apps and the API's, starting reserved pods.
  server(std::filesystem::path config_path, routing::config cfg);
  ~server();

  // Runs until SIGTERM/SIGINT has drained the workers and stopped the pods. Returns the
  // exit code.
  int run();

 private:
  std::shared_ptr<const proxy::route_snapshot> build_snapshot(const routing::config& cfg);
  // The config file's apps with the API's: the route table's input. Throws config_error
  // if a file app's host label is taken by an API app.
  routing::config merged(const routing::config& file_cfg) const;
  // Builds the snapshot of `file_cfg` and the API's apps and publishes it to every
  // worker and the admin listener, returning once every worker uses it. Any thread;
  // one at a time.
  void rebuild(const routing::config& file_cfg);
  void on_committed(const std::vector<routing::event>& events);
  void wait_for_signal();
  void reload();
  void begin_drain();
  void finish();
  void tick_pools();
  void reopen_access_log();
  // /metrics, on the admin thread: the workers' and versions' counters added up.
  std::string render_metrics() const;

  std::filesystem::path config_path_;
  routing::config config_;
  std::unique_ptr<routing::state_store> store_;
  std::unique_ptr<admin::control_plane> plane_;
  std::mutex config_mutex_;   // config_: the main thread reloads it, the admin thread reads it
  std::mutex rebuild_mutex_;  // one snapshot at a time; guards the two below
  std::shared_ptr<const proxy::route_snapshot> current_snapshot_;
  // Snapshots replaced but perhaps still held by requests in flight. They are freed on
  // the supervisor thread once nothing else holds them: freeing one with many apps takes
  // milliseconds, which a worker's thread must never spend.
  std::vector<std::shared_ptr<const proxy::route_snapshot>> retired_snapshots_;
  boost::asio::io_context ctx_{1};  // signals and reloads; never request traffic
  boost::asio::signal_set signals_{ctx_};
  boost::asio::steady_timer drain_timer_{ctx_};

  // Pods: providers and probes run on the supervisor thread. Declared before the pools
  // and workers, which use them, so they are destroyed after.
  boost::asio::io_context supervisor_ctx_{1};
  boost::asio::steady_timer tick_timer_{supervisor_ctx_};
  coldstart::steady_clock clock_;
  // Request counters of every routed version; made before the pools, whose pod events
  // it counts.
  std::unique_ptr<proxy::counter_registry> counters_;
  coldstart::static_provider static_provider_{supervisor_ctx_};
  coldstart::process_provider process_provider_;
  std::unique_ptr<image_service> images_;  // podman pods, registry checks, pulls and collection
  // With state.etcd: this node's process and image pods, shared with the cluster's nodes.
  std::unique_ptr<cluster::shared_provider> shared_pods_;
  coldstart::pool_registry pools_;
  context_thread supervisor_{supervisor_ctx_};

  std::unique_ptr<proxy::access_log_sink> access_sink_;
  proxy::shared_state shared_;
  std::vector<std::unique_ptr<proxy::worker>> workers_;
  std::vector<proxy::tcp_acceptor> acceptors_;        // handed to workers by run()
  std::vector<proxy::tcp_acceptor> https_acceptors_;  // the same, for listen.https
  // Ticket keys outlive every certificate set: any worker resumes any ticket, across reloads.
  std::shared_ptr<proxy::session_ticket_keys> ticket_keys_;
  std::optional<proxy::tcp_acceptor> admin_acceptor_;
  std::unique_ptr<admin::admin_server> admin_;
  // Changes committed to the store (through the API) rebuild the routes.
  std::unique_ptr<routing::state_store::watch_handle> watch_;
  std::atomic<std::uint64_t> reloads_succeeded_{0};
  std::atomic<std::uint64_t> reloads_failed_{0};
  std::atomic<bool> ready_{false};
  std::atomic<bool> draining_{false};
  bool finished_ = false;
};

}  // namespace ignite::app
