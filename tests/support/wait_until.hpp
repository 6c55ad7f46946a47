#pragma once

#include <chrono>
#include <thread>

namespace ignite::test {

// Polls `pred` until it holds or `cap` has passed; returns its last value. For conditions
// that have nothing to block on (a counter in another process, a socket state); where a
// condition_variable exists, wait on that instead.
template <class Predicate>
bool wait_until(Predicate&& pred, std::chrono::milliseconds cap) {
  const auto deadline = std::chrono::steady_clock::now() + cap;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // Short enough not to slow a test down, long enough not to starve the proxy of a core.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace ignite::test
