// The keep-alive pool of one worker, with real loopback connections: a listener in the
// test stands for each pod, and its accepted sockets are the pod's ends, so whether the
// pool closed a connection is seen from the pod's side (EOF), as a pod would see it.
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "proxy/upstream_pool.hpp"
#include "support/wait_until.hpp"

namespace ignite::proxy {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using endpoint = upstream_pool::endpoint;

// What a non-blocking peek at a socket sees: nothing yet, bytes, or the peer's FIN.
enum class peek { would_block, data, eof, failed };

peek peek_at(int fd) {
  char byte;
  const auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return peek::eof;
  if (n > 0) return peek::data;
  return errno == EAGAIN || errno == EWOULDBLOCK ? peek::would_block : peek::failed;
}

// The other side closed: wait (capped) for its FIN to reach `socket`.
bool sees_eof(tcp_socket& socket) {
  return test::wait_until([&] { return peek_at(socket.native_handle()) == peek::eof; }, 2000ms);
}

// Runs `ctx` one handler at a time until `pred` holds or `cap` has passed.
template <class Predicate>
bool run_until(net::io_context& ctx, std::chrono::milliseconds cap, Predicate pred) {
  const auto deadline = std::chrono::steady_clock::now() + cap;
  while (!pred()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    ctx.restart();
    ctx.run_one_for(deadline - now);
  }
  return true;
}

class upstream_pool_test : public ::testing::Test {
 protected:
  void TearDown() override {
    // Ends a sweep a failed assertion left running, so it never outlives the test.
    pool_.close_all();
    run_until(ctx_, 2000ms, [&] { return sweep_done_; });
  }

  // A new connection from the pool's side to `pod`; the pod's end is kept in pod_ends_
  // (last, until the next connect), open until the test ends.
  std::unique_ptr<upstream_connection> connect(tcp_acceptor& pod) {
    auto conn = pool_.make();
    boost::system::error_code ec;
    conn->socket.connect(pod.local_endpoint(), ec);
    EXPECT_FALSE(ec) << "connect: " << ec.message();
    pod_ends_.push_back(pod.accept(ec));  // already queued by the connect: does not block
    EXPECT_FALSE(ec) << "accept: " << ec.message();
    return conn;
  }

  tcp_socket& last_pod_end() { return pod_ends_.back(); }

  // Starts the pool's sweep on ctx_; sweep_done_ is set when it returns.
  void start_sweep() {
    sweep_done_ = false;
    net::co_spawn(ctx_, pool_.sweep(), [this](std::exception_ptr e) {
      sweep_done_ = true;
      sweep_error_ = e;
    });
  }

  net::io_context ctx_;
  tcp_acceptor pod_a_{ctx_, {net::ip::address_v4::loopback(), 0}};
  tcp_acceptor pod_b_{ctx_, {net::ip::address_v4::loopback(), 0}};
  endpoint a_ = pod_a_.local_endpoint();
  endpoint b_ = pod_b_.local_endpoint();
  std::vector<tcp_socket> pod_ends_;
  upstream_pool pool_{ctx_};
  bool sweep_done_ = true;
  std::exception_ptr sweep_error_;
};

// --- take and give_back ---------------------------------------------------------------

TEST_F(upstream_pool_test, take_of_an_unknown_endpoint_is_null) {
  EXPECT_EQ(pool_.take(a_), nullptr);
  EXPECT_EQ(pool_.idle_count(), 0u);
  EXPECT_EQ(pool_.stats().reuses.load(), 0u);
}

TEST_F(upstream_pool_test, a_returned_connection_is_taken_again) {
  auto conn = connect(pod_a_);
  auto* raw = conn.get();
  pool_.give_back(a_, std::move(conn));
  EXPECT_EQ(pool_.idle_count(), 1u);
  EXPECT_EQ(peek_at(last_pod_end().native_handle()), peek::would_block) << "the pool closed it";

  auto again = pool_.take(a_);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again.get(), raw);
  EXPECT_TRUE(again->socket.is_open());
  EXPECT_EQ(pool_.idle_count(), 0u);
  EXPECT_EQ(pool_.stats().reuses.load(), 1u);
  EXPECT_EQ(pool_.stats().connects.load(), 0u);  // the exchange counts connects, not the pool

  EXPECT_EQ(pool_.take(a_), nullptr) << "a connection was handed out twice";
  EXPECT_EQ(pool_.stats().reuses.load(), 1u);
}

TEST_F(upstream_pool_test, a_reused_connection_still_carries_bytes_both_ways) {
  pool_.give_back(a_, connect(pod_a_));
  auto conn = pool_.take(a_);
  ASSERT_NE(conn, nullptr);

  net::write(conn->socket, net::buffer("ping", 4));
  char got[4] = {};
  net::read(last_pod_end(), net::buffer(got));
  EXPECT_EQ(std::memcmp(got, "ping", 4), 0);
}

TEST_F(upstream_pool_test, connections_are_kept_per_endpoint) {
  auto conn = connect(pod_a_);
  auto* raw = conn.get();
  pool_.give_back(a_, std::move(conn));

  EXPECT_EQ(pool_.take(b_), nullptr);
  EXPECT_EQ(pool_.idle_count(), 1u);
  auto again = pool_.take(a_);
  EXPECT_EQ(again.get(), raw);
}

TEST_F(upstream_pool_test, the_most_recently_returned_is_taken_first) {
  std::vector<upstream_connection*> returned;
  for (int i = 0; i < 3; ++i) {
    auto conn = connect(pod_a_);
    returned.push_back(conn.get());
    pool_.give_back(a_, std::move(conn));
  }
  for (int i = 2; i >= 0; --i) {
    auto conn = pool_.take(a_);
    EXPECT_EQ(conn.get(), returned[static_cast<std::size_t>(i)]) << "take #" << 3 - i;
  }
  EXPECT_EQ(pool_.take(a_), nullptr);
  EXPECT_EQ(pool_.stats().reuses.load(), 3u);
}

TEST_F(upstream_pool_test, idle_count_counts_every_endpoint) {
  pool_.give_back(a_, connect(pod_a_));
  pool_.give_back(a_, connect(pod_a_));
  pool_.give_back(b_, connect(pod_b_));
  EXPECT_EQ(pool_.idle_count(), 3u);
  auto taken = pool_.take(a_);
  EXPECT_EQ(pool_.idle_count(), 2u);
  auto taken_b = pool_.take(b_);
  EXPECT_EQ(pool_.idle_count(), 1u);
}

TEST_F(upstream_pool_test, give_back_stamps_when_the_connection_became_idle) {
  auto conn = connect(pod_a_);
  auto* raw = conn.get();
  conn->idle_since = std::chrono::steady_clock::time_point{};
  const auto before = std::chrono::steady_clock::now();
  pool_.give_back(a_, std::move(conn));
  const auto after = std::chrono::steady_clock::now();
  EXPECT_GE(raw->idle_since, before);
  EXPECT_LE(raw->idle_since, after);
}

// --- connections that may not be reused -----------------------------------------------

TEST_F(upstream_pool_test, a_connection_the_pod_closed_is_dropped) {
  auto conn = connect(pod_a_);
  const int fd = conn->socket.native_handle();
  pool_.give_back(a_, std::move(conn));

  last_pod_end().close();
  ASSERT_TRUE(test::wait_until([&] { return peek_at(fd) == peek::eof; }, 2000ms))
      << "the pod's FIN never reached the pooled connection";

  EXPECT_EQ(pool_.take(a_), nullptr);
  EXPECT_EQ(pool_.idle_count(), 0u);
  EXPECT_EQ(pool_.stats().reuses.load(), 0u);
}

TEST_F(upstream_pool_test, a_closed_connection_is_skipped_for_an_older_open_one) {
  auto older = connect(pod_a_);
  auto* older_raw = older.get();
  pool_.give_back(a_, std::move(older));
  auto newer = connect(pod_a_);
  const int newer_fd = newer->socket.native_handle();
  pool_.give_back(a_, std::move(newer));

  last_pod_end().close();  // the newer one's pod end
  ASSERT_TRUE(test::wait_until([&] { return peek_at(newer_fd) == peek::eof; }, 2000ms));

  auto conn = pool_.take(a_);
  EXPECT_EQ(conn.get(), older_raw);
  EXPECT_EQ(pool_.idle_count(), 0u);
}

TEST_F(upstream_pool_test, a_connection_with_unread_bytes_is_not_reused) {
  auto conn = connect(pod_a_);
  const int fd = conn->socket.native_handle();
  pool_.give_back(a_, std::move(conn));

  // A late or unasked response: the stream is out of step with the requests.
  net::write(last_pod_end(), net::buffer("HTTP/1.1 200 OK\r\n", 17));
  ASSERT_TRUE(test::wait_until([&] { return peek_at(fd) == peek::data; }, 2000ms));

  EXPECT_EQ(pool_.take(a_), nullptr);
  EXPECT_EQ(pool_.idle_count(), 0u);
  EXPECT_TRUE(sees_eof(last_pod_end())) << "the dropped connection was not closed";
}

TEST_F(upstream_pool_test, give_back_with_leftover_bytes_closes_the_connection) {
  auto conn = connect(pod_a_);
  auto bytes = conn->buffer.prepare(5);
  std::memcpy(bytes.data(), "HTTP/", 5);
  conn->buffer.commit(5);
  pool_.give_back(a_, std::move(conn));

  EXPECT_EQ(pool_.idle_count(), 0u);
  EXPECT_EQ(pool_.take(a_), nullptr);
  EXPECT_TRUE(sees_eof(last_pod_end()));
}

// --- bounds ---------------------------------------------------------------------------

TEST_F(upstream_pool_test, at_most_k_max_idle_per_pod_and_the_oldest_is_closed) {
  constexpr auto k_max = upstream_limits::k_max_idle_per_pod;
  std::vector<upstream_connection*> returned;
  for (std::size_t i = 0; i < k_max + 1; ++i) {
    auto conn = connect(pod_a_);
    returned.push_back(conn.get());
    pool_.give_back(a_, std::move(conn));
  }
  EXPECT_EQ(pool_.idle_count(), k_max);
  EXPECT_TRUE(sees_eof(pod_ends_.front())) << "the oldest connection is still open";
  for (std::size_t i = 1; i < pod_ends_.size(); ++i)
    EXPECT_EQ(peek_at(pod_ends_[i].native_handle()), peek::would_block) << "connection " << i;

  // The bound is per pod: another endpoint has room of its own.
  pool_.give_back(b_, connect(pod_b_));
  EXPECT_EQ(pool_.idle_count(), k_max + 1);

  // What is left is the newest k_max, newest first.
  for (std::size_t i = k_max; i >= 1; --i) {
    auto conn = pool_.take(a_);
    ASSERT_NE(conn, nullptr) << "take for connection " << i;
    EXPECT_EQ(conn.get(), returned[i]);
  }
  EXPECT_EQ(pool_.take(a_), nullptr);
}

// --- close_all ------------------------------------------------------------------------

TEST_F(upstream_pool_test, close_all_closes_every_idle_connection) {
  pool_.give_back(a_, connect(pod_a_));
  pool_.give_back(a_, connect(pod_a_));
  pool_.give_back(b_, connect(pod_b_));

  pool_.close_all();
  EXPECT_EQ(pool_.idle_count(), 0u);
  EXPECT_EQ(pool_.take(a_), nullptr);
  EXPECT_EQ(pool_.take(b_), nullptr);
  for (auto& pod_end : pod_ends_) EXPECT_TRUE(sees_eof(pod_end));
}

TEST_F(upstream_pool_test, give_back_after_close_all_closes_instead_of_keeping) {
  pool_.close_all();
  pool_.give_back(a_, connect(pod_a_));
  EXPECT_EQ(pool_.idle_count(), 0u);
  EXPECT_EQ(pool_.take(a_), nullptr);
  EXPECT_TRUE(sees_eof(last_pod_end()));
}

// --- sweep ----------------------------------------------------------------------------

TEST_F(upstream_pool_test, sweep_closes_connections_idle_longer_than_k_idle_timeout) {
  auto stale = connect(pod_a_);
  auto* stale_raw = stale.get();
  pool_.give_back(a_, std::move(stale));
  const auto stale_pod_end = pod_ends_.size() - 1;
  // give_back stamps "now"; the pool still owns the object, so age it in place instead of
  // waiting k_idle_timeout of real time. It stays the oldest, as the pool's order requires.
  stale_raw->idle_since -= upstream_limits::k_idle_timeout + 1s;

  auto fresh = connect(pod_a_);
  auto* fresh_raw = fresh.get();
  pool_.give_back(a_, std::move(fresh));
  auto other = connect(pod_b_);
  auto* other_raw = other.get();
  pool_.give_back(b_, std::move(other));
  other_raw->idle_since -= upstream_limits::k_idle_timeout + 1s;
  const auto other_pod_end = pod_ends_.size() - 1;

  start_sweep();
  // The sweep runs once a second: the first pass removes both stale connections.
  EXPECT_TRUE(run_until(ctx_, 5000ms, [&] { return pool_.idle_count() == 1; })) << pool_.idle_count();
  EXPECT_TRUE(sees_eof(pod_ends_[stale_pod_end]));
  EXPECT_TRUE(sees_eof(pod_ends_[other_pod_end]));
  EXPECT_EQ(pool_.take(b_), nullptr);
  auto kept = pool_.take(a_);
  EXPECT_EQ(kept.get(), fresh_raw);

  pool_.close_all();
  EXPECT_TRUE(run_until(ctx_, 2000ms, [&] { return sweep_done_; })) << "sweep outlived close_all";
  EXPECT_FALSE(sweep_error_);
}

TEST_F(upstream_pool_test, sweep_ends_with_close_all) {
  start_sweep();
  ctx_.poll();  // into its first wait
  EXPECT_FALSE(sweep_done_);
  pool_.close_all();
  EXPECT_TRUE(run_until(ctx_, 2000ms, [&] { return sweep_done_; }));
  EXPECT_FALSE(sweep_error_);
}

TEST_F(upstream_pool_test, sweep_after_close_all_returns_at_once) {
  pool_.close_all();
  start_sweep();
  EXPECT_TRUE(run_until(ctx_, 2000ms, [&] { return sweep_done_; }));
  EXPECT_FALSE(sweep_error_);
}

// --- relay buffers --------------------------------------------------------------------

TEST_F(upstream_pool_test, relay_buffers_are_recycled) {
  char* first = nullptr;
  {
    upstream_pool::relay_buffer lease(pool_.relay_blocks());
    first = lease.get();
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(pool_.relay_blocks().block_size(), upstream_limits::k_relay_buffer_bytes);
    first[0] = 'x';
    first[upstream_limits::k_relay_buffer_bytes - 1] = 'y';  // the whole block is usable
  }
  upstream_pool::relay_buffer again(pool_.relay_blocks());
  EXPECT_EQ(again.get(), first);
  upstream_pool::relay_buffer second(pool_.relay_blocks());
  EXPECT_NE(second.get(), again.get());
}

}  // namespace
}  // namespace ignite::proxy
