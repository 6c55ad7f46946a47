#pragma once
// Host and request-target parsing for `<name>-<org>.<domain>` routing. Pure functions on
// string_views: nothing here allocates, so they are safe on the request path.

#include <cstdint>
#include <optional>
#include <string_view>

namespace ignite::routing {

// A host label `<name>-<org>` lowercased into inline storage (labels are at most 63 bytes).
class host_label {
 public:
  static constexpr std::size_t max_size = 63;
  std::string_view view() const noexcept { return {data_, size_}; }

 private:
  friend std::optional<host_label> label_of_host(std::string_view, std::string_view);
  char data_[max_size];
  std::uint8_t size_ = 0;
};

// Maps a Host value (or an absolute-form target's authority) to the route key.
// Case-insensitive; a `:port` and one trailing dot are ignored. Returns nullopt unless
// the host is exactly one valid label followed by `.domain` (domain is lowercase).
std::optional<host_label> label_of_host(std::string_view host, std::string_view domain);

// A request target split into where it is sent and what is asked for.
struct request_target {
  std::string_view authority;  // host[:port] of an absolute-form target, else empty
  std::string_view path;       // "/…" without the query
  std::string_view query;      // after '?', without it; empty if none
  bool absolute = false;
};

// Splits origin-form (`/p?q`) and absolute-form (`http://h/p?q`) targets; nullopt for
// anything else (authority-form, asterisk-form, garbage).
std::optional<request_target> parse_target(std::string_view target);

}  // namespace ignite::routing
