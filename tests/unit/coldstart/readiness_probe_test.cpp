// The readiness probe with real loopback sockets and an io_context run on the test
// thread: a listener is found once; a refused port is retried until something listens
// there; cancel() silences it; and the retry interval slows down with time.
#include <chrono>
#include <cstdint>
#include <memory>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "coldstart/readiness_probe.hpp"

namespace ignite::coldstart {
namespace {

using namespace std::chrono_literals;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr auto k_cap = 5s;

// A listening acceptor on 127.0.0.1; `port` 0 lets the kernel choose.
std::unique_ptr<tcp::acceptor> listen_on(net::io_context& ctx, std::uint16_t port = 0) {
  auto acceptor = std::make_unique<tcp::acceptor>(ctx);
  const tcp::endpoint at(net::ip::address_v4::loopback(), port);
  acceptor->open(at.protocol());
  acceptor->set_option(tcp::acceptor::reuse_address(true));
  acceptor->bind(at);
  acceptor->listen();
  return acceptor;
}

// A loopback endpoint nothing listens on: bound by the kernel's choice, then closed.
tcp::endpoint refused_endpoint(net::io_context& ctx) {
  tcp::acceptor probe_port(ctx, tcp::endpoint(net::ip::address_v4::loopback(), 0));
  return probe_port.local_endpoint();
}

class readiness_probe_test : public ::testing::Test {
 protected:
  std::shared_ptr<readiness_probe> make(const tcp::endpoint& target) {
    return std::make_shared<readiness_probe>(ctx_, target, [this] { ++calls_; });
  }

  // Runs handlers until `done` holds or k_cap passes.
  template <class Predicate>
  bool run_until(Predicate done) {
    const auto deadline = std::chrono::steady_clock::now() + k_cap;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (ctx_.stopped()) ctx_.restart();
      ctx_.run_one_for(10ms);
    }
    return true;
  }

  // Runs up to `n` handlers (a refused attempt is a connect and then a timer); returns
  // how many ran before k_cap.
  int run_handlers(int n) {
    int ran = 0;
    const auto deadline = std::chrono::steady_clock::now() + k_cap;
    while (ran < n && std::chrono::steady_clock::now() < deadline) {
      if (ctx_.stopped()) ctx_.restart();
      ran += static_cast<int>(ctx_.run_one_for(10ms));
    }
    return ran;
  }

  // Runs until nothing is left to do; false if work remains after k_cap (a probe that
  // never stops).
  bool run_to_idle() {
    ctx_.restart();
    ctx_.run_for(k_cap);
    return ctx_.stopped();
  }

  net::io_context ctx_;
  int calls_ = 0;
};

TEST_F(readiness_probe_test, a_listening_port_is_reported_exactly_once) {
  auto acceptor = listen_on(ctx_);
  auto probe = make(acceptor->local_endpoint());
  probe->start();
  ASSERT_TRUE(run_until([&] { return calls_ > 0; })) << "never saw the listener";
  // Having succeeded, the probe leaves nothing behind on the io_context.
  EXPECT_TRUE(run_to_idle()) << "still probing after success";
  EXPECT_EQ(calls_, 1);

  std::weak_ptr<readiness_probe> weak = probe;
  probe.reset();
  EXPECT_TRUE(weak.expired()) << "something still holds the probe";
}

TEST_F(readiness_probe_test, a_refused_port_is_retried_until_it_listens) {
  const auto target = refused_endpoint(ctx_);
  auto probe = make(target);
  probe->start();

  // Ten refused attempts without a call.
  ASSERT_EQ(run_handlers(20), 20) << "the probe stopped trying";
  EXPECT_EQ(calls_, 0);

  auto acceptor = listen_on(ctx_, target.port());
  ASSERT_TRUE(run_until([&] { return calls_ > 0; })) << "never saw the late listener";
  EXPECT_TRUE(run_to_idle());
  EXPECT_EQ(calls_, 1);
}

TEST_F(readiness_probe_test, cancel_while_retrying_stops_it_for_good) {
  const auto target = refused_endpoint(ctx_);
  auto probe = make(target);
  probe->start();
  ASSERT_EQ(run_handlers(6), 6);
  ASSERT_EQ(calls_, 0);

  probe->cancel();
  // Something listens now; a probe still running would find it.
  auto acceptor = listen_on(ctx_, target.port());
  EXPECT_TRUE(run_to_idle()) << "still probing after cancel";
  EXPECT_EQ(calls_, 0);
}

TEST_F(readiness_probe_test, cancel_right_after_start_on_a_listening_port_calls_nothing) {
  // The connect may already have succeeded in the kernel; the callback must still not run.
  auto acceptor = listen_on(ctx_);
  auto probe = make(acceptor->local_endpoint());
  probe->start();
  probe->cancel();
  EXPECT_TRUE(run_to_idle());
  EXPECT_EQ(calls_, 0);
}

TEST_F(readiness_probe_test, cancel_after_success_is_harmless) {
  auto acceptor = listen_on(ctx_);
  auto probe = make(acceptor->local_endpoint());
  probe->start();
  ASSERT_TRUE(run_until([&] { return calls_ > 0; }));
  probe->cancel();
  EXPECT_TRUE(run_to_idle());
  EXPECT_EQ(calls_, 1);
}

TEST_F(readiness_probe_test, probes_of_different_ports_are_independent) {
  auto acceptor = listen_on(ctx_);
  int listening_calls = 0;
  int refused_calls = 0;
  auto found = std::make_shared<readiness_probe>(ctx_, acceptor->local_endpoint(), [&] { ++listening_calls; });
  auto waiting = std::make_shared<readiness_probe>(ctx_, refused_endpoint(ctx_), [&] { ++refused_calls; });
  found->start();
  waiting->start();
  ASSERT_TRUE(run_until([&] { return listening_calls > 0; }));
  waiting->cancel();
  EXPECT_TRUE(run_to_idle());
  EXPECT_EQ(listening_calls, 1);
  EXPECT_EQ(refused_calls, 0);
}

TEST(readiness_probe_interval, every_millisecond_for_five_seconds) {
  EXPECT_EQ(readiness_probe::interval(0ms), 1ms);
  EXPECT_EQ(readiness_probe::interval(1ms), 1ms);
  EXPECT_EQ(readiness_probe::interval(4999ms), 1ms);
  EXPECT_EQ(readiness_probe::interval(5s - 1ns), 1ms);
}

TEST(readiness_probe_interval, every_ten_milliseconds_until_a_minute) {
  EXPECT_EQ(readiness_probe::interval(5s), 10ms);
  EXPECT_EQ(readiness_probe::interval(30s), 10ms);
  EXPECT_EQ(readiness_probe::interval(60s - 1ns), 10ms);
}

TEST(readiness_probe_interval, every_hundred_milliseconds_after_a_minute) {
  EXPECT_EQ(readiness_probe::interval(60s), 100ms);
  EXPECT_EQ(readiness_probe::interval(10min), 100ms);
  EXPECT_EQ(readiness_probe::interval(24h), 100ms);
}

TEST(readiness_probe_interval, a_clock_reading_before_the_start_probes_fast) {
  EXPECT_EQ(readiness_probe::interval(-1s), 1ms);
}

}  // namespace
}  // namespace ignite::coldstart
