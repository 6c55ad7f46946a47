#pragma once
// One client connection, from accept to close, over a plain socket or TLS (`Stream`, see
// client_stream.hpp): the same code serves both. While requests are served it is a
// coroutine whose phases read in the order a request lives (README, "Life of a request"):
//   read_head → check_head → route → read_body → forward (upstream_exchange: acquire_pod
//   → connect → send_request → read_response_head) → relay_response → finish.
// Between requests it parks without a coroutine (wait_for_request); over plain TCP the
// connection leaves the session altogether for the worker's parking lot (parking_lot.hpp),
// so an idle connection costs little memory.
// One watchdog timer per session enforces every timeout: it holds the current deadline
// (deadlines.hpp) and, when it passes, cancels what the session waits on; the phase in
// progress then answers as the error table says (408, 504) or closes.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "proxy/certificate_set.hpp"
#include "proxy/client_stream.hpp"
#include "proxy/io_types.hpp"
#include "proxy/request_error.hpp"
#include "proxy/upstream_exchange.hpp"

namespace ignite::proxy {

class worker;
struct request_context;

// What a worker keeps of each of its connections, whatever their stream.
class session_base {
 public:
  virtual ~session_base() = default;
  // Worker thread. Closes the connection now if it is between requests; a request in
  // flight finishes first and its answer says Connection: close.
  virtual void on_drain() = 0;
  // Worker thread. Closes the connection and aborts any request in flight.
  virtual void force_close() = 0;
  // Worker thread, the proxy is near max_connections: a connection waiting for a request
  // head (idle, part-way through one, or in its TLS handshake) gets at most
  // deadlines::k_overloaded_wait more.
  virtual void on_overload() = 0;
  // Worker thread, the overload manager wants a slot: closes the connection if it is
  // parked with no request waiting on its socket, and says whether it did.
  virtual bool try_evict() = 0;

 private:
  friend class worker;
  // Kept small: a parked connection (parking_lot.hpp) is little more than this.
  std::uint32_t registry_index_ = 0;  // in worker::sessions_
  bool in_idle_list_ = false;
  // Parked between requests: a link in the worker's idle list, oldest first, which the
  // overload manager closes from the front.
  session_base* idle_prev_ = nullptr;
  session_base* idle_next_ = nullptr;
};

template <class Stream>
class http_session final : public session_base,
                           public watchdog,
                           public std::enable_shared_from_this<http_session<Stream>> {
 public:
  using clock = std::chrono::steady_clock;

  // `stream` is connected; over TLS, start() runs the handshake first. `served_any`: the
  // connection has carried a request before (a parked connection woken, parking_lot.hpp).
  http_session(worker& owner, Stream stream, bool served_any = false);
  ~http_session() override;

  // Worker thread, TLS: runs the handshake, then waits for the first request; the pending
  // operation owns the session. (A plain connection begins in the parking lot.)
  void start() requires client_stream<Stream>::is_tls;
  // Worker thread. Serves the request that has arrived on the connection (a wake-up).
  void resume();
  void on_drain() override;
  void force_close() override;
  void on_overload() override;
  bool try_evict() override;

  // watchdog: the deadline of the step in progress. Worker thread.
  void set_deadline(clock::time_point deadline) override;

 private:
  void wait_for_request(clock::time_point idle_since);
  boost::asio::awaitable<void> serve_requests(std::shared_ptr<http_session> self);
  boost::asio::awaitable<bool> serve();

  // The phases, in order.
  bool head_buffered(request_context& x);
  boost::asio::awaitable<request_error> read_head(request_context& x);
  request_error check_head(request_context& x);
  request_error route(request_context& x);
  bool take_buffered_body(request_context& x);
  boost::asio::awaitable<request_error> read_body(request_context& x);
  boost::asio::awaitable<request_error> forward(request_context& x);
  boost::asio::awaitable<request_error> relay_response(request_context& x);
  void watch_client();
  void stop_watching_client();
  bool client_left();
  boost::asio::awaitable<void> reply_error(request_context& x);
  void finish(request_context& x);

  void handshake();
  request_error check_server_name(const request_context& x) const;
  void close();
  void watch();
  void on_watch(unsigned generation);

  // What a TLS connection learns in its handshake: the server name it asked for (the
  // Host check, 421) and, while it runs, its certificates and why it was refused.
  struct tls_state final : sni_listener {
    worker* owner = nullptr;
    std::string server_name;
    std::shared_ptr<const certificate_set> certificates;  // during the handshake
    tls_failure refused = tls_failure::none;
    void on_server_name(std::string_view name, bool known) override;
    void on_refused(tls_failure why) override { refused = why; }
  };
  struct no_tls_state {};

  worker& worker_;
  Stream stream_;
  [[no_unique_address]] std::conditional_t<client_stream<Stream>::is_tls, tls_state, no_tls_state> tls_;
  steady_timer timer_;
  boost::beast::flat_buffer buffer_;  // client bytes not yet parsed; released when idle
  std::string client_ip_;             // for X-Forwarded-For (fits the small-string buffer)
  std::string upstream_head_;         // the heads written for the pod and the client: kept
  std::string client_head_;           // between requests of a busy connection, freed when idle
  clock::time_point deadline_ = clock::time_point::max();
  upstream_exchange* watched_ = nullptr;  // the exchange in progress, cancelled with the session
  unsigned watch_generation_ = 0;
  bool idle_ = false;  // between requests: parked (wait_for_request) or in the hot wait
  bool watch_armed_ = false;
  bool timed_out_ = false;
  bool closed_ = false;
  bool served_any_ = false;
  bool watching_client_ = false;  // a wait for the client's close runs during forward
  bool reading_head_ = false;     // in read_head: its deadline shrinks under overload
  bool handshaking_ = false;      // in the TLS handshake: so does its deadline
  bool reset_on_close_ = false;   // the client stopped reading: close with a reset
  bool handed_over_ = false;      // the connection went to the parking lot: it lives on
};

}  // namespace ignite::proxy
