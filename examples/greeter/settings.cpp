#include "settings.hpp"

#include <charconv>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string_view>

namespace greeter {
namespace {

std::optional<std::string_view> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string_view{value};
}

// Whole string must be a number in [lo, hi]: "80x" or "-1" for a port is a mistake
// worth failing on, not something to guess at.
long long parse_integer(const char* name, std::string_view text, long long lo, long long hi) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < lo || value > hi)
    throw std::invalid_argument(std::string{name} + " must be an integer in [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "], got \"" + std::string{text} + "\"");
  return value;
}

}  // namespace

settings settings::from_environment() {
  settings s;
  if (auto v = env("HOST")) s.host = *v;
  if (auto v = env("PORT")) s.port = static_cast<std::uint16_t>(parse_integer("PORT", *v, 0, 65535));
  if (auto v = env("GREETER_START_DELAY_MS"))
    s.start_delay = std::chrono::milliseconds{parse_integer("GREETER_START_DELAY_MS", *v, 0, 3'600'000)};
  if (auto v = env("GREETER_EXIT_BEFORE_LISTEN"))
    s.exit_before_listen = static_cast<int>(parse_integer("GREETER_EXIT_BEFORE_LISTEN", *v, 0, 255));
  if (auto v = env("GREETER_NEVER_LISTEN")) s.never_listen = parse_integer("GREETER_NEVER_LISTEN", *v, 0, 1) == 1;
  if (auto v = env("GREETER_RESPONSE_DELAY_MS"))
    s.response_delay = std::chrono::milliseconds{parse_integer("GREETER_RESPONSE_DELAY_MS", *v, 0, 3'600'000)};
  if (auto v = env("GREETER_EXIT_AFTER_REQUESTS"))
    s.exit_after_requests = static_cast<std::uint64_t>(
        parse_integer("GREETER_EXIT_AFTER_REQUESTS", *v, 1, std::numeric_limits<long long>::max()));
  if (auto v = env("IGNITE_APP_ID")) s.app_id = *v;
  if (auto v = env("IGNITE_VERSION")) s.version = *v;
  return s;
}

}  // namespace greeter
