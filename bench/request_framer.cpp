#include "request_framer.hpp"

#include <strings.h>
#include <algorithm>
#include <charconv>

namespace bench {
namespace {

constexpr std::string_view k_end_of_header = "\r\n\r\n";

bool name_is(std::string_view name, std::string_view expected) {
  return name.size() == expected.size() && ::strncasecmp(name.data(), expected.data(), name.size()) == 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

request_framer::result request_framer::feed(std::string_view bytes) {
  result r;
  for (;;) {
    if (in_body_) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(body_left_, bytes.size()));
      body_left_ -= n;
      bytes.remove_prefix(n);
      if (body_left_ > 0) return r;  // the rest of the body is in later reads
      in_body_ = false;
      ++r.requests;
      if (close_after_) {
        r.close = true;
        return r;
      }
    }
    if (bytes.empty()) return r;

    std::string_view header;
    if (partial_header_.empty()) {
      // The common case: the whole header arrived in one read; frame it in place.
      const auto end = bytes.find(k_end_of_header);
      if (end != std::string_view::npos) {
        header = bytes.substr(0, end + k_end_of_header.size());
        bytes.remove_prefix(header.size());
      }
    } else {
      // The terminator may straddle the previous read, so search a little behind.
      const std::size_t from = partial_header_.size() < 3 ? 0 : partial_header_.size() - 3;
      const std::size_t old_size = partial_header_.size();
      partial_header_.append(bytes.substr(0, k_max_header_bytes + 1 - std::min(old_size, k_max_header_bytes)));
      const auto end = partial_header_.find(k_end_of_header, from);
      if (end != std::string::npos) {
        partial_header_.resize(end + k_end_of_header.size());
        // What followed the terminator belongs to the body or the next request.
        bytes.remove_prefix(partial_header_.size() - old_size);
        header = partial_header_;
      }
    }
    if (header.empty()) {
      if (partial_header_.empty()) partial_header_.assign(bytes.substr(0, k_max_header_bytes + 1));
      r.malformed = partial_header_.size() > k_max_header_bytes;
      return r;
    }
    if (!on_header(header)) {
      r.malformed = true;
      return r;
    }
    partial_header_.clear();
    in_body_ = true;  // even with no body: the top of the loop completes the request
  }
}

bool request_framer::on_header(std::string_view header) {
  body_left_ = 0;
  close_after_ = false;

  const auto line_end = header.find("\r\n");
  const std::string_view request_line = header.substr(0, line_end);
  // HTTP/1.0 closes unless asked otherwise; nobody benchmarks with it, so just close.
  close_after_ = request_line.ends_with("HTTP/1.0");
  bool seen_length = false;

  for (std::size_t pos = line_end + 2; pos < header.size();) {
    const auto end = header.find("\r\n", pos);
    const std::string_view line = header.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (name_is(name, "content-length")) {
      std::uint64_t length = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (seen_length || ec != std::errc{} || p != value.data() + value.size()) return false;
      body_left_ = length;
      seen_length = true;
    } else if (name_is(name, "transfer-encoding")) {
      return false;
    } else if (name_is(name, "connection")) {
      close_after_ = name_is(value, "close");
    }
  }
  return true;
}

}  // namespace bench
