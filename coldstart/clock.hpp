#pragma once
// Time for the pool state machine: the real steady clock in the proxy, a manual one in
// tests, so hold deadlines and idle scale-down are tested without waiting.

#include <chrono>

namespace ignite::coldstart {

class clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~clock() = default;
  virtual time_point now() const noexcept = 0;
};

class steady_clock final : public clock {
 public:
  time_point now() const noexcept override { return std::chrono::steady_clock::now(); }
};

}  // namespace ignite::coldstart
