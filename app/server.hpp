#pragma once
// The process: workers, listeners, the pod supervisor, signals. SIGHUP reloads the
// config file and swaps the route snapshot; SIGTERM/SIGINT drain, stop every pod this
// proxy started, and exit.

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "coldstart/clock.hpp"
#include "coldstart/pool_registry.hpp"
#include "coldstart/process_provider.hpp"
#include "coldstart/static_provider.hpp"
#include "proxy/worker.hpp"
#include "routing/config.hpp"

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
  // bound), and builds the first route snapshot, starting reserved pods.
  server(std::filesystem::path config_path, routing::config cfg);
  ~server();

  // Runs until SIGTERM/SIGINT has drained the workers and stopped the pods. Returns the
  // exit code.
  int run();

 private:
  std::shared_ptr<const proxy::route_snapshot> build_snapshot(const routing::config& cfg);
  void wait_for_signal();
  void reload();
  void begin_drain();
  void finish();
  void tick_pools();

  std::filesystem::path config_path_;
  routing::config config_;
  boost::asio::io_context ctx_{1};  // signals and reloads; never request traffic
  boost::asio::signal_set signals_{ctx_};
  boost::asio::steady_timer drain_timer_{ctx_};

  // Pods: providers and probes run on the supervisor thread. Declared before the pools
  // and workers, which use them, so they are destroyed after.
  boost::asio::io_context supervisor_ctx_{1};
  boost::asio::steady_timer tick_timer_{supervisor_ctx_};
  coldstart::steady_clock clock_;
  coldstart::static_provider static_provider_{supervisor_ctx_};
  coldstart::process_provider process_provider_;
  coldstart::pool_registry pools_;
  context_thread supervisor_{supervisor_ctx_};

  proxy::shared_state shared_;
  std::vector<std::unique_ptr<proxy::worker>> workers_;
  std::vector<proxy::tcp_acceptor> acceptors_;  // handed to workers by run()
  bool draining_ = false;
  bool finished_ = false;
};

}  // namespace ignite::app
