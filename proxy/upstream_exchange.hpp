#pragma once
// One attempt to have a pod of a version answer one request (Envoy's UpstreamRequest):
//   acquire_pod (held while a pod starts) → connect → send_request → read_response_head
//   → read_body, piece by piece → finish.
// It knows nothing of the client side: the public session relays the pieces to its
// client; the control API's invoke collects them.
//
// Worker thread only: the connection pool and the executor it uses belong to one
// worker; the version pool is the one shared object, and it is thread-safe.
//
// Time: the exchange has no timer. It tells the caller's watchdog the deadline of each
// step (set_deadline); when one passes, or the client goes away, the caller calls
// cancel(), and the step in progress ends with the error that fits it.

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "coldstart/version_pool.hpp"
#include "proxy/chunked_decoder.hpp"
#include "proxy/header_rewriter.hpp"
#include "proxy/request_error.hpp"
#include "proxy/upstream_pool.hpp"
#include "routing/config.hpp"

namespace ignite::proxy {

class held_request;

// Receives the deadline of the step an exchange (or a session) is in.
class watchdog {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  // Replaces the current deadline. Worker thread.
  virtual void set_deadline(time_point deadline) = 0;

 protected:
  ~watchdog() = default;
};

class upstream_exchange {
 public:
  using clock = std::chrono::steady_clock;
  using response_parser = boost::beast::http::response_parser<boost::beast::http::empty_body, arena_allocator>;
  enum class cancel_reason : std::uint8_t { none, timeout, client_gone };

  static constexpr std::size_t k_max_response_head_bytes = 64 * 1024;
  static constexpr std::size_t k_max_chunk_line = 4096;
  static constexpr std::size_t k_max_pieces = 16;

  // How the pod frames its body.
  enum class framing : std::uint8_t { none, length, chunked, until_close };

  // Body bytes as they arrived, in up to k_max_pieces spans of the relay buffer; valid
  // until the next read_body().
  struct body_piece {
    std::array<std::string_view, k_max_pieces> data;
    std::size_t count = 0;
    bool done = false;
  };

  // `start` is when the request began (its deadlines count from there); `arena` holds
  // the response's header fields.
  upstream_exchange(upstream_pool& connections, coldstart::version_pool& pool, const routing::limits& limits,
                    clock::time_point start, watchdog& dog, std::pmr::memory_resource* arena);
  // Releases the pod and closes a connection that was not given back.
  ~upstream_exchange();
  upstream_exchange(const upstream_exchange&) = delete;
  upstream_exchange& operator=(const upstream_exchange&) = delete;

  // The warm path, without suspending: a ready pod with a free slot and a pooled
  // connection to it. False leaves nothing taken; connect() does the rest.
  bool try_connect_pooled();
  // acquire_pod and connect: a pod with a free slot (held while one starts, at most
  // cold_start_timeout from the start), then a pooled or new connection to it. A pod
  // that refuses goes back to be probed and another is acquired: nothing was written,
  // so nothing can run twice.
  boost::asio::awaitable<request_error> connect();
  // send_request: the head and body in one gathered write. From here a failure is never
  // retried: a POST runs at most once.
  boost::asio::awaitable<request_error> send_request(std::string_view head, std::string_view body);
  // send_request without suspending: true if the socket took the whole request at once,
  // or the write failed (`e` says how); false leaves the rest to send_request().
  bool try_send_request(std::string_view head, std::string_view body, request_error& e);
  // read_response_head: the first final head (1xx are skipped), read as raw bytes
  // (bounded) before Beast parses it.
  boost::asio::awaitable<request_error> read_response_head();
  // The body bytes already buffered, decoded, without suspending (out.count may be 0).
  request_error take_body(body_piece& out);
  // read_body: reads from the pod until take_body() has something, then returns it.
  // After done or an error, the exchange is finished with the connection.
  boost::asio::awaitable<request_error> read_body(body_piece& out);
  // The answer was relayed whole: the connection goes back to the pool if the pod may
  // reuse it and nothing followed the answer; otherwise it is closed.
  void finish();

  // Worker thread. Ends the step in progress (a hold, a connect, a read or write).
  void cancel(cancel_reason why);

  bool cold_start() const noexcept { return cold_start_; }
  const response_parser& response() const noexcept { return *response_; }
  framing body_framing() const noexcept { return framing_; }
  // A Content-Length answer's length.
  std::uint64_t content_length() const noexcept { return remaining_; }

 private:
  boost::asio::awaitable<request_error> acquire_pod();
  boost::asio::awaitable<request_error> wait_for_connect_slot();
  request_error failed(proxy_error kind, std::string_view message, bool retry_safe = false);
  void drop_connection();

  upstream_pool& connections_;
  coldstart::version_pool& pool_;
  const routing::limits& limits_;
  const clock::time_point start_;
  watchdog& dog_;
  std::pmr::memory_resource* arena_;

  coldstart::grant grant_;  // grant_.pod != 0: counted in flight on that pod
  std::unique_ptr<upstream_connection> conn_;
  std::shared_ptr<held_request> held_;
  std::optional<connect_waiter> connect_waiter_;  // while waiting for a connect slot
  std::optional<response_parser> response_;
  std::optional<upstream_pool::relay_buffer> relay_;
  std::optional<chunked_decoder> chunks_;
  std::size_t begin_ = 0;  // undecoded bytes of the relay buffer: [begin_, end_)
  std::size_t end_ = 0;
  std::uint64_t remaining_ = 0;  // of a Content-Length body
  std::size_t sent_ = 0;         // of the request, by try_send_request
  framing framing_ = framing::none;
  cancel_reason cancelled_ = cancel_reason::none;
  bool cold_start_ = false;
  bool done_ = false;
  bool connecting_ = false;  // a connect is under way (cancel() looks before it closes)
};

}  // namespace ignite::proxy
