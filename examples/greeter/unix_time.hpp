#pragma once

#include <chrono>
#include <cstdint>

namespace greeter {

// Wall-clock microseconds since the Unix epoch: comparable across processes, so the
// handoff benchmark can subtract the proxy's timestamps from the greeter's.
inline std::int64_t unix_micros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace greeter
