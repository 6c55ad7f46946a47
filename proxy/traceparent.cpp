#include "proxy/traceparent.hpp"

namespace ignite::proxy {

namespace {

bool lower_hex(std::string_view s) noexcept {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool all_zero(std::string_view s) noexcept { return s.find_first_not_of('0') == std::string_view::npos; }

}  // namespace

std::string_view trace_id_of(std::string_view v) noexcept {
  // version(2) '-' trace-id(32) '-' parent-id(16) '-' flags(2): 55 characters.
  constexpr std::size_t k_length = 55;
  if (v.size() < k_length) return {};
  const auto version = v.substr(0, 2);
  if (!lower_hex(version) || version == "ff") return {};
  if (v[2] != '-' || v[35] != '-' || v[52] != '-') return {};
  // Version 00 has exactly these fields; later versions may add more after a '-'.
  if (v.size() > k_length && (version == "00" || v[k_length] != '-')) return {};
  const auto trace_id = v.substr(3, 32);
  const auto parent_id = v.substr(36, 16);
  const auto flags = v.substr(53, 2);
  if (!lower_hex(trace_id) || !lower_hex(parent_id) || !lower_hex(flags)) return {};
  if (all_zero(trace_id) || all_zero(parent_id)) return {};
  return trace_id;
}

}  // namespace ignite::proxy
