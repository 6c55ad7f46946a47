#pragma once
// "host:port" as the config writes addresses, parsed once at load. The host is kept as
// written (an IP literal, or a name for pods that run elsewhere); IPv6 literals are
// written in brackets ("[::1]:9001") and stored without them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ignite::common {

struct host_port {
  std::string host;  // "127.0.0.1", "::1", "pods.internal"
  std::uint16_t port = 0;

  // "127.0.0.1:9001", "[::1]:9001": as it is written in a config.
  std::string to_string() const;
  bool operator==(const host_port&) const = default;
};

// Parses `text`; on failure returns nullopt and sets `why` ("port must be a number").
// Port 0 is accepted only with `allow_port_zero` (listeners bind any free port).
std::optional<host_port> parse_host_port(std::string_view text, bool allow_port_zero, std::string& why);

// True if `host` is an IPv4 or IPv6 literal (without brackets).
bool is_ip_literal(std::string_view host);

}  // namespace ignite::common
