#pragma once
// A worker's plain-TCP client connections while they wait for a request: a new
// connection, and a keep-alive connection once its hot wait (http_session.cpp) is over.
//
// A public ingress keeps many idle keep-alive connections, so each must cost little.
// A waiting http_session would keep its object, its watchdog timer and the timer's
// pending wait, about 1 KiB with Asio's state for the socket; nginx keeps about 0.6 KiB.
// So a waiting connection is not a session here: a parked_connection holds its socket,
// its deadline and whether it has served a request, one read-readiness wait is pending on
// the socket, and one timer per worker serves every parked connection's deadline from a
// min-heap. When a request arrives the socket moves into a new http_session, which
// serves it; the parked connection is gone.
#include <chrono>
#include <cstdint>
#include <memory>

#include <boost/system/error_code.hpp>

#include "proxy/deadline_heap.hpp"
#include "proxy/http_session.hpp"
#include "proxy/io_types.hpp"

namespace ignite::proxy {

class parking_lot;
class worker;

class parked_connection final : public session_base {
 public:
  using clock = std::chrono::steady_clock;

  parked_connection(parking_lot& lot, tcp_socket socket, bool served_any);
  ~parked_connection() override;

  // session_base, worker thread: drain, stop and eviction close it; overload brings its
  // deadline nearer.
  void on_drain() override;
  void force_close() override;
  void on_overload() override;
  bool try_evict() override;

 private:
  friend class parking_lot;

  // Kept to 88 bytes (a 96-byte heap block): its deadline lives in the lot's heap only.
  parking_lot& lot_;
  tcp_socket socket_;
  std::uint32_t heap_index_;  // in the lot's deadline_heap
  bool served_any_;
  bool handed_over_ = false;  // its socket went to a session: the connection lives on
};

class parking_lot {
 public:
  using clock = std::chrono::steady_clock;

  explicit parking_lot(worker& owner);
  parking_lot(const parking_lot&) = delete;
  parking_lot& operator=(const parking_lot&) = delete;

  // Worker thread. Waits on `socket` (connected, non-blocking) for a request until
  // `deadline`; `served_any` says which of the timeouts that deadline is, for the session
  // that serves the request.
  void park(tcp_socket socket, clock::time_point deadline, bool served_any);

  // Worker thread: the deadline timer stops, so the worker's run() can end.
  void stop();

  std::size_t size() const noexcept { return deadlines_.size(); }

 private:
  friend class parked_connection;
  void wake(std::unique_ptr<parked_connection> p, boost::system::error_code ec);
  static void close(tcp_socket& socket);

  // The timer waits for the earliest deadline; a later one needs no timer operation.
  void arm();
  void expire();

  worker& worker_;
  steady_timer timer_;
  deadline_heap<parked_connection, &parked_connection::heap_index_> deadlines_;
  clock::time_point armed_at_ = clock::time_point::max();
  bool stopped_ = false;
};

}  // namespace ignite::proxy
