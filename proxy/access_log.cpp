#include "proxy/access_log.hpp"

#include <charconv>
#include <cstdint>

#include "common/log.hpp"

namespace ignite::proxy {

namespace {

constexpr std::size_t k_flush_bytes = 64 * 1024;
constexpr auto k_flush_interval = std::chrono::milliseconds(50);

void append_number(std::string& out, std::uint64_t n) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
}

// Milliseconds with three decimals, hand-formatted: this runs for every request, and
// printf-style formatting of a double costs more than the rest of the line.
void append_ms(std::string& out, std::chrono::microseconds d) {
  const auto micros = static_cast<std::uint64_t>(d.count() > 0 ? d.count() : 0);
  append_number(out, micros / 1000);
  const auto frac = static_cast<unsigned>(micros % 1000);
  const char decimals[] = {'.', static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                           static_cast<char>('0' + frac % 10)};
  out.append(decimals, sizeof decimals);
}

}  // namespace

void access_log::format(const request_record& r, std::string& out) {
  out.append("{\"time\":\"");
  common::append_log_time(out);
  out.append("\",\"event\":\"request\",\"execution_id\":\"").append(r.execution_id).append("\"");
  if (!r.app_id.empty()) out.append(",\"app\":\"").append(r.app_id).append("\",\"version\":").append(r.version);
  if (!r.method.empty()) {
    out.append(",\"method\":\"");
    common::append_json_escaped(out, r.method);
    out.append("\"");
  }
  out.append(",\"status\":");
  append_number(out, r.status);
  out.append(",\"duration_ms\":");
  append_ms(out, r.duration);
  if (r.upstream_duration.count() >= 0) {
    out.append(",\"upstream_ms\":");
    append_ms(out, r.upstream_duration);
  }
  out.append(",\"bytes_in\":");
  append_number(out, r.bytes_in);
  out.append(",\"bytes_out\":");
  append_number(out, r.bytes_out);
  out.append(r.cold_start ? ",\"cold_start\":true" : ",\"cold_start\":false");
  if (!r.client.empty()) out.append(",\"client\":\"").append(r.client).append("\"");
  if (!r.tls_version.empty()) out.append(",\"tls_version\":\"").append(r.tls_version).append("\"");
  if (!r.trace_id.empty()) out.append(",\"trace_id\":\"").append(r.trace_id).append("\"");
  if (r.invoke) out.append(",\"source\":\"invoke\"");
  if (r.error != proxy_error::none) {
    out.append(",\"error\":\"").append(row_of(r.error).code).append("\",\"error_source\":\"");
    out.append(name_of(r.source)).append("\"");
    if (r.cut) out.append(",\"cut\":true,\"cut_cause\":\"").append(r.cut_cause).append("\"");
    if (!r.error_detail.empty()) {
      out.append(",\"error_detail\":");
      common::append_json_string(out, r.error_detail);
    }
  }
  out.append("}\n");
}

void access_log::request(const request_record& r) {
  bool was_empty = buffer_.empty();
  format(r, buffer_);
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
  if (sink_)
    sink_->write(buffer_);
  else
    common::log_write(buffer_);
  buffer_.clear();
}

}  // namespace ignite::proxy
