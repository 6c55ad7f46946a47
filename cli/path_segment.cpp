#include "cli/path_segment.hpp"

namespace ignite::cli {

namespace {

bool kept(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~' || c == ':';
}

}  // namespace

std::string encode_path_segment(std::string_view segment) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  // "." and ".." would be dot-segments that a server or an intermediary may resolve.
  if (segment == ".") return "%2E";
  if (segment == "..") return "%2E%2E";
  std::string out;
  out.reserve(segment.size());
  for (unsigned char c : segment) {
    if (kept(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 0xF];
    }
  }
  return out;
}

}  // namespace ignite::cli
