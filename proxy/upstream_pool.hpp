#pragma once
// Keep-alive connections to pods, one pool per worker thread (so no locks), keyed by
// the pod's endpoint. Idle connections are reused most-recent first and closed after
// k_idle_timeout — shorter than the keep-alive timeout of common app servers (Node's
// 5 s), so the proxy, not the pod, normally closes an idle connection and a request is
// never written into a connection the pod is closing.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "proxy/block_recycler.hpp"
#include "proxy/connect_window.hpp"
#include "proxy/io_types.hpp"

namespace ignite::proxy {

namespace upstream_limits {
inline constexpr std::size_t k_max_idle_per_pod = 64;
inline constexpr std::chrono::milliseconds k_idle_timeout{4000};
inline constexpr std::size_t k_relay_buffer_bytes = 16384;
inline constexpr std::size_t k_spare_relay_buffers = 8;
}  // namespace upstream_limits

// One connection to a pod with the buffers that live as long as it does.
struct upstream_connection {
  explicit upstream_connection(boost::asio::io_context& ctx) : socket(ctx.get_executor()) {}
  tcp_socket socket;
  boost::beast::flat_buffer buffer;  // response bytes read but not yet parsed
  std::chrono::steady_clock::time_point idle_since;
};

// A request waiting for room in a pod's connect window; woken by cancelling `wake`,
// with `granted` set when the slot is its.
struct connect_waiter {
  explicit connect_waiter(const io_executor& ex) : wake(ex, steady_timer::time_point::max()) {}
  steady_timer wake;
  bool granted = false;
};

class upstream_pool {
 public:
  using endpoint = boost::asio::ip::tcp::endpoint;
  enum class connect_outcome : std::uint8_t { succeeded, lost, ended };

  // Written by the owning worker, read by anyone (relaxed).
  struct counters {
    std::atomic<std::uint64_t> connects{0};  // new connections opened to pods
    std::atomic<std::uint64_t> reuses{0};    // requests sent on a pooled connection
  };

  explicit upstream_pool(boost::asio::io_context& ctx);

  // An idle connection to `address` that the pod has not closed, or nullptr.
  // Connections found closed are dropped here, before any byte is written to them.
  std::unique_ptr<upstream_connection> take(const endpoint& address);

  // A connection after a complete response that left it reusable.
  void give_back(const endpoint& address, std::unique_ptr<upstream_connection> conn);

  // A buffer for body bytes on their way to the client, returned to a small free list
  // when the lease ends: relays in flight have one each, idle connections none.
  class relay_buffer {
   public:
    explicit relay_buffer(block_recycler& blocks) : blocks_(blocks), bytes_(static_cast<char*>(blocks.take())) {}
    ~relay_buffer() { blocks_.give(bytes_); }
    relay_buffer(const relay_buffer&) = delete;
    relay_buffer& operator=(const relay_buffer&) = delete;
    char* get() const noexcept { return bytes_; }

   private:
    block_recycler& blocks_;
    char* bytes_;
  };
  block_recycler& relay_blocks() noexcept { return relay_blocks_; }

  // A fresh, unconnected connection object on this worker.
  std::unique_ptr<upstream_connection> make() { return std::make_unique<upstream_connection>(ctx_); }

  io_executor executor() const noexcept { return ctx_.get_executor(); }

  // New connections to a pod, bounded by its connect_window. begin_connect: true if a
  // connect to `address` may start now; otherwise `w` waits in the pod's FIFO queue
  // until end_connect() hands it a slot (w.granted) or the caller gives up
  // (forget_waiter). end_connect: the connect that began is over, with `rtt` when it
  // succeeded; its slot goes to the next waiter that fits the window.
  bool begin_connect(const endpoint& address, connect_waiter& w);
  void end_connect(const endpoint& address, connect_outcome outcome, connect_window::duration rtt = {});
  void forget_waiter(const endpoint& address, connect_waiter& w) noexcept;
  // How long a connect to `address` may take before it counts as lost.
  connect_window::duration connect_timeout(const endpoint& address);
  // The window of `address` (tests, metrics).
  const connect_window* window_of(const endpoint& address) const;
  counters& stats() noexcept { return stats_; }
  const counters& stats() const noexcept { return stats_; }
  // Idle connections held now, to all pods.
  std::size_t idle_count() const noexcept;

  // Periodically closes connections idle for longer than k_idle_timeout. Runs on the
  // worker's io_context until close_all().
  boost::asio::awaitable<void> sweep();

  void close_all();

 private:
  using idle_list = std::vector<std::unique_ptr<upstream_connection>>;  // oldest first

  boost::asio::io_context& ctx_;
  steady_timer sweep_timer_;
  struct connect_gate {
    connect_window window;
    std::deque<connect_waiter*> queue;
    std::chrono::steady_clock::time_point last_used;
  };

  std::unordered_map<endpoint, idle_list> idle_;
  std::unordered_map<endpoint, connect_gate> gates_;  // forgotten when idle a while (sweep)
  counters stats_;
  block_recycler relay_blocks_{upstream_limits::k_relay_buffer_bytes, upstream_limits::k_spare_relay_buffers};
  bool closed_ = false;
};

}  // namespace ignite::proxy
