#include "cluster/etcd_connection.hpp"

#include <poll.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "cluster/etcd_dial.hpp"
#include "routing/state_store.hpp"

namespace ignite::cluster {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// etcd's own words for a failed request: the gateway's "message" (or "error"), else the
// start of the body.
std::string message_of(const http::response<http::string_body>& res, const nlohmann::json& answer) {
  std::string message = answer.is_object() ? answer.value("message", answer.value("error", "")) : "";
  if (message.empty()) message = res.body().substr(0, 200);
  return message;
}

// etcd no longer takes the token: unknown or expired (401, gRPC code 16), or issued
// before a change of users or roles. A new one may be asked for.
bool token_refused(const http::response<http::string_body>& res) {
  if (res.result() == http::status::ok) return false;
  if (res.result() == http::status::unauthorized) return true;
  const auto& body = res.body();
  return body.find("invalid auth token") != std::string::npos ||
         body.find("revision in header is old") != std::string::npos;
}

}  // namespace

etcd_connection::etcd_connection(const routing::etcd_spec& spec, std::chrono::milliseconds timeout)
    : endpoints_(spec.endpoints),
      timeout_(timeout),
      tls_(etcd_tls_context(spec)),
      username_(spec.username),
      password_(spec.password) {
  if (endpoints_.empty()) throw routing::state_error("etcd: no endpoint configured");
}

std::string etcd_connection::token(bool renew) {
  std::lock_guard lock(mutex_);
  if (username_.empty()) return {};
  if (renew || token_.empty()) authenticate();
  return token_;
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
    const auto why = dial(ioc_, stream_, ep, timeout_, tls_.get());
    if (why.empty()) {
      buffer_.clear();
      return;
    }
    failures += (failures.empty() ? "" : "; ") + ep.to_string() + ": " + why;
    current_ = (current_ + 1) % endpoints_.size();
  }
  throw routing::state_error("etcd unreachable: " + failures);
}

void etcd_connection::authenticate() {
  token_.clear();
  request req{http::verb::post, "/v3/auth/authenticate", 11};
  req.set(http::field::content_type, "application/json");
  req.body() = nlohmann::json{{"name", username_}, {"password", password_}}.dump();
  req.prepare_payload();
  auto res = exchange(req, true);
  const auto answer = nlohmann::json::parse(res.body(), nullptr, false);
  if (res.result() != http::status::ok)
    throw routing::state_error("etcd " + endpoints_[current_].to_string() + ": authentication as " + username_ +
                               " failed: " + message_of(res, answer));
  if (answer.is_object()) token_ = answer.value("token", "");
  if (token_.empty()) throw routing::state_error("etcd " + endpoints_[current_].to_string() + ": no auth token given");
}

nlohmann::json etcd_connection::post(std::string_view path, const nlohmann::json& body, bool retry_safe) {
  std::lock_guard lock(mutex_);
  if (!username_.empty() && token_.empty()) authenticate();
  request req{http::verb::post, path, 11};
  req.set(http::field::content_type, "application/json");
  if (!token_.empty()) req.set(http::field::authorization, token_);
  req.body() = body.dump();
  req.prepare_payload();
  auto res = exchange(req, retry_safe);
  // A request refused for its token was not applied: safe to send again, once.
  if (!username_.empty() && token_refused(res)) {
    authenticate();
    req.set(http::field::authorization, token_);
    res = exchange(req, retry_safe);
  }
  nlohmann::json answer = nlohmann::json::parse(res.body(), nullptr, false);
  if (res.result() != http::status::ok)
    throw routing::state_error("etcd " + endpoints_[current_].to_string() + ": " + message_of(res, answer));
  if (answer.is_discarded()) throw routing::state_error("etcd: an answer that is not JSON");
  return answer;
}

etcd_connection::response etcd_connection::exchange(request& req, bool retry_safe) {
  // A kept-alive connection may have been closed by etcd meanwhile; a fresh one is tried
  // once more. So is another endpoint, for reads.
  for (int attempt = 0;; ++attempt) {
    // A kept-alive connection whose member went away has its FIN waiting: a new one,
    // rather than a write that may or may not reach anyone.
    if (stream_) {
      pollfd p{stream_->tcp().socket().native_handle(), POLLRDHUP, 0};
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
    stream_->tcp().expires_after(timeout_);
    stream_->visit([&](auto& s) { http::async_write(s, req, [&](beast::error_code e, std::size_t) { ec = e; }); });
    run();
    if (!ec) {
      written = true;
      http::response_parser<http::string_body> parser;
      parser.body_limit(256u << 20);
      stream_->tcp().expires_after(timeout_);
      stream_->visit(
          [&](auto& s) { http::async_read(s, buffer_, parser, [&](beast::error_code e, std::size_t) { ec = e; }); });
      run();
      if (!ec) {
        auto res = parser.release();
        if (!res.keep_alive()) stream_.reset();
        return res;
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
