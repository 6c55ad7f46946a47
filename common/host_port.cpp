#include "common/host_port.hpp"

#include <arpa/inet.h>

namespace ignite::common {

std::string host_port::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool is_ip_literal(std::string_view host) {
  if (host.empty() || host.size() > 64) return false;
  std::string text(host);
  unsigned char buf[16];
  return ::inet_pton(AF_INET, text.c_str(), buf) == 1 || ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

std::optional<host_port> parse_host_port(std::string_view text, bool allow_port_zero, std::string& why) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    why = "must be host:port";
    return std::nullopt;
  }
  auto host = text.substr(0, colon);
  if (host.front() == '[') {
    // Brackets are for IPv6 literals only (RFC 3986 3.2.2).
    auto inner = host.size() >= 3 ? host.substr(1, host.size() - 2) : std::string_view{};
    if (host.back() != ']' || inner.find(':') == std::string_view::npos || !is_ip_literal(inner)) {
      why = "an IPv6 address must be written in brackets, like [::1]:9001";
      return std::nullopt;
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    why = "an IPv6 address must be written in brackets, like [::1]:9001";
    return std::nullopt;
  }
  unsigned long port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9') {
      why = "port must be a number";
      return std::nullopt;
    }
    port = port * 10 + static_cast<unsigned long>(c - '0');
    if (port > 65535) {
      why = "port must be at most 65535";
      return std::nullopt;
    }
  }
  if (port == 0 && !allow_port_zero) {
    why = "port must not be 0";
    return std::nullopt;
  }
  return host_port{std::string(host), static_cast<std::uint16_t>(port)};
}

}  // namespace ignite::common
