// Every timeout rule of a request (proxy/deadlines.hpp) with a manual clock: fixed
// steady_clock instants and limits whose values all differ, so a rule that reads the
// wrong limit or the wrong instant gives a different answer.
#include <chrono>

#include <gtest/gtest.h>

#include "proxy/deadlines.hpp"
#include "routing/config.hpp"

namespace ignite::proxy {
namespace {

using namespace std::chrono_literals;
using deadlines::time_point;

// Each timeout distinct from the others and from the defaults.
routing::limits test_limits() {
  routing::limits l;
  l.client_header_timeout = 3s;
  l.client_idle_timeout = 7s;
  l.upstream_connect_timeout = 1500ms;
  l.request_timeout = 20s;
  l.cold_start_timeout = 11s;
  l.client_send_timeout = 13s;
  l.client_body_min_rate = 1000;
  return l;
}

// test_limits() without a minimum body rate: only the per-read and request rules.
routing::limits without_min_rate() {
  auto l = test_limits();
  l.client_body_min_rate = 0;
  return l;
}

// When the request began; `now` is some time after it.
const time_point k_start{1h};

TEST(deadlines, first_request_waits_client_header_timeout) {
  const auto l = test_limits();
  const auto now = k_start + 250ms;
  EXPECT_EQ(deadlines::next_request(now, false, l), now + 3s);
}

TEST(deadlines, later_requests_wait_client_idle_timeout) {
  const auto l = test_limits();
  const auto now = k_start + 250ms;
  EXPECT_EQ(deadlines::next_request(now, true, l), now + 7s);
}

TEST(deadlines, head_is_bounded_from_its_start_not_from_now) {
  const auto l = test_limits();
  EXPECT_EQ(deadlines::head(k_start, l), k_start + 3s);
}

TEST(deadlines, body_read_early_in_the_request_gets_one_read_of_progress) {
  // now + 3 s is before start + 20 s: the per-read rule is the nearer one.
  const auto l = without_min_rate();
  const auto now = k_start + 5s;
  EXPECT_EQ(deadlines::body_read(now, k_start, k_start, 0, l), now + 3s);
}

TEST(deadlines, body_read_late_in_the_request_ends_at_the_request_deadline) {
  // now + 3 s is after start + 20 s: the whole request's deadline wins.
  const auto l = without_min_rate();
  const auto now = k_start + 19s;
  EXPECT_EQ(deadlines::body_read(now, k_start, k_start, 0, l), k_start + 20s);
}

TEST(deadlines, body_read_where_both_rules_meet) {
  const auto l = without_min_rate();
  const auto now = k_start + 17s;
  EXPECT_EQ(deadlines::body_read(now, k_start, k_start, 0, l), k_start + 20s);
}

TEST(deadlines, body_read_after_the_request_deadline_is_already_past) {
  const auto l = without_min_rate();
  const auto now = k_start + 25s;
  EXPECT_EQ(deadlines::body_read(now, k_start, k_start, 0, l), k_start + 20s);
  EXPECT_LT(deadlines::body_read(now, k_start, k_start, 0, l), now);
}

TEST(deadlines, body_min_rate_allows_the_header_timeout_then_one_second_per_rate_bytes) {
  // 1000 B/s: after the head, 3 s of grace, then each 1000 bytes buy one more second.
  const auto l = test_limits();
  const auto body_start = k_start + 1s;
  const auto now = body_start + 2s;
  EXPECT_EQ(deadlines::body_read(now, k_start, body_start, 0, l), body_start + 3s);
  EXPECT_EQ(deadlines::body_read(now, k_start, body_start, 500, l), body_start + 3500ms);
  // Enough bytes: the per-read rule is the nearer one again.
  EXPECT_EQ(deadlines::body_read(now, k_start, body_start, 5000, l), now + 3s);
}

TEST(deadlines, a_body_trickle_falls_behind_the_min_rate) {
  // One byte every 2 s keeps each read within 3 s, yet the body's deadline stays put.
  const auto l = test_limits();
  const auto body_start = k_start;
  auto at = deadlines::body_read(body_start, k_start, body_start, 0, l);
  for (int i = 1; i <= 4; ++i) {
    const auto now = body_start + i * 2s;
    at = deadlines::body_read(now, k_start, body_start, static_cast<std::uint64_t>(i), l);
  }
  EXPECT_EQ(at, body_start + 3s + 4ms);
  EXPECT_LT(at, body_start + 8s) << "the trickle would be read past its deadline";
}

TEST(deadlines, the_min_rate_never_extends_past_the_request_deadline) {
  const auto l = test_limits();
  const auto now = k_start + 19s;
  EXPECT_EQ(deadlines::body_read(now, k_start, k_start, 1'000'000'000, l), k_start + 20s);
}

TEST(deadlines, a_huge_body_does_not_overflow_the_min_rate) {
  auto l = test_limits();
  l.client_body_min_rate = 1;
  const auto now = k_start + 1s;
  EXPECT_EQ(deadlines::body_read(now, k_start, k_start, (1ull << 32) + 4096, l), now + 3s);
}

TEST(deadlines, send_allows_client_send_timeout_per_write_within_the_answer) {
  const auto l = test_limits();
  EXPECT_EQ(deadlines::send(k_start + 1s, k_start, l), k_start + 14s);
  EXPECT_EQ(deadlines::send(k_start + 10s, k_start, l), k_start + 20s);
}

TEST(deadlines, body_rate_bound_says_when_the_min_rate_set_the_deadline) {
  const auto l = test_limits();
  const auto body_start = k_start + 1s;
  // Right after the head, nothing read: the per-read wait and the rate's grace end
  // together, so a timeout is a stalled read, not a slow body.
  EXPECT_FALSE(deadlines::body_rate_bound(body_start, k_start, body_start, 0, l));
  // 2 s on with 500 bytes: the rate allows 3.5 s from the body's start, the read 5 s.
  EXPECT_TRUE(deadlines::body_rate_bound(body_start + 2s, k_start, body_start, 500, l));
  // Enough bytes: the per-read wait is nearer.
  EXPECT_FALSE(deadlines::body_rate_bound(body_start + 2s, k_start, body_start, 5000, l));
  // Near request_timeout, that one is nearer.
  EXPECT_FALSE(deadlines::body_rate_bound(k_start + 19s, k_start, k_start + 18s, 1'000'000, l));
  // No rate configured: never.
  EXPECT_FALSE(deadlines::body_rate_bound(body_start + 2s, k_start, body_start, 500, without_min_rate()));
}

TEST(deadlines, send_timeout_bound_says_when_client_send_timeout_set_the_deadline) {
  const auto l = test_limits();
  EXPECT_TRUE(deadlines::send_timeout_bound(k_start + 1s, k_start, l));    // 14 s < 20 s
  EXPECT_FALSE(deadlines::send_timeout_bound(k_start + 10s, k_start, l));  // 23 s > 20 s: request_timeout's
}

TEST(deadlines, overload_shrinks_waits_for_a_head_to_one_second) {
  const auto l = test_limits();
  const auto now = k_start + 250ms;
  EXPECT_EQ(deadlines::next_request(now, false, l, true), now + 1s);
  EXPECT_EQ(deadlines::next_request(now, true, l, true), now + 1s);
  EXPECT_EQ(deadlines::head(k_start, l, true), k_start + 1s);
  // Shorter configured timeouts stay as they are.
  auto shorter = l;
  shorter.client_header_timeout = 300ms;
  shorter.client_idle_timeout = 400ms;
  EXPECT_EQ(deadlines::next_request(now, false, shorter, true), now + 300ms);
  EXPECT_EQ(deadlines::next_request(now, true, shorter, true), now + 400ms);
  EXPECT_EQ(deadlines::head(k_start, shorter, true), k_start + 300ms);
}

TEST(deadlines, overload_tightens_a_running_deadline_but_never_extends_it) {
  EXPECT_EQ(deadlines::overloaded(k_start, k_start + 10s), k_start + 1s);
  EXPECT_EQ(deadlines::overloaded(k_start, k_start + 200ms), k_start + 200ms);
}

TEST(deadlines, hold_ends_cold_start_timeout_after_the_start) {
  const auto l = test_limits();
  EXPECT_EQ(deadlines::hold(k_start, l), k_start + 11s);
}

TEST(deadlines, early_connect_attempt_gets_the_connect_timeout) {
  // now + 1.5 s is before the hold's deadline at start + 11 s.
  const auto l = test_limits();
  const auto now = k_start + 2s;
  EXPECT_EQ(deadlines::connect_attempt(now, k_start, l), now + 1500ms);
}

TEST(deadlines, late_connect_attempt_ends_with_the_hold) {
  // now + 1.5 s is after start + 11 s: the attempt may not outlive the hold.
  const auto l = test_limits();
  const auto now = k_start + 10s;
  EXPECT_EQ(deadlines::connect_attempt(now, k_start, l), k_start + 11s);
}

TEST(deadlines, answer_ends_request_timeout_after_the_start) {
  const auto l = test_limits();
  EXPECT_EQ(deadlines::answer(k_start, l), k_start + 20s);
}

TEST(deadlines, error_write_gets_a_fixed_five_seconds) {
  const auto now = k_start + 42s;
  EXPECT_EQ(deadlines::error_write(now), now + 5s);
  EXPECT_EQ(deadlines::k_error_write, 5s);
}

TEST(deadlines, default_limits_give_the_documented_timeouts) {
  // DESIGN.md's config defaults, through the rules.
  const routing::limits l;
  EXPECT_EQ(deadlines::next_request(k_start, false, l), k_start + 10s);
  EXPECT_EQ(deadlines::next_request(k_start, true, l), k_start + 60s);
  EXPECT_EQ(deadlines::hold(k_start, l), k_start + 30s);
  EXPECT_EQ(deadlines::connect_attempt(k_start, k_start, l), k_start + 2s);
  EXPECT_EQ(deadlines::answer(k_start, l), k_start + 300s);
  EXPECT_EQ(deadlines::send(k_start, k_start, l), k_start + 60s);
  // 500 B/s after 10 s: a 6 MiB body may take 10 s + 12.6 s on average.
  EXPECT_EQ(deadlines::body_read(k_start + 1s, k_start, k_start, 0, l), k_start + 10s);
}

}  // namespace
}  // namespace ignite::proxy
