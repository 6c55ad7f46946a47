#pragma once
// Every timeout rule of a request, as pure functions of the limits and two instants:
// the watchdog of a session only holds the deadline these give, so the rules are tested
// with a manual clock (tests/unit/proxy/deadlines_test.cpp).

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "routing/config.hpp"

namespace ignite::proxy::deadlines {

using time_point = std::chrono::steady_clock::time_point;

// How long a client gets to take an answer the proxy makes itself.
inline constexpr std::chrono::seconds k_error_write{5};

// Near max_connections (worker.hpp, the overload manager) a connection waits at most
// this for a request head, between requests too: slots go to clients that use them.
inline constexpr std::chrono::seconds k_overloaded_wait{1};

// A connection waiting for a request: its first within client_header_timeout, later
// ones within client_idle_timeout; both at most k_overloaded_wait under overload.
inline time_point next_request(time_point now, bool served_any, const routing::limits& l, bool overloaded = false) {
  auto wait = served_any ? l.client_idle_timeout : l.client_header_timeout;
  if (overloaded) wait = std::min<std::chrono::milliseconds>(wait, k_overloaded_wait);
  return now + wait;
}

// The whole head of a request, from when it began; at most k_overloaded_wait under overload.
inline time_point head(time_point start, const routing::limits& l, bool overloaded = false) {
  return start + (overloaded ? std::min<std::chrono::milliseconds>(l.client_header_timeout, k_overloaded_wait)
                             : l.client_header_timeout);
}

// A deadline tightened because the proxy became overloaded while it ran.
inline time_point overloaded(time_point now, time_point current) { return std::min(current, now + k_overloaded_wait); }

// One read of a body, `received` bytes (as sent, framing included) after it began at
// `body_start`. It must keep moving (client_header_timeout per read); it must come at
// client_body_min_rate on average, each byte buying 1/rate s beyond a first
// client_header_timeout (mod_reqtimeout's MinRate), so a trickle cannot hold a slot for
// request_timeout; and the whole request ends at request_timeout.
inline time_point body_read(time_point now, time_point start, time_point body_start, std::uint64_t received,
                            const routing::limits& l) {
  auto at = std::min(now + l.client_header_timeout, start + l.request_timeout);
  if (l.client_body_min_rate > 0) {
    // received <= 2^32 + framing and rate >= 1: the product fits in 64 bits.
    const auto earned = std::chrono::microseconds(received * 1'000'000 / l.client_body_min_rate);
    at = std::min(at, body_start + l.client_header_timeout + earned);
  }
  return at;
}

// Whether body_read's deadline is the minimum body rate's, earlier than the per-read
// wait and request_timeout: a timeout then means the body came too slowly on average.
inline bool body_rate_bound(time_point now, time_point start, time_point body_start, std::uint64_t received,
                            const routing::limits& l) {
  return body_read(now, start, body_start, received, l) <
         std::min(now + l.client_header_timeout, start + l.request_timeout);
}

// Waiting for a pod: held in the queue, and every connect attempt.
inline time_point hold(time_point start, const routing::limits& l) { return start + l.cold_start_timeout; }

// One connect attempt: upstream_connect_timeout, within the hold's deadline.
inline time_point connect_attempt(time_point now, time_point start, const routing::limits& l) {
  return std::min(now + l.upstream_connect_timeout, hold(start, l));
}

// The pod's answer, and its relay to the client.
inline time_point answer(time_point start, const routing::limits& l) { return start + l.request_timeout; }

// One write of the pod's answer to the client: client_send_timeout (nginx's
// send_timeout), within the answer's deadline.
inline time_point send(time_point now, time_point start, const routing::limits& l) {
  return std::min(now + l.client_send_timeout, answer(start, l));
}

// Whether send's deadline is client_send_timeout's, not the answer's request_timeout.
inline bool send_timeout_bound(time_point now, time_point start, const routing::limits& l) {
  return now + l.client_send_timeout < answer(start, l);
}

// An answer the proxy makes itself.
inline time_point error_write(time_point now) { return now + k_error_write; }

}  // namespace ignite::proxy::deadlines
