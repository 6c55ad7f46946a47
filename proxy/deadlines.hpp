#pragma once
// Every timeout rule of a request, as pure functions of the limits and two instants:
// the watchdog of a session only holds the deadline these give, so the rules are tested
// with a manual clock (tests/unit/proxy/deadlines_test.cpp).

#include <algorithm>
#include <chrono>

#include "routing/config.hpp"

namespace ignite::proxy::deadlines {

using time_point = std::chrono::steady_clock::time_point;

// How long a client gets to take an answer the proxy makes itself.
inline constexpr std::chrono::seconds k_error_write{5};

// A connection waiting for a request: its first within client_header_timeout, later
// ones within client_idle_timeout.
inline time_point next_request(time_point now, bool served_any, const routing::limits& l) {
  return now + (served_any ? l.client_idle_timeout : l.client_header_timeout);
}

// The whole head of a request, from when it began.
inline time_point head(time_point start, const routing::limits& l) { return start + l.client_header_timeout; }

// One read of a body: it must keep moving (client_header_timeout per read), and the
// whole request ends at request_timeout.
inline time_point body_read(time_point now, time_point start, const routing::limits& l) {
  return std::min(now + l.client_header_timeout, start + l.request_timeout);
}

// Waiting for a pod: held in the queue, and every connect attempt.
inline time_point hold(time_point start, const routing::limits& l) { return start + l.cold_start_timeout; }

// One connect attempt: upstream_connect_timeout, within the hold's deadline.
inline time_point connect_attempt(time_point now, time_point start, const routing::limits& l) {
  return std::min(now + l.upstream_connect_timeout, hold(start, l));
}

// The pod's answer, and its relay to the client.
inline time_point answer(time_point start, const routing::limits& l) { return start + l.request_timeout; }

// An answer the proxy makes itself.
inline time_point error_write(time_point now) { return now + k_error_write; }

}  // namespace ignite::proxy::deadlines
