#include "cluster/etcd_connection.hpp"

#include <poll.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "cluster/etcd_dial.hpp"
#include "routing/state_store.hpp"

namespace ignite::cluster {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

etcd_connection::etcd_connection(std::vector<common::host_port> endpoints, std::chrono::milliseconds timeout)
    : endpoints_(std::move(endpoints)), timeout_(timeout) {
  if (endpoints_.empty()) throw routing::state_error("etcd: no endpoint configured");
}

void etcd_connection::set_token(std::string token) {
  std::lock_guard lock(mutex_);
  token_ = std::move(token);
}

std::string etcd_connection::endpoint() const {
  std::lock_guard lock(mutex_);
  return endpoints_[current_].to_string();
}

void etcd_connection::run() {
  ioc_.restart();
  ioc_.run();
}

void etcd_connection::connect() {
  std::string failures;
  for (std::size_t tried = 0; tried < endpoints_.size(); ++tried) {
    const auto& ep = endpoints_[current_];
    const auto ec = dial(ioc_, stream_, ep, timeout_);
    if (!ec) {
      buffer_.clear();
      return;
    }
    failures += (failures.empty() ? "" : "; ") + ep.to_string() + ": " + ec.message();
    current_ = (current_ + 1) % endpoints_.size();
  }
  throw routing::state_error("etcd unreachable: " + failures);
}

nlohmann::json etcd_connection::post(std::string_view path, const nlohmann::json& body, bool retry_safe) {
  std::lock_guard lock(mutex_);
  http::request<http::string_body> req{http::verb::post, path, 11};
  req.set(http::field::content_type, "application/json");
  if (!token_.empty()) req.set(http::field::authorization, token_);
  req.body() = body.dump();
  req.prepare_payload();

  // A kept-alive connection may have been closed by etcd meanwhile; a fresh one is tried
  // once more. So is another endpoint, for reads.
  for (int attempt = 0;; ++attempt) {
    // A kept-alive connection whose member went away has its FIN waiting: a new one,
    // rather than a write that may or may not reach anyone.
    if (stream_) {
      pollfd p{stream_->socket().native_handle(), POLLRDHUP, 0};
      if (::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
        stream_.reset();
        current_ = (current_ + 1) % endpoints_.size();
      }
    }
    const bool reused = stream_.has_value();
    if (!stream_) connect();
    req.set(http::field::host, endpoints_[current_].to_string());
    beast::error_code ec;
    bool written = false;
    stream_->expires_after(timeout_);
    http::async_write(*stream_, req, [&](beast::error_code e, std::size_t) { ec = e; });
    run();
    if (!ec) {
      written = true;
      http::response_parser<http::string_body> parser;
      parser.body_limit(256u << 20);
      stream_->expires_after(timeout_);
      http::async_read(*stream_, buffer_, parser, [&](beast::error_code e, std::size_t) { ec = e; });
      run();
      if (!ec) {
        auto res = parser.release();
        if (!res.keep_alive()) stream_.reset();
        nlohmann::json answer = nlohmann::json::parse(res.body(), nullptr, false);
        if (res.result() != http::status::ok) {
          std::string message = answer.is_object() ? answer.value("message", answer.value("error", "")) : "";
          if (message.empty()) message = res.body().substr(0, 200);
          throw routing::state_error("etcd " + endpoints_[current_].to_string() + ": " + message);
        }
        if (answer.is_discarded()) throw routing::state_error("etcd: an answer that is not JSON");
        return answer;
      }
    }
    stream_.reset();
    const bool lost_unsent = !written;  // the request never left: safe to send again
    if (attempt == 0 && (retry_safe || lost_unsent)) {
      if (!reused) current_ = (current_ + 1) % endpoints_.size();  // a fresh connection failed: next endpoint
      continue;
    }
    if (attempt < static_cast<int>(endpoints_.size()) && retry_safe) {
      current_ = (current_ + 1) % endpoints_.size();
      continue;
    }
    throw routing::state_error("etcd " + endpoints_[current_].to_string() + ": " + ec.message() +
                               (written && !retry_safe ? " (the change may or may not have been applied)" : ""));
  }
}

}  // namespace ignite::cluster
