#pragma once
// One client connection, from accept to close. While requests are served it is a
// coroutine that reads in the order a request lives (see README, "Life of a request"):
//   wait_for_request → read_head → check_head → route → read_body → acquire_pod (hold
//   while a pod starts) → connect_upstream → send_request → read_response_head
//   → relay_response → finish. Between requests it parks without a coroutine
//   (wait_for_request), so an idle connection costs little memory.
// One watchdog timer per session enforces every timeout: it holds the current deadline
// and, when it passes, cancels the socket being waited on; the coroutine then sees
// operation_aborted with timed_out_ set and answers according to the phase it was in.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "coldstart/version_pool.hpp"
#include "proxy/io_types.hpp"
#include "proxy/proxy_error.hpp"

namespace ignite::proxy {

class worker;
class held_request;
struct upstream_connection;

class http_session : public std::enable_shared_from_this<http_session> {
 public:
  using clock = std::chrono::steady_clock;

  http_session(worker& owner, tcp_socket socket);
  ~http_session();

  // Worker thread. Spawns the session's coroutine; it owns a reference to the session.
  void start();
  // Worker thread. Closes the connection now if it is between requests; a request in
  // flight finishes first and its response says Connection: close.
  void on_drain();
  // Worker thread. Closes the connection and aborts any request in flight.
  void force_close();

  // The size of the per-request state, for the worker's block recycler.
  static std::size_t exchange_size() noexcept;

 private:
  friend class worker;
  struct exchange;  // one request/response, lives in serve()'s frame

  void wait_for_request();
  boost::asio::awaitable<void> serve_requests(std::shared_ptr<http_session> self);
  void close();
  boost::asio::awaitable<bool> serve();
  boost::asio::awaitable<proxy_error> read_head(exchange& x);
  boost::asio::awaitable<proxy_error> read_body(exchange& x);
  boost::asio::awaitable<proxy_error> acquire_pod(exchange& x, coldstart::version_pool& pool, coldstart::grant& g);
  boost::asio::awaitable<proxy_error> connect_upstream(exchange& x, coldstart::version_pool& pool);
  boost::asio::awaitable<proxy_error> forward(exchange& x);
  boost::asio::awaitable<proxy_error> read_response_head(exchange& x);
  boost::asio::awaitable<proxy_error> relay_response(exchange& x, std::string& head);
  boost::asio::awaitable<void> reply_error(exchange& x, proxy_error e, std::string_view why);
  void finish(exchange& x);

  void set_deadline(clock::time_point deadline);
  void watch();
  void on_watch(unsigned generation);

  worker& worker_;
  tcp_socket client_;
  steady_timer timer_;
  boost::beast::flat_buffer buffer_;  // client bytes not yet parsed; released when idle
  std::string client_ip_;             // for X-Forwarded-For (fits the small-string buffer)
  clock::time_point deadline_ = clock::time_point::max();
  tcp_socket* watched_upstream_ = nullptr;
  held_request* watched_hold_ = nullptr;
  unsigned watch_generation_ = 0;
  std::size_t registry_index_ = 0;  // in worker::sessions_
  bool idle_ = false;               // parked between requests (wait_for_request)
  bool watch_armed_ = false;
  bool timed_out_ = false;
  bool closed_ = false;
  bool served_any_ = false;
};

}  // namespace ignite::proxy
