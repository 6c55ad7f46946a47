#pragma once
// How deep JSON text nests, found by a scan of its brackets (strings skipped), before it
// is parsed. nlohmann parses iteratively but copies, compares and dumps recursively, so
// a deep enough value overflows the stack; its parse callback could bound the depth, but
// makes parsing a large document quadratic (each object's end scans its parent for
// discarded values): a reload of 100,000 apps took minutes, and an API body of many
// small objects would cost as much.

#include <cstddef>
#include <string_view>

namespace ignite::common {

// Whether `text` nests arrays and objects more than `max_depth` levels deep. Malformed
// text gives some answer; the parse that follows refuses it.
constexpr bool json_nests_deeper(std::string_view text, std::size_t max_depth) noexcept {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // the escaped character cannot end the string
      else if (c == '"')
        in_string = false;
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) return true;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return false;
}

}  // namespace ignite::common
