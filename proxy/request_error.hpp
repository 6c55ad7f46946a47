#pragma once
// How a request ended, as one value: the row of the contract's error table (DESIGN.md,
// "What reaches the client"), where the failure came from, whether the request may
// still be tried again because nothing of it reached a pod, the short public cause, and
// the detail that only the log (and an authenticated invoke) may see. The table and its
// default messages live here, in one place.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ignite::proxy {

enum class proxy_error : std::uint8_t {
  none,
  bad_request,
  app_not_found,
  path_not_found,
  method_not_allowed,
  request_timeout,
  payload_too_large,
  misdirected_request,
  headers_too_large,
  upstream_error,
  overloaded,
  pod_start_failed,
  cold_start_timeout,
  upstream_timeout,
  // Not answered: the client went away (or the proxy is closing its connection).
  // Logged as 499, nginx's code for it; never sent.
  client_closed,
};

inline constexpr std::size_t k_proxy_error_count = static_cast<std::size_t>(proxy_error::client_closed) + 1;

struct error_row {
  unsigned status;
  std::string_view code;
  std::string_view reason;   // HTTP reason phrase
  std::string_view message;  // the public cause when nothing more specific is known
};

// The contract's row for `e`. `none` maps to 200 "ok".
constexpr error_row row_of(proxy_error e) noexcept {
  switch (e) {
    case proxy_error::none:
      return {200, "ok", "OK", ""};
    case proxy_error::bad_request:
      return {400, "bad_request", "Bad Request", "malformed request"};
    case proxy_error::app_not_found:
      return {404, "app_not_found", "Not Found", "no app is served at this host"};
    case proxy_error::path_not_found:
      return {404, "path_not_found", "Not Found", "apps answer POST / only"};
    case proxy_error::method_not_allowed:
      return {405, "method_not_allowed", "Method Not Allowed", "apps answer POST / only"};
    case proxy_error::request_timeout:
      return {408, "request_timeout", "Request Timeout", "the client was too slow sending the request"};
    case proxy_error::payload_too_large:
      return {413, "payload_too_large", "Payload Too Large", "the request body is larger than max_body_bytes"};
    case proxy_error::misdirected_request:
      return {421, "misdirected_request", "Misdirected Request",
              "this connection's TLS server name is for another host"};
    case proxy_error::headers_too_large:
      return {431, "headers_too_large", "Request Header Fields Too Large",
              "the request head is larger than max_header_bytes"};
    case proxy_error::upstream_error:
      return {502, "upstream_error", "Bad Gateway", "the app closed the connection or sent an invalid response"};
    case proxy_error::overloaded:
      return {503, "overloaded", "Service Unavailable", "too many requests are waiting for this app to start"};
    case proxy_error::pod_start_failed:
      return {503, "pod_start_failed", "Service Unavailable", "the app could not be started"};
    case proxy_error::cold_start_timeout:
      return {504, "cold_start_timeout", "Gateway Timeout", "the app did not listen on $PORT in time"};
    case proxy_error::upstream_timeout:
      return {504, "upstream_timeout", "Gateway Timeout", "the app did not answer within request_timeout_ms"};
    case proxy_error::client_closed:
      return {499, "client_closed", "Client Closed Request", "the client closed the connection"};
  }
  return {500, "internal", "Internal Server Error", "internal error"};
}

// Where a failure came from.
enum class error_source : std::uint8_t { client, pod, proxy };

constexpr std::string_view name_of(error_source s) noexcept {
  return s == error_source::client ? "client" : s == error_source::pod ? "pod" : "proxy";
}

struct request_error {
  proxy_error kind = proxy_error::none;
  error_source source = error_source::proxy;
  // Nothing of the request was written to a pod: trying another pod cannot run it twice.
  bool retry_safe = false;
  std::string message;  // public cause; empty: the row's default
  std::string detail;   // log only (and the authenticated invoke answer): paths, pod output

  explicit operator bool() const noexcept { return kind != proxy_error::none; }
  std::string_view public_message() const noexcept { return message.empty() ? row_of(kind).message : message; }

  static request_error from_client(proxy_error kind, std::string message = {}) {
    return {kind, error_source::client, true, std::move(message), {}};
  }
  static request_error from_pod(proxy_error kind, bool retry_safe, std::string message = {}, std::string detail = {}) {
    return {kind, error_source::pod, retry_safe, std::move(message), std::move(detail)};
  }
  static request_error from_proxy(proxy_error kind, std::string message = {}, std::string detail = {}) {
    return {kind, error_source::proxy, true, std::move(message), std::move(detail)};
  }
};

}  // namespace ignite::proxy
