// upstream_exchange on its own, without a client side: a version pool played by the
// test (a recording provider; pods made ready by hand), a fake pod on loopback, an
// io_context run on the test thread, and a watchdog that records the deadlines it is
// given. Covers the phases in order, holds and their cancellation, pooled connections,
// and every way a pod can frame (or mangle) its answer.
#include <chrono>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "proxy/deadlines.hpp"
#include "proxy/upstream_exchange.hpp"
#include "support/fake_pod.hpp"
#include "support/refused_port.hpp"
#include "support/wait_until.hpp"
#include "unit/coldstart/pool_doubles.hpp"

namespace ignite::proxy {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using coldstart::testing::endpoints_of;
using coldstart::testing::loopback;
using coldstart::testing::manual_clock;
using coldstart::testing::recording_provider;
using clock = std::chrono::steady_clock;

constexpr std::string_view k_head = "POST / HTTP/1.1\r\nHost: pod\r\nContent-Length: 2\r\n\r\n";

class recording_watchdog final : public watchdog {
 public:
  void set_deadline(time_point d) override { deadlines.push_back(d); }
  std::vector<time_point> deadlines;
};

class upstream_exchange_test : public ::testing::Test {
 protected:
  upstream_exchange_test() { limits_.cold_start_timeout = 30s; }

  // A pool of the static endpoint `pod`, its one pod made ready.
  std::shared_ptr<coldstart::version_pool> static_pool(const test::fake_pod& pod, coldstart::pool_settings s = {}) {
    coldstart::pod_spec spec;
    spec.app_id = "acme-corp:greeter";
    spec.version = "1";
    auto pool = keep(
        std::make_shared<coldstart::version_pool>(s, spec, endpoints_of({pod.endpoint()}), &provider_, pod_clock_));
    pool->activate();
    pool->on_ready(provider_.started_ids().back(), loopback(pod.port()));
    return pool;
  }
  // A pool that starts pods on demand (a command version); the test makes them ready.
  std::shared_ptr<coldstart::version_pool> command_pool(coldstart::pool_settings s = {}) {
    coldstart::pod_spec spec;
    spec.app_id = "acme-corp:greeter";
    spec.version = "1";
    spec.command = {"greeter"};
    return keep(
        std::make_shared<coldstart::version_pool>(s, spec, std::vector<common::host_port>{}, &provider_, pod_clock_));
  }
  // An exchange holds its pool by reference, as a request's route snapshot keeps the
  // pool alive in the proxy: the fixture keeps every pool until after x_ is destroyed.
  std::shared_ptr<coldstart::version_pool> keep(std::shared_ptr<coldstart::version_pool> pool) {
    pools_.push_back(pool);
    return pool;
  }

  upstream_exchange& exchange(coldstart::version_pool& pool) {
    return x_.emplace(connections_, pool, limits_, start_, dog_, &arena_);
  }

  // Runs one step of the exchange to completion on this thread (capped).
  request_error run(net::awaitable<request_error> step) {
    std::optional<request_error> result;
    net::co_spawn(ctx_, std::move(step), [&](std::exception_ptr e, request_error r) {
      if (e) std::rethrow_exception(e);
      result = std::move(r);
    });
    drive([&] { return result.has_value(); });
    EXPECT_TRUE(result) << "the step did not finish";
    return result.value_or(request_error::from_proxy(proxy_error::upstream_error, "did not finish"));
  }
  // Runs the io_context until `done` holds (capped at a few seconds).
  template <class Pred>
  bool drive(Pred done) {
    const auto give_up = clock::now() + 5s;
    while (!done() && clock::now() < give_up) {
      ctx_.restart();
      ctx_.run_one_for(10ms);
    }
    return done();
  }
  // The whole body, piece by piece.
  std::string read_all(upstream_exchange& x, request_error& e) {
    std::string body;
    upstream_exchange::body_piece piece;
    for (bool first = true;; first = false) {
      if (first)
        e = x.take_body(piece);
      else
        e = run(x.read_body(piece));
      if (e) return body;
      for (std::size_t i = 0; i < piece.count; ++i) body.append(piece.data[i]);
      if (piece.done) return body;
    }
  }

  net::io_context ctx_;
  upstream_pool connections_{ctx_};
  routing::limits limits_;
  clock::time_point start_ = clock::now();
  recording_watchdog dog_;
  std::pmr::monotonic_buffer_resource arena_;
  manual_clock pod_clock_;
  recording_provider provider_;
  test::fake_pod pod_{"pod"};
  std::vector<std::shared_ptr<coldstart::version_pool>> pools_;  // outlive x_ (declared after)
  std::optional<upstream_exchange> x_;
};

TEST_F(upstream_exchange_test, the_phases_in_order_with_a_ready_pod) {
  auto pool = static_pool(pod_);
  auto& x = exchange(*pool);
  ASSERT_FALSE(run(x.connect()));
  EXPECT_FALSE(x.cold_start());
  ASSERT_FALSE(run(x.send_request(k_head, "hi")));
  ASSERT_FALSE(run(x.read_response_head()));
  EXPECT_EQ(x.response().get().result_int(), 200u);
  EXPECT_EQ(x.body_framing(), upstream_exchange::framing::length);
  request_error e;
  EXPECT_EQ(read_all(x, e), "pod");
  EXPECT_FALSE(e);
  x.finish();
  EXPECT_EQ(connections_.idle_count(), 1u) << "a complete answer gives the connection back";
  ASSERT_EQ(pod_.request_count(), 1u);
  EXPECT_EQ(pod_.requests()[0].body, "hi");
  // The watchdog was told each step's deadline: a connect attempt, then the answer.
  ASSERT_EQ(dog_.deadlines.size(), 2u);
  EXPECT_LE(dog_.deadlines[0], deadlines::hold(start_, limits_));
  EXPECT_EQ(dog_.deadlines[1], deadlines::answer(start_, limits_));
}

TEST_F(upstream_exchange_test, a_second_exchange_reuses_the_pooled_connection) {
  auto pool = static_pool(pod_);
  for (int i = 0; i < 2; ++i) {
    auto& x = exchange(*pool);
    ASSERT_FALSE(run(x.connect()));
    ASSERT_FALSE(run(x.send_request(k_head, "hi")));
    ASSERT_FALSE(run(x.read_response_head()));
    request_error e;
    read_all(x, e);
    x.finish();
    x_.reset();
  }
  EXPECT_EQ(pod_.connections_with_requests(), 1u);
  EXPECT_EQ(connections_.stats().reuses.load(), 1u);
  EXPECT_EQ(connections_.stats().connects.load(), 1u);
}

// A busy worker runs a connect's completion late: the connect window's timeout can fire
// when the pod has already accepted. That connect was not lost: it is kept, and the
// window, which a loss would halve, is left as it was.
TEST_F(upstream_exchange_test, a_connect_answered_before_its_timeout_ran_is_not_a_loss) {
  auto pool = static_pool(pod_);
  auto& x = exchange(*pool);
  std::optional<request_error> result;
  net::co_spawn(ctx_, x.connect(), [&](std::exception_ptr, request_error r) { result = std::move(r); });
  // Run until the connect is under way (its deadline given), then not at all: the
  // kernel completes it, and its completion waits, as on a worker busy elsewhere.
  ASSERT_TRUE(test::wait_until(
      [&] {
        ctx_.poll_one();
        return !dog_.deadlines.empty();
      },
      2000ms));
  ASSERT_TRUE(test::wait_until([&] { return pod_.connection_count() == 1; }, 2000ms));
  const auto window = connections_.window_of(loopback(pod_.port()))->window();
  x.cancel(upstream_exchange::cancel_reason::timeout);  // what the watchdog does at the deadline
  ASSERT_TRUE(test::wait_until(
      [&] {
        ctx_.poll_one();
        return result.has_value();
      },
      2000ms));
  EXPECT_FALSE(*result) << result->message;
  EXPECT_EQ(connections_.stats().connects.load(), 1u);
  EXPECT_EQ(pod_.connection_count(), 1u) << "the connect was retried: it was taken for lost";
  EXPECT_GE(connections_.window_of(loopback(pod_.port()))->window(), window);
  ASSERT_FALSE(run(x.send_request(k_head, "hi")));
  ASSERT_FALSE(run(x.read_response_head()));
  EXPECT_EQ(x.response().get().result_int(), 200u);
}

TEST_F(upstream_exchange_test, a_held_request_gets_the_pod_that_starts_and_is_a_cold_start) {
  auto pool = command_pool();
  auto& x = exchange(*pool);
  std::optional<request_error> result;
  net::co_spawn(ctx_, x.connect(), [&](std::exception_ptr, request_error r) { result = std::move(r); });
  ASSERT_TRUE(drive([&] { return pool->stats().waiting == 1; }));
  ASSERT_EQ(provider_.started_ids().size(), 1u) << "the hold started a pod";
  EXPECT_EQ(dog_.deadlines.back(), deadlines::hold(start_, limits_));
  pool->on_ready(provider_.started_ids()[0], loopback(pod_.port()));
  ASSERT_TRUE(drive([&] { return result.has_value(); }));
  EXPECT_FALSE(*result);
  EXPECT_TRUE(x.cold_start());
}

TEST_F(upstream_exchange_test, a_hold_that_times_out_is_cold_start_timeout_and_leaves_the_queue) {
  auto pool = command_pool();
  auto& x = exchange(*pool);
  std::optional<request_error> result;
  net::co_spawn(ctx_, x.connect(), [&](std::exception_ptr, request_error r) { result = std::move(r); });
  ASSERT_TRUE(drive([&] { return pool->stats().waiting == 1; }));
  x.cancel(upstream_exchange::cancel_reason::timeout);
  ASSERT_TRUE(drive([&] { return result.has_value(); }));
  EXPECT_EQ(result->kind, proxy_error::cold_start_timeout);
  EXPECT_TRUE(result->retry_safe);
  EXPECT_EQ(pool->stats().waiting, 0u);
}

TEST_F(upstream_exchange_test, a_client_that_leaves_during_the_hold_is_client_closed) {
  auto pool = command_pool();
  auto& x = exchange(*pool);
  std::optional<request_error> result;
  net::co_spawn(ctx_, x.connect(), [&](std::exception_ptr, request_error r) { result = std::move(r); });
  ASSERT_TRUE(drive([&] { return pool->stats().waiting == 1; }));
  x.cancel(upstream_exchange::cancel_reason::client_gone);
  ASSERT_TRUE(drive([&] { return result.has_value(); }));
  EXPECT_EQ(result->kind, proxy_error::client_closed);
  EXPECT_EQ(pool->stats().waiting, 0u);
}

TEST_F(upstream_exchange_test, a_grant_racing_a_timeout_is_handed_back_to_the_pool) {
  coldstart::pool_settings one_slot;
  one_slot.container_concurrency = 1;
  one_slot.max_replicas = 1;
  auto pool = command_pool(one_slot);
  auto& x = exchange(*pool);
  std::optional<request_error> result;
  net::co_spawn(ctx_, x.connect(), [&](std::exception_ptr, request_error r) { result = std::move(r); });
  ASSERT_TRUE(drive([&] { return pool->stats().waiting == 1; }));
  // The pool grants (its answer is posted to the worker), and the deadline passes
  // before the worker has run it.
  pool->on_ready(provider_.started_ids()[0], loopback(pod_.port()));
  x.cancel(upstream_exchange::cancel_reason::timeout);
  ASSERT_TRUE(drive([&] { return result.has_value(); }));
  EXPECT_EQ(result->kind, proxy_error::cold_start_timeout);
  coldstart::grant g;
  EXPECT_EQ(pool->try_acquire(g), coldstart::version_pool::acquire_result::granted)
      << "the pod's only slot was given back";
}

TEST_F(upstream_exchange_test, a_refusing_pod_is_probed_and_the_request_held_again) {
  test::fake_pod gone{"gone"};
  const auto port = gone.port();
  gone.stop();  // its port now refuses
  coldstart::pod_spec spec;
  spec.app_id = "acme-corp:greeter";
  spec.version = "1";
  auto pool = keep(std::make_shared<coldstart::version_pool>(
      coldstart::pool_settings{}, spec, endpoints_of({"127.0.0.1:" + std::to_string(port)}), &provider_, pod_clock_));
  pool->activate();
  pool->on_ready(provider_.started_ids()[0], loopback(port));
  auto& x = exchange(*pool);
  std::optional<request_error> result;
  net::co_spawn(ctx_, x.connect(), [&](std::exception_ptr, request_error r) { result = std::move(r); });
  ASSERT_TRUE(drive([&] { return pool->stats().waiting == 1; })) << "refused, then held again";
  EXPECT_EQ(provider_.probed().size(), 1u) << "the pod goes back to being probed";
  EXPECT_EQ(pod_.request_count(), 0u);
  x.cancel(upstream_exchange::cancel_reason::timeout);
  ASSERT_TRUE(drive([&] { return result.has_value(); }));
  EXPECT_EQ(result->kind, proxy_error::cold_start_timeout);
}

// ---- how a pod frames its answer ----------------------------------------------------------

struct framing_case {
  const char* name;
  std::string answer;  // what the pod writes, then it closes
  std::string body;    // what the exchange yields
  upstream_exchange::framing framing;
};

void PrintTo(const framing_case& c, std::ostream* os) { *os << c.name; }

class upstream_exchange_framing : public upstream_exchange_test, public ::testing::WithParamInterface<framing_case> {};

TEST_P(upstream_exchange_framing, yields_the_body) {
  test::pod_reply raw = test::pod_reply::of(test::pod_reply::action::garbage);
  raw.garbage = GetParam().answer;
  pod_.reply_with(raw);
  auto pool = static_pool(pod_);
  auto& x = exchange(*pool);
  ASSERT_FALSE(run(x.connect()));
  ASSERT_FALSE(run(x.send_request(k_head, "hi")));
  ASSERT_FALSE(run(x.read_response_head()));
  EXPECT_EQ(x.response().get().result_int(), 200u);
  EXPECT_EQ(x.body_framing(), GetParam().framing);
  request_error e;
  EXPECT_EQ(read_all(x, e), GetParam().body);
  EXPECT_FALSE(e) << e.public_message();
}

INSTANTIATE_TEST_SUITE_P(
    answers, upstream_exchange_framing,
    ::testing::Values(
        framing_case{"content_length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "hello",
                     upstream_exchange::framing::length},
        framing_case{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n",
                     "hello", upstream_exchange::framing::chunked},
        framing_case{"chunked_with_trailer",
                     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: y\r\n\r\n", "hello",
                     upstream_exchange::framing::chunked},
        framing_case{"until_close", "HTTP/1.1 200 OK\r\n\r\nuntil the end", "until the end",
                     upstream_exchange::framing::until_close},
        framing_case{"no_body", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "", upstream_exchange::framing::none},
        framing_case{"interim_answers_skipped",
                     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                     "ok", upstream_exchange::framing::length}),
    [](const auto& info) { return std::string(info.param.name); });

struct broken_case {
  const char* name;
  std::string answer;
};

void PrintTo(const broken_case& c, std::ostream* os) { *os << c.name; }

class upstream_exchange_broken : public upstream_exchange_test, public ::testing::WithParamInterface<broken_case> {};

TEST_P(upstream_exchange_broken, is_upstream_error_and_the_connection_is_not_kept) {
  test::pod_reply raw = test::pod_reply::of(test::pod_reply::action::garbage);
  raw.garbage = GetParam().answer;
  pod_.reply_with(raw);
  auto pool = static_pool(pod_);
  auto& x = exchange(*pool);
  ASSERT_FALSE(run(x.connect()));
  ASSERT_FALSE(run(x.send_request(k_head, "hi")));
  auto e = run(x.read_response_head());
  if (!e) read_all(x, e);
  EXPECT_EQ(e.kind, proxy_error::upstream_error);
  EXPECT_EQ(e.source, error_source::pod);
  EXPECT_FALSE(e.retry_safe) << "the request reached the pod";
  x.finish();
  EXPECT_EQ(connections_.idle_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    answers, upstream_exchange_broken,
    ::testing::Values(broken_case{"not_http", "THIS IS NOT HTTP\r\n\r\n"},
                      broken_case{"switching_protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"},
                      broken_case{"closed_mid_body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"},
                      broken_case{"bad_chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
                      broken_case{"head_over_64_kib",
                                  "HTTP/1.1 200 OK\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n"},
                      broken_case{"closed_without_answer", ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(upstream_exchange_test, bytes_after_a_complete_answer_keep_the_connection_from_reuse) {
  test::pod_reply raw = test::pod_reply::of(test::pod_reply::action::garbage);
  raw.garbage = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
  pod_.reply_with(raw);
  auto pool = static_pool(pod_);
  auto& x = exchange(*pool);
  ASSERT_FALSE(run(x.connect()));
  ASSERT_FALSE(run(x.send_request(k_head, "hi")));
  ASSERT_FALSE(run(x.read_response_head()));
  request_error e;
  EXPECT_EQ(read_all(x, e), "ok");
  x.finish();
  EXPECT_EQ(connections_.idle_count(), 0u);
}

}  // namespace
}  // namespace ignite::proxy
