#pragma once
// One HTTP/1.1 connection to etcd's v3 JSON gateway (`POST /v3/kv/range`, …), blocking,
// each request capped by a timeout, connect included. The endpoints are tried in order:
// an endpoint that refuses or times out is skipped, and the next request starts with the
// one that last worked. Thread-safe: one request at a time on the connection.
//
// Secured etcd (state.etcd): https:// endpoints are spoken to over TLS, etcd's
// certificate checked against tls.ca_file and the endpoint's host; with a username, the
// connection authenticates (`/v3/auth/authenticate`) before its first request and sends
// the token with each. etcd drops a token after a while unused, when its member
// restarts, or when users or roles change: a request it refuses for its token
// authenticates again and is sent once more.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "cluster/etcd_stream.hpp"
#include "common/host_port.hpp"
#include "routing/config.hpp"

namespace ignite::cluster {

class etcd_connection {
 public:
  // Connects lazily, on the first request, to `spec`'s endpoints with its TLS and auth.
  // Throws routing::state_error if a TLS file cannot be used (naming its key).
  etcd_connection(const routing::etcd_spec& spec, std::chrono::milliseconds timeout);
  etcd_connection(const etcd_connection&) = delete;
  etcd_connection& operator=(const etcd_connection&) = delete;

  // POSTs `body` to `path` and returns etcd's answer. `retry_safe`: the request may be
  // sent again on another endpoint if it may have been lost (reads); a write is sent
  // again only when it surely never left (or etcd refused its token). Throws
  // routing::state_error: no endpoint answered ("etcd unreachable: …"), authentication
  // failed, or etcd's own error message.
  nlohmann::json post(std::string_view path, const nlohmann::json& body, bool retry_safe);

  // The auth token to send on a connection of one's own (a watch stream): empty without
  // auth; authenticates first if there is none yet or `renew` (the last was refused).
  // Throws routing::state_error like post().
  std::string token(bool renew);

  // The endpoint in use, "host:port" (for messages).
  std::string endpoint() const;

 private:
  using request = boost::beast::http::request<boost::beast::http::string_body>;
  using response = boost::beast::http::response<boost::beast::http::string_body>;

  // Sends `req` and reads the answer, whatever its status, over the endpoints as post()
  // says. mutex_ held.
  response exchange(request& req, bool retry_safe);
  // A new token_ for username_. mutex_ held.
  void authenticate();
  // Opens a connection to the first endpoint that accepts, from current_ on.
  void connect();
  void run();

  std::vector<common::host_port> endpoints_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<boost::asio::ssl::context> tls_;  // null: plain http
  std::string username_, password_;                 // empty username_: no auth
  mutable std::mutex mutex_;
  boost::asio::io_context ioc_;
  std::optional<etcd_stream> stream_;
  boost::beast::flat_buffer buffer_;
  std::size_t current_ = 0;
  std::string token_;
};

}  // namespace ignite::cluster
