#pragma once
// A real worker on 127.0.0.1:0, in the test process, in front of static endpoints: the
// sessions it accepts are the code under test, driven from outside by real sockets. The
// pods' readiness probes run on a supervisor thread as they do in the proxy.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <nlohmann/json.hpp>

#include "coldstart/clock.hpp"
#include "coldstart/pool_registry.hpp"
#include "coldstart/static_provider.hpp"
#include "proxy/route_snapshot.hpp"
#include "proxy/worker.hpp"
#include "routing/config.hpp"

namespace ignite::proxy::testing {

inline constexpr std::string_view k_host = "greeter-acme-corp.ignite.dodil.cloud";

class worker_harness {
 public:
  // `limits`: only the keys to change. The app acme-corp/greeter version 1 is served by
  // `endpoint` ("127.0.0.1:port"). Waits until that endpoint's pod is ready.
  explicit worker_harness(const std::string& endpoint, nlohmann::json limits = nlohmann::json::object());
  ~worker_harness();
  worker_harness(const worker_harness&) = delete;
  worker_harness& operator=(const worker_harness&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  proxy::worker& worker() noexcept { return *worker_; }
  // Open client connections, as the worker counts them.
  std::size_t connections() const noexcept { return shared_.connections.load(); }
  // Runs `fn` on the worker's thread and waits for it to return.
  void on_worker_thread(std::function<void()> fn);

  // A TLS listener on 127.0.0.1:0 whose connections, once past their handshake, are
  // served by http_session<tls_stream> on this worker. Returns its port.
  std::uint16_t listen_tls(boost::asio::ssl::context& tls);

 private:
  boost::asio::io_context supervisor_ctx_{1};
  std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> supervisor_work_;
  std::thread supervisor_;
  coldstart::steady_clock clock_;
  coldstart::static_provider static_provider_{supervisor_ctx_};
  coldstart::pool_registry pools_;
  routing::config config_;
  std::shared_ptr<const route_snapshot> snapshot_;
  shared_state shared_;
  std::unique_ptr<proxy::worker> worker_;
  std::shared_ptr<tcp_acceptor> tls_acceptor_;
  std::uint16_t port_ = 0;
};

// A self-signed certificate and key for `name`, generated with OpenSSL, in PEM.
struct test_certificate {
  std::string cert_pem;
  std::string key_pem;
};
test_certificate make_certificate(const std::string& name);

}  // namespace ignite::proxy::testing
