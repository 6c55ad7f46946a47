// connect_window: how many connects to one pod may be in flight, as TCP's congestion
// window: slow start, halving on a loss, growth by one per window after, and a loss
// timeout of a few round-trips that backs off.
#include <chrono>

#include <gtest/gtest.h>

#include "proxy/connect_window.hpp"

namespace ignite::proxy {
namespace {

using namespace std::chrono_literals;

// Starts as many connects as the window allows; how many that was.
std::size_t fill(connect_window& w) {
  std::size_t n = 0;
  while (w.try_begin()) ++n;
  return n;
}

TEST(connect_window, starts_with_a_small_window) {
  connect_window w;
  EXPECT_EQ(fill(w), connect_window::k_initial);
  EXPECT_TRUE(w.full());
  EXPECT_FALSE(w.try_begin());
}

TEST(connect_window, doubles_on_success_until_the_first_loss) {
  connect_window w;
  ASSERT_TRUE(w.try_begin());
  w.succeeded(100us);
  EXPECT_EQ(w.window(), 2 * connect_window::k_initial);
  ASSERT_TRUE(w.try_begin());
  w.succeeded(100us);
  EXPECT_EQ(w.window(), 4 * connect_window::k_initial);
}

TEST(connect_window, a_loss_halves_it_and_growth_is_then_one_per_window) {
  connect_window w;
  for (int i = 0; i < 2; ++i) {  // 4 -> 8 -> 16
    ASSERT_TRUE(w.try_begin());
    w.succeeded(100us);
  }
  ASSERT_TRUE(w.try_begin());
  w.lost();
  EXPECT_EQ(w.window(), 8u);
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(w.try_begin());
    w.succeeded(100us);
  }
  EXPECT_EQ(w.window(), 8u) << "7 successes are less than a window";
  ASSERT_TRUE(w.try_begin());
  w.succeeded(100us);
  EXPECT_EQ(w.window(), 9u);
}

TEST(connect_window, never_below_one_nor_above_the_maximum) {
  connect_window w;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(w.try_begin());
    w.lost();
  }
  EXPECT_EQ(w.window(), 1u);
  EXPECT_EQ(fill(w), 1u);
  connect_window big;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(big.try_begin());
    big.succeeded(10us);
  }
  EXPECT_EQ(big.window(), connect_window::k_max);
}

TEST(connect_window, end_frees_a_slot_without_changing_the_window) {
  connect_window w;
  fill(w);
  w.end();
  EXPECT_EQ(w.window(), connect_window::k_initial);
  EXPECT_TRUE(w.try_begin());
  w.hand_over();  // a queued connect takes a slot that ended
  EXPECT_EQ(w.in_flight(), connect_window::k_initial + 1);
}

TEST(connect_window, the_loss_timeout_follows_the_round_trip_and_backs_off) {
  connect_window w;
  EXPECT_EQ(w.timeout(), connect_window::k_initial_timeout) << "no round-trip measured yet";
  ASSERT_TRUE(w.try_begin());
  w.succeeded(10ms);
  EXPECT_EQ(w.timeout(), 40ms) << "four round-trips";
  ASSERT_TRUE(w.try_begin());
  w.lost();
  EXPECT_EQ(w.timeout(), 80ms) << "doubled after a loss";
  ASSERT_TRUE(w.try_begin());
  w.lost();
  EXPECT_EQ(w.timeout(), 160ms);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(w.try_begin());
    w.lost();
  }
  EXPECT_EQ(w.timeout(), connect_window::k_max_timeout);
  ASSERT_TRUE(w.try_begin());
  w.succeeded(10ms);
  EXPECT_EQ(w.timeout(), 40ms) << "a success ends the back-off";
}

TEST(connect_window, a_loopback_round_trip_still_gets_the_minimum_timeout) {
  connect_window w;
  ASSERT_TRUE(w.try_begin());
  w.succeeded(30us);
  EXPECT_EQ(w.timeout(), connect_window::k_min_timeout);
}

}  // namespace
}  // namespace ignite::proxy
