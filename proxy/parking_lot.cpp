#include "proxy/parking_lot.hpp"

#include <utility>

#include <boost/asio/bind_allocator.hpp>

#include "proxy/deadlines.hpp"
#include "proxy/exact_allocator.hpp"
#include "proxy/worker.hpp"

namespace ignite::proxy {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// ---- a parked connection ------------------------------------------------------------------

parked_connection::parked_connection(parking_lot& lot, tcp_socket socket, bool served_any)
    : lot_(lot), socket_(std::move(socket)), heap_index_(decltype(lot.deadlines_)::k_absent), served_any_(served_any) {
  lot_.worker_.attach(*this);
  lot_.worker_.park(*this);
}

parked_connection::~parked_connection() {
  if (lot_.deadlines_.contains(*this)) lot_.deadlines_.erase(*this);
  // Count first, as a session does: detach() may report the worker drained.
  if (!handed_over_) lot_.worker_.shared().connections.fetch_sub(1, std::memory_order_acq_rel);
  lot_.worker_.detach(*this);
}

// Each of these ends the read wait; the wait's handler closes the connection.
void parked_connection::on_drain() {
  boost::system::error_code ignored;
  socket_.cancel(ignored);
}

void parked_connection::force_close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void parked_connection::on_overload() {
  auto& deadlines = lot_.deadlines_;
  if (!deadlines.contains(*this)) return;
  const auto current = deadlines.at(*this);
  const auto at = deadlines::overloaded(clock::now(), current);
  if (at == current) return;
  deadlines.move_earlier(*this, at);
  lot_.arm();
}

// A request may already sit in the socket, its wake-up not yet run: that connection is
// about to be used, not idle.
bool parked_connection::try_evict() {
  boost::system::error_code ec;
  if (socket_.available(ec) > 0 || ec) return false;
  on_drain();
  return true;
}

// ---- the lot --------------------------------------------------------------------------------

parking_lot::parking_lot(worker& owner) : worker_(owner), timer_(owner.context().get_executor()) {}

void parking_lot::park(tcp_socket socket, clock::time_point deadline, bool served_any) {
  auto p = std::make_unique<parked_connection>(*this, std::move(socket), served_any);
  auto& parked = *p;
  deadlines_.push(parked, deadline);
  // The handler owns the parked connection: whatever ends the wait (a request, a close,
  // the deadline, a drain) runs it exactly once. Its allocation is exact (exact_allocator.hpp).
  parked.socket_.async_wait(
      tcp::socket::wait_read,
      net::bind_allocator(exact_allocator<void>(), [p = std::move(p)](boost::system::error_code ec) mutable {
        p->lot_.wake(std::move(p), ec);
      }));
  arm();
}

void parking_lot::wake(std::unique_ptr<parked_connection> p, boost::system::error_code ec) {
  worker_.unpark(*p);
  if (deadlines_.contains(*p)) deadlines_.erase(*p);
  if (ec || !p->socket_.is_open() || worker_.draining()) {
    close(p->socket_);
    return;  // p's destructor gives the slot back
  }
  // The session is attached before the parked connection detaches, so a drain never sees
  // the worker empty in between.
  auto session = std::make_shared<http_session<tcp_socket>>(worker_, std::move(p->socket_), p->served_any_);
  p->handed_over_ = true;
  p.reset();
  session->resume();
}

void parking_lot::close(tcp_socket& socket) {
  boost::system::error_code ignored;
  if (!socket.is_open()) return;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
}

void parking_lot::stop() {
  stopped_ = true;
  timer_.cancel();
}

// ---- deadlines --------------------------------------------------------------------------------

void parking_lot::arm() {
  if (stopped_ || deadlines_.empty()) return;
  const auto earliest = deadlines_.top_at();
  // An armed wait fires no later than the earliest deadline, then re-arms for the next.
  if (earliest >= armed_at_) return;
  armed_at_ = earliest;
  timer_.expires_at(earliest);  // a wait already pending ends with operation_aborted
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    armed_at_ = clock::time_point::max();
    expire();
  });
}

// Every connection whose deadline has passed leaves the heap, and its read wait is
// cancelled: the wait's handler closes it.
void parking_lot::expire() {
  const auto now = clock::now();
  while (!deadlines_.empty() && deadlines_.top_at() <= now) {
    auto& p = deadlines_.top();
    deadlines_.erase(p);
    boost::system::error_code ignored;
    p.socket_.cancel(ignored);
  }
  arm();
}

}  // namespace ignite::proxy
