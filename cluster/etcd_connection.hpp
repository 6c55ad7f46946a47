#pragma once
// One HTTP/1.1 connection to etcd's v3 JSON gateway (`POST /v3/kv/range`, …), blocking,
// each request capped by a timeout, connect included. The endpoints are tried in order:
// an endpoint that refuses or times out is skipped, and the next request starts with the
// one that last worked. Thread-safe: one request at a time on the connection.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <nlohmann/json.hpp>

#include "common/host_port.hpp"

namespace ignite::cluster {

class etcd_connection {
 public:
  etcd_connection(std::vector<common::host_port> endpoints, std::chrono::milliseconds timeout);
  etcd_connection(const etcd_connection&) = delete;
  etcd_connection& operator=(const etcd_connection&) = delete;

  // POSTs `body` to `path` and returns etcd's answer. `retry_safe`: the request may be
  // sent again on another endpoint if it may have been lost (reads); a write is sent
  // again only when it surely never left. Throws routing::state_error: no endpoint
  // answered ("etcd unreachable: …"), or etcd's own error message.
  nlohmann::json post(std::string_view path, const nlohmann::json& body, bool retry_safe);

  // The auth token sent with every request (etcd's /v3/auth/authenticate).
  void set_token(std::string token);

  // The endpoint in use, "host:port" (for messages).
  std::string endpoint() const;

 private:
  // Opens a connection to the first endpoint that accepts, from current_ on.
  void connect();
  void run();

  std::vector<common::host_port> endpoints_;
  std::chrono::milliseconds timeout_;
  mutable std::mutex mutex_;
  boost::asio::io_context ioc_;
  std::optional<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
  std::size_t current_ = 0;
  std::string token_;
};

}  // namespace ignite::cluster
