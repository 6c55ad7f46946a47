#include "proxy/upstream_pool.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ignite::proxy {

namespace net = boost::asio;

namespace {

constexpr auto k_gate_idle = std::chrono::seconds(30);

// A pooled connection is usable only if reading it would block: 0 means the pod closed
// it (FIN), data means the pod sent something unasked (a late or broken response).
bool still_open(tcp_socket& socket) noexcept {
  char byte;
  auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

upstream_pool::upstream_pool(net::io_context& ctx) : ctx_(ctx), sweep_timer_(ctx.get_executor()) {}

std::unique_ptr<upstream_connection> upstream_pool::take(const endpoint& address) {
  auto it = idle_.find(address);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  while (!list.empty()) {
    auto conn = std::move(list.back());
    list.pop_back();
    if (still_open(conn->socket)) {
      stats_.reuses.fetch_add(1, std::memory_order_relaxed);
      return conn;
    }
    boost::system::error_code ignored;
    conn->socket.close(ignored);
  }
  return nullptr;
}

void upstream_pool::give_back(const endpoint& address, std::unique_ptr<upstream_connection> conn) {
  boost::system::error_code ignored;
  if (closed_ || conn->buffer.size() != 0) {  // leftover bytes: the stream is out of step
    conn->socket.close(ignored);
    return;
  }
  auto it = idle_.find(address);
  if (it == idle_.end()) it = idle_.emplace(address, idle_list{}).first;
  auto& list = it->second;
  if (list.size() >= upstream_limits::k_max_idle_per_pod) {
    list.front()->socket.close(ignored);
    list.erase(list.begin());
  }
  conn->idle_since = std::chrono::steady_clock::now();
  list.push_back(std::move(conn));
}

net::awaitable<void> upstream_pool::sweep() {
  while (!closed_) {
    sweep_timer_.expires_after(std::chrono::seconds(1));
    auto [ec] = co_await sweep_timer_.async_wait(net::as_tuple(net::use_awaitable));
    if (ec || closed_) co_return;
    auto oldest_allowed = std::chrono::steady_clock::now() - upstream_limits::k_idle_timeout;
    for (auto it = idle_.begin(); it != idle_.end();) {
      auto& list = it->second;
      auto keep =
          std::find_if(list.begin(), list.end(), [&](const auto& c) { return c->idle_since >= oldest_allowed; });
      list.erase(list.begin(), keep);  // closes the sockets
      it = list.empty() ? idle_.erase(it) : std::next(it);
    }
    // Windows of pods nobody has connected to for a while: pods come and go, their
    // ports with them.
    const auto forgotten = std::chrono::steady_clock::now() - k_gate_idle;
    std::erase_if(gates_, [&](const auto& g) {
      return g.second.window.in_flight() == 0 && g.second.queue.empty() && g.second.last_used < forgotten;
    });
  }
}

bool upstream_pool::begin_connect(const endpoint& address, connect_waiter& w) {
  auto& gate = gates_[address];
  gate.last_used = std::chrono::steady_clock::now();
  // FIFO: nobody overtakes a request that is already waiting.
  if (gate.queue.empty() && gate.window.try_begin()) return true;
  gate.queue.push_back(&w);
  return false;
}

void upstream_pool::end_connect(const endpoint& address, connect_outcome outcome, connect_window::duration rtt) {
  auto it = gates_.find(address);
  if (it == gates_.end()) return;
  auto& gate = it->second;
  switch (outcome) {
    case connect_outcome::succeeded:
      gate.window.succeeded(rtt);
      break;
    case connect_outcome::lost:
      gate.window.lost();
      break;
    case connect_outcome::ended:
      gate.window.end();
      break;
  }
  while (!gate.queue.empty() && !gate.window.full()) {
    auto* next = gate.queue.front();
    gate.queue.pop_front();
    gate.window.hand_over();
    next->granted = true;
    next->wake.cancel();
  }
}

void upstream_pool::forget_waiter(const endpoint& address, connect_waiter& w) noexcept {
  auto it = gates_.find(address);
  if (it == gates_.end()) return;
  auto& queue = it->second.queue;
  queue.erase(std::remove(queue.begin(), queue.end(), &w), queue.end());
}

connect_window::duration upstream_pool::connect_timeout(const endpoint& address) {
  return gates_[address].window.timeout();
}

const connect_window* upstream_pool::window_of(const endpoint& address) const {
  auto it = gates_.find(address);
  return it == gates_.end() ? nullptr : &it->second.window;
}

std::size_t upstream_pool::idle_count() const noexcept {
  std::size_t n = 0;
  for (const auto& [address, list] : idle_) n += list.size();
  return n;
}

void upstream_pool::close_all() {
  closed_ = true;
  sweep_timer_.cancel();
  idle_.clear();
}

}  // namespace ignite::proxy
