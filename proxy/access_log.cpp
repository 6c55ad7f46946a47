#include "proxy/access_log.hpp"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace ignite::proxy {

namespace {

constexpr std::size_t k_flush_bytes = 64 * 1024;
constexpr auto k_flush_interval = std::chrono::milliseconds(50);

// Whole lines from different threads must not interleave on the same stderr.
std::mutex& stderr_mutex() {
  static std::mutex m;
  return m;
}

void write_all(std::string_view text) {
  std::lock_guard lock(stderr_mutex());
  while (!text.empty()) {
    auto n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n <= 0) return;  // stderr gone: logging must never take the proxy down
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// "2026-11-27T07:12:33.123Z"; the date part is formatted once per second per thread.
void append_time(std::string& out) {
  thread_local std::time_t cached_second = -1;
  thread_local char cached[24];
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t second = static_cast<std::time_t>(ms / 1000);
  if (second != cached_second) {
    std::tm tm{};
    gmtime_r(&second, &tm);
    std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_second = second;
  }
  const auto frac = static_cast<int>(ms % 1000);
  const char tail[] = {'.', static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                       static_cast<char>('0' + frac % 10), 'Z'};
  out.append(cached).append(tail, sizeof tail);
}

void append_number(std::string& out, std::uint64_t n) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
}

}  // namespace

void access_log::append_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += esc;
        } else {
          out += c;
        }
    }
  }
}

void access_log::request(const request_record& r) {
  bool was_empty = buffer_.empty();
  buffer_.append("{\"time\":\"");
  append_time(buffer_);
  buffer_.append("\",\"event\":\"request\",\"execution_id\":\"").append(r.execution_id).append("\"");
  if (!r.app_id.empty()) {
    buffer_.append(",\"app\":\"").append(r.app_id).append("\",\"version\":").append(r.version);
  }
  // Hand-formatted: this runs for every request, and printf-style formatting of a
  // double costs more than the rest of the line.
  buffer_.append(",\"status\":");
  append_number(buffer_, r.status);
  const auto micros = static_cast<std::uint64_t>(r.duration.count());
  buffer_.append(",\"duration_ms\":");
  append_number(buffer_, micros / 1000);
  const auto frac = static_cast<unsigned>(micros % 1000);
  const char decimals[] = {'.', static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                           static_cast<char>('0' + frac % 10)};
  buffer_.append(decimals, sizeof decimals);
  buffer_.append(r.cold_start ? ",\"cold_start\":true" : ",\"cold_start\":false");
  if (r.error != proxy_error::none) buffer_.append(",\"error\":\"").append(row_of(r.error).code).append("\"");
  buffer_.append("}\n");
  if (buffer_.size() >= k_flush_bytes) {
    flush_timer_.cancel();
    flush();
  } else if (was_empty) {
    // The first line after a write bounds how long lines may wait: one timer per batch.
    flush_timer_.expires_after(k_flush_interval);
    flush_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) flush();
    });
  }
}

void access_log::flush() {
  if (buffer_.empty()) return;
  write_all(buffer_);
  buffer_.clear();
}

void access_log::event(std::string_view event, std::string_view fields_json) {
  std::string line = "{\"time\":\"";
  append_time(line);
  line.append("\",\"event\":\"").append(event).append("\"");
  if (!fields_json.empty()) line.append(",").append(fields_json);
  line.append("}\n");
  write_all(line);
}

}  // namespace ignite::proxy
