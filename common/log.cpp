#include "common/log.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace ignite::common {

namespace {

std::mutex& log_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

void log_write(std::string_view text) {
  std::lock_guard lock(log_mutex());
  while (!text.empty()) {
    auto n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n <= 0) return;  // stderr gone: logging must never take the proxy down
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

void log_event(std::string_view event, std::string_view fields_json) {
  std::string line = "{\"time\":\"";
  append_log_time(line);
  line.append("\",\"event\":\"").append(event).append("\"");
  if (!fields_json.empty()) line.append(",").append(fields_json);
  line.append("}\n");
  log_write(line);
}

void append_json_escaped(std::string& out, std::string_view s) {
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

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  append_json_escaped(out, s);
  out += '"';
}

void append_log_time(std::string& out) {
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

}  // namespace ignite::common
