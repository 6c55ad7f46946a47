#pragma once

#include "settings.hpp"

#include <cstdint>

namespace greeter {

// What every connection of a listening greeter shares. The greeter is single threaded,
// so nothing here needs a lock.
struct serving_state {
  settings config;
  std::int64_t listening_at_us = 0;  // reported on every answer
  std::uint64_t answered = 0;        // answers written so far, over all connections
};

}  // namespace greeter
