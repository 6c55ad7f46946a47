#pragma once
// Checks on the raw bytes of a request head that Beast (1.81) does not make itself:
// Beast unfolds obs-fold, accepts Content-Length with Transfer-Encoding in one order,
// accepts any transfer coding and has no header-count limit. Each of those is a request
// smuggling or resource vector on a public ingress, so the proxy refuses them before
// Beast parses anything. Pure functions over bytes: no allocation, no Beast.

#include <cstddef>
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

// Checks a complete head (request line, fields, blank line) for framing and size rules.
head_facts check_request_head(std::string_view head) noexcept;

}  // namespace ignite::proxy
