#pragma once
// The process: workers, listeners, signals. SIGHUP reloads the config file and swaps
// the route snapshot; SIGTERM/SIGINT drain and stop.

#include <filesystem>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "coldstart/pool_registry.hpp"
#include "proxy/worker.hpp"
#include "routing/config.hpp"

namespace ignite::proxy {

class server {
 public:
  // Binds every listener (throws std::system_error if one cannot be bound) and builds
  // the first route snapshot (throws routing::config_error).
  server(std::filesystem::path config_path, routing::config cfg);
  ~server();

  // Runs until SIGTERM/SIGINT has drained the workers. Returns the exit code.
  int run();

 private:
  void wait_for_signal();
  void reload();
  void begin_drain();
  void finish();

  std::filesystem::path config_path_;
  routing::config config_;
  boost::asio::io_context ctx_{1};  // signals and reloads; never request traffic
  boost::asio::signal_set signals_{ctx_};
  boost::asio::steady_timer drain_timer_{ctx_};
  coldstart::pool_registry pools_;
  shared_state shared_;
  std::vector<std::unique_ptr<worker>> workers_;
  std::vector<boost::asio::ip::tcp::acceptor> acceptors_;  // handed to workers by run()
  bool draining_ = false;
  bool finished_ = false;
};

}  // namespace ignite::proxy
