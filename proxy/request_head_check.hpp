#pragma once
// The request head, checked and read in one pass over its raw bytes. The rules are
// stricter than Beast's (1.81), which unfolds obs-fold, accepts Content-Length with
// Transfer-Encoding in one order, accepts any transfer coding and has no header-count
// limit: each of those is a request smuggling or resource vector on a public ingress.
// Pure functions over bytes: no allocation, no Beast.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "proxy/request_error.hpp"

namespace ignite::proxy {

inline constexpr std::size_t k_max_header_fields = 100;
// Beast's field container throws on a name or value over this (65535 - 2); the proxy
// refuses such a field before Beast sees it.
inline constexpr std::size_t k_max_field_part_bytes = 65533;

// Where the head ends in `data`: the offset just past the blank line, 0 if it has not
// arrived yet. `scanned` is how far a previous call got (so a slow client costs linear
// work); it is updated.
std::size_t find_head_end(std::string_view data, std::size_t& scanned) noexcept;

// One field line (without its CRLF) split into name and value, or why it is refused.
struct field_line {
  proxy_error error = proxy_error::none;
  std::string_view why;  // static text
  std::string_view name;
  std::string_view value;  // without surrounding whitespace
};

// The rules every field line follows, in a head and in a trailer section: no obs-fold,
// a token name directly followed by ':', no NUL or other control bytes but HTAB in the
// value, and name and value each at most k_max_field_part_bytes (else 431).
field_line check_field_line(std::string_view line) noexcept;

struct head_facts {
  proxy_error error = proxy_error::none;
  std::string_view why;  // message for the error body; static text
  bool has_content_length = false;
  bool chunked = false;
  bool http10 = false;
  unsigned host_count = 0;
  unsigned fields = 0;
  // Fields whose name holds '_': never forwarded (write_upstream_head), because CGI-style
  // frameworks read X_Forwarded_For as X-Forwarded-For (nginx drops them too).
  unsigned underscore_fields = 0;
};

// One field of a request head, as views into the head. Trivially constructible, so a
// request_head's array costs nothing until it is filled.
struct header_field {
  const char* name_data;
  const char* value_data;
  std::uint32_t name_size;
  std::uint32_t value_size;
  std::string_view name() const noexcept { return {name_data, name_size}; }
  std::string_view value() const noexcept { return {value_data, value_size}; }
};

// What the proxy reads from a request head, as views into the head it was parsed from
// (which must outlive it): filled by check_request_head in the pass that checks the
// head, so each head is scanned once and no field container is built.
struct request_head {
  std::string_view method;  // case-sensitive (RFC 9110 9.1)
  std::string_view target;
  bool connection_close = false;     // a Connection field lists "close"
  std::uint64_t content_length = 0;  // when head_facts::has_content_length
  std::size_t field_count = 0;
  header_field fields[k_max_header_fields];  // the first field_count are set

  // The value of the first field called `name` (any case); nullopt if there is none.
  std::optional<std::string_view> find(std::string_view name) const noexcept;
  // HTTP/1.1 keeps the connection unless the client asked to close it.
  bool keep_alive(const head_facts& facts) const noexcept;
};

// Checks a complete head (request line, fields, blank line) for framing and size rules;
// with `out`, also records what the session reads from it.
head_facts check_request_head(std::string_view head, request_head* out = nullptr) noexcept;

}  // namespace ignite::proxy
