#pragma once
// One connection to the admin listener: reads requests (heads bounded and checked as the
// data plane checks them, bodies by Content-Length only), answers the control API, and
// runs invoke through an upstream_exchange, as a public request would run.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <nlohmann/json.hpp>

#include "admin/control_plane.hpp"
#include "proxy/io_types.hpp"
#include "proxy/upstream_exchange.hpp"

namespace ignite::admin {

class admin_server;

class admin_session final : public proxy::watchdog, public std::enable_shared_from_this<admin_session> {
 public:
  using clock = std::chrono::steady_clock;

  admin_session(admin_server& server, proxy::tcp_socket socket);
  ~admin_session();

  void start();
  // Admin thread: closes the connection and aborts what it waits on.
  void close();

  void set_deadline(clock::time_point deadline) override;

  // An HTTP answer.
  struct response {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
  };

 private:
  struct request;
  boost::asio::awaitable<void> run(std::shared_ptr<admin_session> self);
  boost::asio::awaitable<std::optional<request>> read_request(bool first, response& refusal);
  boost::asio::awaitable<response> handle(request& r);
  response dispatch(request& r, const principal& p);
  boost::asio::awaitable<response> invoke(request& r, const principal& p, const std::string& id);
  boost::asio::awaitable<bool> write(const response& r, bool keep_alive);
  void on_watch(unsigned generation);

  admin_server& server_;
  proxy::tcp_socket socket_;
  proxy::steady_timer timer_;
  boost::beast::flat_buffer buffer_;
  std::string client_ip_;
  clock::time_point deadline_ = clock::time_point::max();
  proxy::upstream_exchange* watched_ = nullptr;
  unsigned watch_generation_ = 0;
  bool timed_out_ = false;
  bool closed_ = false;
};

}  // namespace ignite::admin
