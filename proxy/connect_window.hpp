#pragma once
// How many new connections one worker may be opening to one pod at once: TCP's
// congestion window, applied to connects. A pod with a small accept backlog (Python's
// http.server listens with 5) drops the SYNs that do not fit, and each dropped SYN
// waits out the kernel's retransmit timer, 1 s then 3 s then 7 s. So the proxy keeps
// few connects in flight to a pod, opens the window as connects succeed (doubling at
// first, by one per window later), and treats a connect that takes several round-trips
// as lost: the window halves, and the request waits in the proxy's own queue and tries
// again after a timeout that backs off, never in the kernel's.
//
// Pure: the caller measures time and reports outcomes.

#include <algorithm>
#include <chrono>
#include <cstddef>

namespace ignite::proxy {

class connect_window {
 public:
  using duration = std::chrono::steady_clock::duration;

  static constexpr std::size_t k_initial = 4;
  static constexpr std::size_t k_max = 256;
  static constexpr duration k_min_timeout = std::chrono::milliseconds(5);
  static constexpr duration k_initial_timeout = std::chrono::milliseconds(50);
  static constexpr duration k_max_timeout = std::chrono::milliseconds(500);

  // A connect may start now.
  bool try_begin() noexcept {
    if (in_flight_ >= window_) return false;
    ++in_flight_;
    return true;
  }
  // A queued connect inherits the slot of one that ended (see end()).
  void hand_over() noexcept { ++in_flight_; }

  // The connect completed after `rtt`.
  void succeeded(duration rtt) noexcept {
    end();
    losses_ = 0;
    // Smoothed round-trip time, as TCP keeps it (RFC 6298, alpha 1/8).
    srtt_ = srtt_.count() == 0 ? rtt : srtt_ + (rtt - srtt_) / 8;
    if (window_ < threshold_) {
      window_ = std::min(window_ * 2, k_max);  // slow start
    } else if (++acked_ >= window_) {
      acked_ = 0;
      window_ = std::min(window_ + 1, k_max);  // congestion avoidance
    }
  }
  // The connect did not complete within timeout(): its SYN was most likely dropped.
  void lost() noexcept {
    end();
    ++losses_;
    threshold_ = std::max<std::size_t>(window_ / 2, 1);
    window_ = threshold_;
    acked_ = 0;
  }
  // The connect ended otherwise (refused, cancelled): no news about the pod's room.
  void end() noexcept {
    if (in_flight_) --in_flight_;
  }

  // How long a connect may take before it counts as lost: a few smoothed round-trips,
  // doubled for each loss in a row.
  duration timeout() const noexcept {
    duration base = srtt_.count() == 0 ? k_initial_timeout : std::max(k_min_timeout, srtt_ * 4);
    for (unsigned i = 0; i < losses_ && base < k_max_timeout; ++i) base *= 2;
    return std::min(base, k_max_timeout);
  }

  std::size_t window() const noexcept { return window_; }
  std::size_t in_flight() const noexcept { return in_flight_; }
  bool full() const noexcept { return in_flight_ >= window_; }

 private:
  std::size_t window_ = k_initial;
  std::size_t threshold_ = k_max;  // slow start until the first loss
  std::size_t in_flight_ = 0;
  std::size_t acked_ = 0;
  unsigned losses_ = 0;  // in a row
  duration srtt_{0};
};

}  // namespace ignite::proxy
