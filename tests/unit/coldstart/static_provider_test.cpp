// The static provider with real loopback sockets, its io_context run on the test
// thread: an endpoint that listens is ready at its resolved address; a name is resolved
// once; a name that does not resolve is an exit with the cause; probe() watches again;
// stop() ends a pod for good.
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "coldstart/pod_provider.hpp"
#include "coldstart/static_provider.hpp"

namespace ignite::coldstart {
namespace {

using namespace std::chrono_literals;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr auto k_cap = 5s;

std::string text(const endpoint& e) { return e.address().to_string() + ":" + std::to_string(e.port()); }

// A listening acceptor at `at` (port 0: the kernel chooses).
std::unique_ptr<tcp::acceptor> listen_on(net::io_context& ctx, const tcp::endpoint& at) {
  auto acceptor = std::make_unique<tcp::acceptor>(ctx);
  acceptor->open(at.protocol());
  acceptor->set_option(tcp::acceptor::reuse_address(true));
  acceptor->bind(at);
  acceptor->listen();
  return acceptor;
}

std::unique_ptr<tcp::acceptor> listen_on_loopback(net::io_context& ctx, std::uint16_t port = 0) {
  return listen_on(ctx, {net::ip::address_v4::loopback(), port});
}

// A loopback port nothing listens on: bound by the kernel's choice, then closed.
std::uint16_t refused_port(net::io_context& ctx) {
  tcp::acceptor taken(ctx, tcp::endpoint(net::ip::address_v4::loopback(), 0));
  return taken.local_endpoint().port();
}

pod_spec spec_for(std::string host, std::uint16_t port) {
  pod_spec s;
  s.app_id = "acme-corp:greeter";
  s.version = "1";
  s.endpoint = {std::move(host), port};
  return s;
}

// What the provider said, in order; called on the test thread (which runs the context).
class recorded_events final : public pod_events {
 public:
  struct event {
    pod_id id;
    bool ready;
    std::string detail;  // ready: "ip:port"; exit: the cause
  };
  void on_ready(pod_id id, const endpoint& at, bool = false) override { events.push_back({id, true, text(at)}); }
  void on_exit(pod_id id, const pod_exit& how) override {
    EXPECT_TRUE(how.last_stderr.empty()) << "a static pod has no stderr";
    events.push_back({id, false, how.cause});
  }
  std::vector<event> events;
};

class static_provider_test : public ::testing::Test {
 protected:
  // Runs the provider's handlers until `done` holds or k_cap passes.
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
  bool run_until_events(std::size_t n) {
    return run_until([&] { return events_.events.size() >= n; });
  }
  // Runs up to `n` handlers; returns how many ran before k_cap.
  int run_handlers(int n) {
    int ran = 0;
    const auto deadline = std::chrono::steady_clock::now() + k_cap;
    while (ran < n && std::chrono::steady_clock::now() < deadline) {
      if (ctx_.stopped()) ctx_.restart();
      ran += static_cast<int>(ctx_.run_one_for(10ms));
    }
    return ran;
  }
  // Runs until nothing is left to do; false if work remains after k_cap.
  bool run_to_idle() {
    ctx_.restart();
    ctx_.run_for(k_cap);
    return ctx_.stopped();
  }

  net::io_context ctx_;
  recorded_events events_;
  static_provider provider_{ctx_};
};

TEST_F(static_provider_test, a_listening_endpoint_is_ready_at_its_address) {
  auto acceptor = listen_on_loopback(ctx_);
  const auto port = acceptor->local_endpoint().port();
  provider_.start(1, spec_for("127.0.0.1", port), events_);
  ASSERT_TRUE(run_until_events(1));
  EXPECT_TRUE(run_to_idle());
  ASSERT_EQ(events_.events.size(), 1u);
  EXPECT_EQ(events_.events[0].id, 1u);
  EXPECT_TRUE(events_.events[0].ready);
  EXPECT_EQ(events_.events[0].detail, "127.0.0.1:" + std::to_string(port));
}

TEST_F(static_provider_test, start_returns_before_doing_anything) {
  auto acceptor = listen_on_loopback(ctx_);
  provider_.start(1, spec_for("127.0.0.1", acceptor->local_endpoint().port()), events_);
  // The work is posted to the provider's context; nothing has run yet.
  EXPECT_TRUE(events_.events.empty());
  ASSERT_TRUE(run_until_events(1));
}

TEST_F(static_provider_test, a_name_is_resolved_at_start) {
  // Listen where the provider will look: the first address "localhost" resolves to.
  tcp::resolver resolver(ctx_);
  boost::system::error_code ec;
  const auto results = resolver.resolve("localhost", "0", ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_FALSE(results.empty());
  const auto first = results.begin()->endpoint().address();
  ASSERT_TRUE(first.is_loopback()) << first.to_string();
  auto acceptor = listen_on(ctx_, {first, 0});
  const auto port = acceptor->local_endpoint().port();

  provider_.start(4, spec_for("localhost", port), events_);
  ASSERT_TRUE(run_until_events(1));
  ASSERT_EQ(events_.events.size(), 1u);
  EXPECT_TRUE(events_.events[0].ready) << events_.events[0].detail;
  EXPECT_EQ(events_.events[0].detail, first.to_string() + ":" + std::to_string(port));
}

TEST_F(static_provider_test, a_name_that_does_not_resolve_is_an_exit_with_the_cause) {
  // ".invalid" never resolves (RFC 6761).
  provider_.start(2, spec_for("pods.ignite-test.invalid", 9001), events_);
  ASSERT_TRUE(run_until_events(1));
  EXPECT_TRUE(run_to_idle());
  ASSERT_EQ(events_.events.size(), 1u);
  EXPECT_EQ(events_.events[0].id, 2u);
  EXPECT_FALSE(events_.events[0].ready);
  EXPECT_TRUE(events_.events[0].detail.starts_with("cannot resolve pods.ignite-test.invalid: "))
      << events_.events[0].detail;
  EXPECT_GT(events_.events[0].detail.size(), std::string("cannot resolve pods.ignite-test.invalid: ").size())
      << "the resolver's reason is missing";

  // After on_exit no event names the pod again, whatever is asked of it.
  provider_.probe(2);
  provider_.stop(2);
  EXPECT_TRUE(run_to_idle());
  EXPECT_EQ(events_.events.size(), 1u);
}

TEST_F(static_provider_test, probe_after_ready_reports_ready_again) {
  auto acceptor = listen_on_loopback(ctx_);
  const auto port = acceptor->local_endpoint().port();
  provider_.start(1, spec_for("127.0.0.1", port), events_);
  ASSERT_TRUE(run_until_events(1));
  provider_.probe(1);
  ASSERT_TRUE(run_until_events(2));
  EXPECT_TRUE(run_to_idle());
  ASSERT_EQ(events_.events.size(), 2u);
  EXPECT_TRUE(events_.events[1].ready);
  EXPECT_EQ(events_.events[1].id, 1u);
  EXPECT_EQ(events_.events[1].detail, "127.0.0.1:" + std::to_string(port));
}

TEST_F(static_provider_test, probe_waits_for_the_endpoint_to_listen_again) {
  auto acceptor = listen_on_loopback(ctx_);
  const auto port = acceptor->local_endpoint().port();
  provider_.start(1, spec_for("127.0.0.1", port), events_);
  ASSERT_TRUE(run_until_events(1));

  // The pod went away (the proxy's connect was refused): probing finds nothing...
  acceptor.reset();
  provider_.probe(1);
  ASSERT_EQ(run_handlers(20), 20) << "the provider stopped probing";
  EXPECT_EQ(events_.events.size(), 1u);

  // ...until it listens on the same port again.
  acceptor = listen_on_loopback(ctx_, port);
  ASSERT_TRUE(run_until_events(2));
  EXPECT_TRUE(events_.events[1].ready);
  EXPECT_EQ(events_.events[1].detail, "127.0.0.1:" + std::to_string(port));
}

TEST_F(static_provider_test, an_endpoint_that_never_listens_is_probed_until_stopped) {
  const auto port = refused_port(ctx_);
  provider_.start(3, spec_for("127.0.0.1", port), events_);
  ASSERT_EQ(run_handlers(20), 20) << "the provider stopped probing";
  EXPECT_TRUE(events_.events.empty());

  provider_.stop(3);
  ASSERT_TRUE(run_until_events(1));
  EXPECT_EQ(events_.events[0].id, 3u);
  EXPECT_FALSE(events_.events[0].ready);
  EXPECT_EQ(events_.events[0].detail, "stopped");

  // Something listens there now; a stopped pod is not probed and never ready.
  auto acceptor = listen_on_loopback(ctx_, port);
  EXPECT_TRUE(run_to_idle()) << "still probing after stop";
  EXPECT_EQ(events_.events.size(), 1u);
}

TEST_F(static_provider_test, stop_after_ready_is_an_exit_and_then_silence) {
  auto acceptor = listen_on_loopback(ctx_);
  provider_.start(1, spec_for("127.0.0.1", acceptor->local_endpoint().port()), events_);
  ASSERT_TRUE(run_until_events(1));
  provider_.stop(1);
  ASSERT_TRUE(run_until_events(2));
  EXPECT_FALSE(events_.events[1].ready);
  EXPECT_EQ(events_.events[1].detail, "stopped");

  // The id is forgotten: probing or stopping it again does nothing.
  provider_.probe(1);
  provider_.stop(1);
  EXPECT_TRUE(run_to_idle());
  EXPECT_EQ(events_.events.size(), 2u);
}

TEST_F(static_provider_test, stop_right_after_start_means_no_ready) {
  // Both are posted in order: the pod is stopped before its first probe can answer.
  auto acceptor = listen_on_loopback(ctx_);
  provider_.start(1, spec_for("127.0.0.1", acceptor->local_endpoint().port()), events_);
  provider_.stop(1);
  EXPECT_TRUE(run_to_idle());
  ASSERT_EQ(events_.events.size(), 1u);
  EXPECT_FALSE(events_.events[0].ready);
  EXPECT_EQ(events_.events[0].detail, "stopped");
}

TEST_F(static_provider_test, unknown_ids_are_ignored) {
  provider_.probe(99);
  provider_.stop(99);
  EXPECT_TRUE(run_to_idle());
  EXPECT_TRUE(events_.events.empty());
}

TEST_F(static_provider_test, pods_are_independent) {
  auto acceptor = listen_on_loopback(ctx_);
  const auto port = acceptor->local_endpoint().port();
  recorded_events other;
  provider_.start(1, spec_for("127.0.0.1", port), events_);
  provider_.start(2, spec_for("127.0.0.1", refused_port(ctx_)), other);
  ASSERT_TRUE(run_until_events(1));
  EXPECT_TRUE(other.events.empty());

  // Stopping the one still probing leaves the ready one alone.
  provider_.stop(2);
  ASSERT_TRUE(run_until([&] { return !other.events.empty(); }));
  EXPECT_TRUE(run_to_idle());
  ASSERT_EQ(other.events.size(), 1u);
  EXPECT_EQ(other.events[0].id, 2u);
  EXPECT_EQ(other.events[0].detail, "stopped");
  ASSERT_EQ(events_.events.size(), 1u);
  EXPECT_TRUE(events_.events[0].ready);

  provider_.probe(1);
  ASSERT_TRUE(run_until_events(2));
  EXPECT_EQ(events_.events[1].detail, "127.0.0.1:" + std::to_string(port));
}

TEST_F(static_provider_test, pods_at_one_address_share_one_probe) {
  const auto port = refused_port(ctx_);
  for (pod_id id : {1, 2, 3}) provider_.start(id, spec_for("127.0.0.1", port), events_);
  ASSERT_EQ(run_handlers(20), 20) << "the provider stopped probing";
  EXPECT_TRUE(events_.events.empty());
  // Stopping one of them leaves the others' probe running.
  provider_.stop(2);
  ASSERT_TRUE(run_until_events(1));
  EXPECT_EQ(events_.events[0].detail, "stopped");

  auto acceptor = listen_on_loopback(ctx_, port);
  ASSERT_TRUE(run_until_events(3));
  std::set<pod_id> ready;
  for (const auto& e : events_.events)
    if (e.ready) ready.insert(e.id);
  EXPECT_EQ(ready, (std::set<pod_id>{1, 3}));
  // One connection told them both.
  acceptor->non_blocking(true);
  int accepted = 0;
  for (boost::system::error_code ec;;) {
    tcp::socket s(ctx_);
    acceptor->accept(s, ec);
    if (ec) break;
    ++accepted;
  }
  EXPECT_EQ(accepted, 1);
}

}  // namespace
}  // namespace ignite::coldstart
