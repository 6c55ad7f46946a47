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
  const auto l = test_limits();
  const auto now = k_start + 5s;
  EXPECT_EQ(deadlines::body_read(now, k_start, l), now + 3s);
}

TEST(deadlines, body_read_late_in_the_request_ends_at_the_request_deadline) {
  // now + 3 s is after start + 20 s: the whole request's deadline wins.
  const auto l = test_limits();
  const auto now = k_start + 19s;
  EXPECT_EQ(deadlines::body_read(now, k_start, l), k_start + 20s);
}

TEST(deadlines, body_read_where_both_rules_meet) {
  const auto l = test_limits();
  const auto now = k_start + 17s;
  EXPECT_EQ(deadlines::body_read(now, k_start, l), k_start + 20s);
}

TEST(deadlines, body_read_after_the_request_deadline_is_already_past) {
  const auto l = test_limits();
  const auto now = k_start + 25s;
  EXPECT_EQ(deadlines::body_read(now, k_start, l), k_start + 20s);
  EXPECT_LT(deadlines::body_read(now, k_start, l), now);
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
}

}  // namespace
}  // namespace ignite::proxy
