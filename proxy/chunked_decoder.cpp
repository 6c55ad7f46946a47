#include "proxy/chunked_decoder.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include "proxy/request_head_check.hpp"

namespace ignite::proxy {

namespace {

// 16 hex digits would already overflow any body limit; more is a hostile peer.
constexpr std::size_t k_max_size_digits = 15;

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A chunk extension (`;name[=value]`, RFC 9112 7.1.1) is passed over, never used: it
// only has to be free of bytes that could end or split the line.
bool valid_extension(std::string_view ext) noexcept {
  for (char c : ext) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  auto start = ext.find_first_not_of(" \t");  // BWS before ';'
  return start == std::string_view::npos ? ext.empty() : ext[start] == ';';
}

}  // namespace

chunked_decoder::status chunked_decoder::fail(status s) noexcept {
  state_ = state::failed;
  failure_ = s;
  return s;
}

chunked_decoder::status chunked_decoder::next(std::string_view in, std::size_t& used, std::string_view& data) noexcept {
  used = 0;
  // Framing steps run back to back; the call returns with data, at the end, when the
  // bytes run out, or on an error.
  for (;;) {
    auto rest = in.substr(used);
    switch (state_) {
      case state::size_line:
        if (auto stop = size_line(rest, used)) return *stop;
        continue;
      case state::data: {
        if (rest.empty()) return status::need_more;
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
        data = rest.substr(0, n);
        used += n;
        remaining_ -= n;
        wire_bytes_ += n;
        body_bytes_ += n;
        if (remaining_ == 0) state_ = state::data_crlf;
        return status::data;
      }
      case state::data_crlf:
        if (rest.size() < 2) {
          if (!rest.empty() && rest[0] != '\r') return fail(status::bad_chunk);
          return status::need_more;
        }
        if (rest[0] != '\r' || rest[1] != '\n') return fail(status::bad_chunk);
        used += 2;
        wire_bytes_ += 2;
        state_ = state::size_line;
        continue;
      case state::trailer:
        if (auto stop = trailer_line(rest, used)) return *stop;
        continue;
      case state::done:
        return status::done;
      case state::failed:
        return failure_;
    }
  }
}

// chunk-size [ chunk-ext ] CRLF. Returns nothing when the line was consumed.
std::optional<chunked_decoder::status> chunked_decoder::size_line(std::string_view in, std::size_t& used) noexcept {
  const auto window = std::min(in.size(), limits_.max_chunk_line);
  const void* nl = std::memchr(in.data(), '\n', window);
  if (!nl) {
    if (in.size() >= limits_.max_chunk_line) return fail(status::chunk_line_too_long);
    // A byte that can never start a size line is refused without waiting for more.
    if (!in.empty() && hex_value(in[0]) < 0) return fail(status::bad_chunk);
    return status::need_more;
  }
  const auto line_end = static_cast<std::size_t>(static_cast<const char*>(nl) - in.data());
  if (line_end == 0 || in[line_end - 1] != '\r') return fail(status::bad_chunk);  // bare LF
  auto line = in.substr(0, line_end - 1);
  std::uint64_t size = 0;
  std::size_t digits = 0;
  for (; digits < line.size(); ++digits) {
    int v = hex_value(line[digits]);
    if (v < 0) break;
    if (digits == k_max_size_digits) return fail(status::bad_chunk);
    size = size * 16 + static_cast<unsigned>(v);
  }
  if (digits == 0 || !valid_extension(line.substr(digits))) return fail(status::bad_chunk);
  used += line_end + 1;
  wire_bytes_ += line_end + 1;
  if (size == 0) {
    state_ = state::trailer;
  } else {
    remaining_ = size;
    state_ = state::data;
  }
  return std::nullopt;
}

// One trailer field line, or the empty line that ends the message. Returns nothing
// when a field line was consumed and more may follow.
std::optional<chunked_decoder::status> chunked_decoder::trailer_line(std::string_view in, std::size_t& used) noexcept {
  const auto budget = limits_.max_trailer_bytes - trailer_bytes_;
  const auto window = std::min(in.size(), budget);
  const void* nl = std::memchr(in.data(), '\n', window);
  if (!nl) {
    if (in.size() >= budget) return fail(status::trailer_too_large);
    return status::need_more;
  }
  const auto line_end = static_cast<std::size_t>(static_cast<const char*>(nl) - in.data());
  if (line_end == 0 || in[line_end - 1] != '\r') return fail(status::bad_trailer);  // bare LF
  auto line = in.substr(0, line_end - 1);
  used += line_end + 1;
  wire_bytes_ += line_end + 1;
  trailer_bytes_ += line_end + 1;
  if (line.empty()) {
    state_ = state::done;
    return status::done;
  }
  if (line.find('\r') != std::string_view::npos || line.find('\0') != std::string_view::npos)
    return fail(status::bad_trailer);
  if (++trailer_fields_ > limits_.max_trailer_fields) return fail(status::trailer_too_large);
  auto field = check_field_line(line);
  if (field.error == proxy_error::headers_too_large) return fail(status::trailer_too_large);
  if (field.error != proxy_error::none) return fail(status::bad_trailer);
  return std::nullopt;
}

}  // namespace ignite::proxy
