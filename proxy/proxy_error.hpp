#pragma once
// The error table of the contract (DESIGN.md, "What reaches the client"): every failure
// the proxy answers itself maps to exactly one row here, in one place.

#include <cstddef>
#include <string_view>

namespace ignite::proxy {

enum class proxy_error : unsigned char {
  none,
  bad_request,
  app_not_found,
  path_not_found,
  method_not_allowed,
  request_timeout,
  payload_too_large,
  headers_too_large,
  upstream_error,
  overloaded,
  pod_start_failed,
  cold_start_timeout,
  upstream_timeout,
};

inline constexpr std::size_t k_proxy_error_count = static_cast<std::size_t>(proxy_error::upstream_timeout) + 1;

struct error_row {
  unsigned status;
  std::string_view code;
  std::string_view reason;  // HTTP reason phrase
};

// The contract's row for `e` (status, code). `none` maps to 200 "ok".
constexpr error_row row_of(proxy_error e) noexcept {
  switch (e) {
    case proxy_error::none:
      return {200, "ok", "OK"};
    case proxy_error::bad_request:
      return {400, "bad_request", "Bad Request"};
    case proxy_error::app_not_found:
      return {404, "app_not_found", "Not Found"};
    case proxy_error::path_not_found:
      return {404, "path_not_found", "Not Found"};
    case proxy_error::method_not_allowed:
      return {405, "method_not_allowed", "Method Not Allowed"};
    case proxy_error::request_timeout:
      return {408, "request_timeout", "Request Timeout"};
    case proxy_error::payload_too_large:
      return {413, "payload_too_large", "Payload Too Large"};
    case proxy_error::headers_too_large:
      return {431, "headers_too_large", "Request Header Fields Too Large"};
    case proxy_error::upstream_error:
      return {502, "upstream_error", "Bad Gateway"};
    case proxy_error::overloaded:
      return {503, "overloaded", "Service Unavailable"};
    case proxy_error::pod_start_failed:
      return {503, "pod_start_failed", "Service Unavailable"};
    case proxy_error::cold_start_timeout:
      return {504, "cold_start_timeout", "Gateway Timeout"};
    case proxy_error::upstream_timeout:
      return {504, "upstream_timeout", "Gateway Timeout"};
  }
  return {500, "internal", "Internal Server Error"};
}

}  // namespace ignite::proxy
