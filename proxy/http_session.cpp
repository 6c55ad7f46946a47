#include "proxy/http_session.hpp"

#include <poll.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <span>
#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "common/strings.hpp"
#include "proxy/chunked_decoder.hpp"
#include "proxy/client_stream.hpp"
#include "proxy/deadlines.hpp"
#include "proxy/exact_allocator.hpp"
#include "proxy/header_rewriter.hpp"
#include "proxy/request_context.hpp"
#include "proxy/request_head_check.hpp"
#include "proxy/traceparent.hpp"
#include "proxy/worker.hpp"
#include "proxy/write_now.hpp"
#include "routing/host.hpp"

namespace ignite::proxy {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto k_use = net::as_tuple(net::use_awaitable);
constexpr std::size_t k_head_read_size = 4096;
// How long a keep-alive connection waits for its next request with its buffer and
// coroutine kept, before it parks lean (serve_requests).
constexpr auto k_hot_wait = std::chrono::milliseconds(250);
constexpr std::size_t k_body_read_size = 16384;
// A body is reserved up to this at once and grows as bytes arrive: a Content-Length
// alone must not make the proxy allocate megabytes for a client that sends nothing.
constexpr std::uint64_t k_body_reserve = 64 * 1024;
// A chunk-size line with its extensions; nginx and Envoy bound it to a few KiB too.
constexpr std::size_t k_max_chunk_line = 4096;

std::uint64_t unix_ms_now() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

std::string_view view(const beast::flat_buffer& b) {
  auto d = b.data();
  return {static_cast<const char*>(d.data()), d.size()};
}

// The request framing errors that leave the connection unusable: answered, then closed.
bool closes_connection(proxy_error e) {
  return e == proxy_error::bad_request || e == proxy_error::request_timeout || e == proxy_error::payload_too_large ||
         e == proxy_error::headers_too_large;
}

request_error bad_request(std::string_view why) {
  return request_error::from_client(proxy_error::bad_request, std::string(why));
}

// The 413 says what the limit is: the client cannot read the config.
request_error body_too_large(const routing::limits& limits) {
  return request_error::from_client(proxy_error::payload_too_large, "the request body is larger than the limit of " +
                                                                        std::to_string(limits.max_body_bytes) +
                                                                        " bytes (max_body_bytes)");
}

}  // namespace

template <class Stream>
http_session<Stream>::http_session(worker& owner, Stream stream, bool served_any)
    : worker_(owner),
      stream_(std::move(stream)),
      timer_(client_stream<Stream>::socket(stream_).get_executor()),
      served_any_(served_any) {
  // The socket's options (no delay; non-blocking for plain TCP) were set on accept.
  boost::system::error_code ec;
  auto peer = client_stream<Stream>::socket(stream_).remote_endpoint(ec);
  if (!ec) client_ip_ = peer.address().to_string();
  if constexpr (client_stream<Stream>::is_tls) worker_.shared().tls_connections.fetch_add(1, std::memory_order_relaxed);
  worker_.attach(*this);
}

template <class Stream>
http_session<Stream>::~http_session() {
  // Count first: detach() may report the worker drained, and the server then reads the
  // count from another thread. A connection handed to the parking lot lives on there.
  if constexpr (client_stream<Stream>::is_tls) worker_.shared().tls_connections.fetch_sub(1, std::memory_order_relaxed);
  if (!handed_over_) worker_.shared().connections.fetch_sub(1, std::memory_order_acq_rel);
  worker_.detach(*this);
}

template <class Stream>
void http_session<Stream>::start() requires client_stream<Stream>::is_tls {
  handshake();
}

template <class Stream>
void http_session<Stream>::resume() {
  net::co_spawn(client_stream<Stream>::socket(stream_).get_executor(), serve_requests(this->shared_from_this()),
                net::detached);
}

// ---- the TLS handshake --------------------------------------------------------------------

template <class Stream>
void http_session<Stream>::tls_state::on_server_name(std::string_view name, bool) {
  server_name = name;
  if (owner) owner->prewarm(name);
}

// Under its own timeout: a handshake trickled in byte by byte holds a connection slot.
template <class Stream>
void http_session<Stream>::handshake() {
  if constexpr (client_stream<Stream>::is_tls) {
    tls_.owner = &worker_;
    tls_.certificates = worker_.certificates();  // the set stream_ was made from, kept alive
    // Near max_connections a handshake gets the overload wait too (worker.cpp).
    auto timeout = worker_.snapshot()->limits().tls_handshake_timeout;
    if (worker_.overloaded()) timeout = std::min<std::chrono::milliseconds>(timeout, deadlines::k_overloaded_wait);
    set_deadline(clock::now() + timeout);
    handshaking_ = true;
    certificate_set::listen(stream_.native_handle(), &tls_);
    stream_.async_handshake(net::ssl::stream_base::server,
                            [self = this->shared_from_this()](boost::system::error_code ec) {
                              certificate_set::listen(self->stream_.native_handle(), nullptr);
                              self->handshaking_ = false;
                              self->tls_.certificates.reset();
                              auto& stats = self->worker_.stats();
                              if (ec) {
                                auto why = tls_failure::other;  // the connection closed or reset mid-handshake
                                if (self->timed_out_)
                                  why = tls_failure::timeout;
                                else if (self->tls_.refused != tls_failure::none)
                                  why = self->tls_.refused;
                                else if (ec.category() == net::error::get_ssl_category())
                                  why = tls_failure::protocol;
                                worker_stats::bump(stats.tls_handshake_failures[static_cast<std::size_t>(why)]);
                                return self->close();
                              }
                              worker_stats::bump(stats.tls_handshakes);
                              if (self->closed_ || self->worker_.draining()) return self->close();
                              self->wait_for_request(clock::now());
                            });
  }
}

// The request's Host must name the app its TLS server name named: a connection set up
// for one app's certificate is not reused for another's (RFC 9110, 421).
template <class Stream>
request_error http_session<Stream>::check_server_name(const request_context& x) const {
  if constexpr (client_stream<Stream>::is_tls) {
    if (tls_.server_name.empty()) return {};  // no SNI: the default certificate served it
    auto sni = routing::label_of_host(tls_.server_name, x.snapshot->table().domain());
    auto host = routing::label_of_host(x.host, x.snapshot->table().domain());
    if (!sni || !host || sni->view() != host->view())
      return request_error::from_client(proxy_error::misdirected_request,
                                        "this connection's TLS server name is for another host; open a new "
                                        "connection for this one");
  }
  return {};
}

template <class Stream>
void http_session<Stream>::on_drain() {
  if (idle_) {
    boost::system::error_code ignored;
    client_stream<Stream>::socket(stream_).cancel(ignored);
  }
}

template <class Stream>
void http_session<Stream>::on_overload() {
  if (idle_ || reading_head_ || handshaking_) set_deadline(deadlines::overloaded(clock::now(), deadline_));
}

template <class Stream>
bool http_session<Stream>::try_evict() {
  if (!idle_) return false;
  // Parked, but a request may already sit in the socket, its wake-up not yet run: that
  // connection is about to be used, not idle.
  boost::system::error_code ec;
  if (client_stream<Stream>::socket(stream_).available(ec) > 0 || ec) return false;
  on_drain();  // cancels the wait: the session closes from its handler
  return true;
}

template <class Stream>
void http_session<Stream>::force_close() {
  closed_ = true;
  boost::system::error_code ignored;
  client_stream<Stream>::socket(stream_).close(ignored);
  if (watched_) watched_->cancel(upstream_exchange::cancel_reason::client_gone);
  timer_.cancel();
}

// ---- the watchdog -------------------------------------------------------------------------

template <class Stream>
void http_session<Stream>::set_deadline(clock::time_point deadline) {
  deadline_ = deadline;
  timed_out_ = false;
  // A later deadline needs no timer operation: the armed wait fires first and re-arms.
  if (watch_armed_ && deadline >= timer_.expiry()) return;
  watch_armed_ = true;
  timer_.expires_at(deadline);
  watch();
}

template <class Stream>
void http_session<Stream>::watch() {
  timer_.async_wait(net::bind_allocator(
      exact_allocator<void>(),
      [self = this->shared_from_this(), generation = ++watch_generation_](boost::system::error_code ec) {
        if (!ec) self->on_watch(generation);
      }));
}

template <class Stream>
void http_session<Stream>::on_watch(unsigned generation) {
  if (generation != watch_generation_ || closed_) return;
  if (clock::now() < deadline_) {
    timer_.expires_at(deadline_);
    watch();
    return;
  }
  watch_armed_ = false;
  timed_out_ = true;
  // Cancel, not close: the session may still owe the client a 408 or 504.
  boost::system::error_code ignored;
  client_stream<Stream>::socket(stream_).cancel(ignored);
  if (watched_) watched_->cancel(upstream_exchange::cancel_reason::timeout);
}

// ---- the connection -----------------------------------------------------------------------

// Between requests a connection holds no coroutine frame: a public ingress keeps many idle
// keep-alive connections, and a parked coroutine costs about 2 KiB of frames. Over plain
// TCP the connection leaves the session for the worker's parking lot (parking_lot.hpp),
// which keeps only its socket and deadline and makes a new session when a request comes.
// Over TLS the session stays, its wait a plain completion handler reading through the TLS
// layer (bytes may already sit inside it) into the session's buffer; each wake-up spawns
// the coroutine that serves what came.
// `idle_since` is when the connection became idle: its idle timeout counts from there.
template <class Stream>
void http_session<Stream>::wait_for_request(clock::time_point idle_since) {
  const auto deadline =
      deadlines::next_request(idle_since, served_any_, worker_.snapshot()->limits(), worker_.overloaded());
  if constexpr (!client_stream<Stream>::is_tls) {
    closed_ = true;  // nothing of this session touches the socket again
    timer_.cancel();
    handed_over_ = true;
    worker_.parking().park(std::move(stream_), deadline, served_any_);
  } else {
    idle_ = true;
    worker_.park(*this);
    std::string().swap(upstream_head_);
    std::string().swap(client_head_);
    set_deadline(deadline);
    stream_.async_read_some(buffer_.prepare(k_head_read_size),
                            [self = this->shared_from_this()](boost::system::error_code ec, std::size_t n) {
                              self->buffer_.commit(n);
                              self->idle_ = false;
                              self->worker_.unpark(*self);
                              if (ec || self->closed_ || self->worker_.draining()) return self->close();
                              self->resume();
                            });
  }
}

// A busy keep-alive client sends its next request soon after the answer. Parking for it
// would cost, per request, freeing and reallocating the read buffer, an epoll_ctl (a
// wait re-arms the descriptor; a read after one that drained the socket needs no
// syscall to start) and a coroutine spawn. So over plain TCP the coroutine first reads
// for the next request itself, buffer and frames kept, for at most k_hot_wait; only a
// connection quiet that long parks lean (and so does one after its first request). The
// hot wait is idle like the parked one: the overload manager may evict it, a drain ends
// it, and its idle timeout is the same.
template <class Stream>
net::awaitable<void> http_session<Stream>::serve_requests(std::shared_ptr<http_session> self) {
  for (;;) {
    if (!co_await serve() || worker_.draining()) break;
    const bool repeat_client = served_any_;
    served_any_ = true;
    if (buffer_.size() > 0) continue;  // pipelined requests are served before waiting
    const auto idle_since = clock::now();
    // From a connection's second request on: one that made a single request and went
    // quiet (most idle keep-alive connections) never holds the hot wait's memory.
    if (!client_stream<Stream>::is_tls && repeat_client) {
      const auto& limits = worker_.snapshot()->limits();
      idle_ = true;
      worker_.park(*this);
      set_deadline(
          std::min(idle_since + k_hot_wait, deadlines::next_request(idle_since, true, limits, worker_.overloaded())));
      auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(k_head_read_size), k_use);
      buffer_.commit(n);
      idle_ = false;
      worker_.unpark(*this);
      if (n > 0) continue;
      // Only the end of the hot wait parks; anything else (the client closed, an
      // eviction, a drain, the idle timeout itself) ends the connection.
      const bool hot_wait_over = ec == net::error::operation_aborted && timed_out_ && !closed_ && !worker_.draining() &&
                                 clock::now() < deadlines::next_request(idle_since, true, limits, worker_.overloaded());
      if (!hot_wait_over) break;
    }
    wait_for_request(idle_since);
    co_return;
  }
  close();
}

template <class Stream>
void http_session<Stream>::close() {
  closed_ = true;
  boost::system::error_code ignored;
  auto& socket = client_stream<Stream>::socket(stream_);
  if (reset_on_close_) {
    // A client that stopped reading would keep the unsent answer in the kernel, as an
    // orphaned socket, for minutes after the close: a reset frees it now (nginx's
    // reset_timedout_connection).
    socket.set_option(net::socket_base::linger(true, 0), ignored);
  } else {
    socket.shutdown(tcp::socket::shutdown_send, ignored);
  }
  socket.close(ignored);
  timer_.cancel();
}

// One request: returns whether the connection may carry another.
template <class Stream>
net::awaitable<bool> http_session<Stream>::serve() {
  // The context lives in a recycled block, not in this frame: Asio reuses coroutine
  // frames only up to about 1 KiB, and this one would be larger.
  auto& blocks = worker_.context_blocks();
  auto deleter = [&blocks](request_context* p) {
    p->~request_context();
    blocks.give(p);
  };
  std::unique_ptr<request_context, decltype(deleter)> owned(new (blocks.take()) request_context, deleter);
  request_context& x = *owned;
  x.snapshot = worker_.snapshot();
  x.id = worker_.ids().next(unix_ms_now());

  request_error e;
  // The last line of defence: nothing a client or a pod sends may end the process. The
  // phases are written not to throw (Beast only parses bounded, pre-checked pod heads);
  // should something throw anyway, only this request fails, with an answer if none has
  // started, and the connection closes.
  const char* fault = nullptr;
  std::string fault_what;
  try {
    // Like the body below: a head that came whole (as the hot wait's read brings it) is
    // taken without a coroutine call.
    if (!head_buffered(x)) e = co_await read_head(x);
    if (!e) e = check_head(x);
    if (!e) e = route(x);
    // Coroutine calls cost; a body that came with its head is taken without one.
    if (!e && !x.body_done && !take_buffered_body(x)) e = co_await read_body(x);
    if (!e) e = co_await forward(x);
  } catch (const std::length_error& ex) {
    fault = "length_error";
    fault_what = ex.what();
  } catch (const std::exception& ex) {
    fault = "exception";
    fault_what = ex.what();
  } catch (...) {
    fault = "unknown";
  }
  watched_ = nullptr;
  if (fault) {
    const bool upstream = x.upstream.has_value();
    worker_stats::bump(worker_.stats().faults);
    std::string fields = "\"execution_id\":\"" + std::string(x.id.view()) + "\",\"fault\":\"" + fault +
                         "\",\"upstream\":" + (upstream ? "true" : "false") + ",\"what\":";
    common::append_json_string(fields, fault_what);
    common::log_event("session_fault", fields);
    x.upstream.reset();
    x.keep_alive = false;
    const auto kind = upstream                                    ? proxy_error::upstream_error
                      : std::string_view(fault) == "length_error" ? proxy_error::headers_too_large
                                                                  : proxy_error::bad_request;
    e = request_error::from_proxy(kind, {}, std::string("fault: ") + fault_what);
  }
  // A client that closed before sending a byte simply ended its keep-alive connection.
  if (e.kind == proxy_error::client_closed && x.bytes_in == 0) co_return false;
  x.error = std::move(e);
  if (x.error && (x.error.kind == proxy_error::client_closed || x.response_started || closed_)) {
    // Nothing more can be written: the client is gone, or it has part of an answer and
    // must see it cut off rather than complete-looking.
    x.keep_alive = false;
  } else if (x.error) {
    co_await reply_error(x);
  }
  finish(x);
  co_return x.keep_alive && !closed_;
}

// ---- read_head ----------------------------------------------------------------------------

// read_head without suspending: true if the whole head is already buffered, within
// max_header_bytes; otherwise read_head reads (or refuses) it.
template <class Stream>
bool http_session<Stream>::head_buffered(request_context& x) {
  const auto& limits = x.snapshot->limits();
  std::size_t scanned = 0;
  x.head_size = find_head_end(view(buffer_), scanned);
  if (x.head_size == 0 || x.head_size > limits.max_header_bytes) return false;
  set_deadline(deadlines::head(x.start, limits, worker_.overloaded()));
  x.bytes_in = buffer_.size();
  return true;
}

// Raw bytes until the blank line, bounded by max_header_bytes: nothing reads a head
// before it is whole.
template <class Stream>
net::awaitable<request_error> http_session<Stream>::read_head(request_context& x) {
  const auto& limits = x.snapshot->limits();
  set_deadline(deadlines::head(x.start, limits, worker_.overloaded()));
  std::size_t scanned = 0;
  x.bytes_in = buffer_.size();
  reading_head_ = true;
  struct head_done {
    bool& flag;
    ~head_done() { flag = false; }
  } done{reading_head_};
  for (;;) {
    if ((x.head_size = find_head_end(view(buffer_), scanned))) break;
    if (buffer_.size() >= limits.max_header_bytes) co_return request_error::from_client(proxy_error::headers_too_large);
    auto want = std::min(k_head_read_size, limits.max_header_bytes - buffer_.size());
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(want), k_use);
    buffer_.commit(n);
    x.bytes_in += n;
    if (ec) {
      // Bytes arrived but the head did not complete in time: 408. Otherwise the client
      // went away (logged as such if it had sent part of a request).
      if (timed_out_ && buffer_.size() > 0) co_return request_error::from_client(proxy_error::request_timeout);
      co_return request_error::from_client(proxy_error::client_closed, ec.message());
    }
  }
  if (x.head_size > limits.max_header_bytes) co_return request_error::from_client(proxy_error::headers_too_large);
  co_return request_error{};
}

// ---- check_head ---------------------------------------------------------------------------

// The head's rules (request_head_check.hpp), checked and read in one pass over a copy of
// it in the request's arena: the views the later phases hold must survive the read
// buffer moving its bytes for the body.
template <class Stream>
request_error http_session<Stream>::check_head(request_context& x) {
  auto* copy = static_cast<char*>(x.arena.allocate(x.head_size, 1));
  std::memcpy(copy, buffer_.data().data(), x.head_size);
  x.head_bytes = std::string_view(copy, x.head_size);
  x.facts = check_request_head(x.head_bytes, &x.head);
  if (x.facts.error != proxy_error::none) return request_error::from_client(x.facts.error, std::string(x.facts.why));
  if (x.facts.underscore_fields)
    worker_stats::bump(worker_.stats().underscore_fields_dropped, x.facts.underscore_fields);
  x.head_checked = true;
  buffer_.consume(x.head_size);
  x.keep_alive = x.head.keep_alive(x.facts);
  return {};
}

// ---- route --------------------------------------------------------------------------------

// Host (an absolute-form target's first) → app → active version; then the method and
// path the platform serves. An unknown host is never forwarded.
template <class Stream>
request_error http_session<Stream>::route(request_context& x) {
  const auto& limits = x.snapshot->limits();
  auto target = routing::parse_target(x.head.target);
  if (!target) return bad_request("malformed request target");
  x.target = *target;
  if (target->absolute) {
    x.host = target->authority;
  } else {
    if (x.facts.host_count == 0) return bad_request("missing Host header");
    x.host = x.head.find("host").value_or(std::string_view());
  }
  auto label = routing::label_of_host(x.host, x.snapshot->table().domain());
  x.app = label ? x.snapshot->table().find(label->view()) : nullptr;
  if (!x.app) return request_error::from_client(proxy_error::app_not_found);
  x.version = x.app->active;
  if (auto e = check_server_name(x)) return e;
  if (x.head.method != "POST") return request_error::from_client(proxy_error::method_not_allowed);
  if (target->path != "/") return request_error::from_client(proxy_error::path_not_found);
  // The body limit is checked after routing: an unknown host or path is a 404 whatever
  // the body's size.
  if (x.facts.has_content_length && x.head.content_length > limits.max_body_bytes) return body_too_large(limits);
  x.body_done = !x.facts.chunked && x.head.content_length == 0;
  return {};
}

// ---- read_body ----------------------------------------------------------------------------

// A Content-Length body that is already buffered, taken without suspending. False: the
// body needs reading (or is chunked, or awaits a 100-continue).
template <class Stream>
bool http_session<Stream>::take_buffered_body(request_context& x) {
  if (x.facts.chunked) return false;
  const auto length = x.head.content_length;
  if (buffer_.size() < length) return false;
  x.body.assign(static_cast<const char*>(buffer_.data().data()), static_cast<std::size_t>(length));
  buffer_.consume(static_cast<std::size_t>(length));
  x.body_done = true;
  return true;
}

template <class Stream>
net::awaitable<request_error> http_session<Stream>::read_body(request_context& x) {
  if (x.body_done) co_return request_error{};
  const auto& limits = x.snapshot->limits();
  // curl waits a second for this before sending a body over 1 KiB; the pod never sees
  // the Expect header, the proxy answers it once the head has passed every check.
  if (!x.facts.http10 && common::iequals(x.head.find("expect").value_or(std::string_view()), "100-continue")) {
    set_deadline(deadlines::error_write(clock::now()));
    static constexpr std::string_view k_continue = "HTTP/1.1 100 Continue\r\n\r\n";
    auto [ec, n] = co_await net::async_write(stream_, net::buffer(k_continue), k_use);
    if (ec) co_return request_error::from_client(proxy_error::client_closed, ec.message());
  }
  // The body limit counts what the client sends, chunk framing included; trailers
  // count against the head's limits instead, and are then dropped.
  std::optional<chunked_decoder> chunks;
  std::uint64_t length = 0;
  // The minimum body rate counts from here, over what is read from here on.
  const auto body_start = clock::now();
  std::uint64_t received = buffer_.size();
  if (x.facts.chunked) {
    chunks.emplace(chunked_decoder::limits{
        .max_chunk_line = k_max_chunk_line,
        .max_trailer_bytes = limits.max_header_bytes > x.head_size ? limits.max_header_bytes - x.head_size : 0,
        .max_trailer_fields = k_max_header_fields - std::min<std::size_t>(k_max_header_fields, x.facts.fields)});
  } else {
    length = x.head.content_length;
    x.body.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(length, k_body_reserve)));
  }
  for (;;) {
    // Take what is buffered.
    if (chunks) {
      for (;;) {
        std::size_t used = 0;
        std::string_view data;
        auto status = chunks->next(view(buffer_), used, data);
        buffer_.consume(used);
        // A chunk that would take the body over the limit is refused when announced,
        // not after the client has sent (and the proxy buffered) most of it.
        if (chunks->announced_bytes() > limits.max_body_bytes) co_return body_too_large(limits);
        if (status == chunked_decoder::status::data) {
          x.body.append(data);
          continue;
        }
        if (status == chunked_decoder::status::done) {
          x.body_done = true;
          co_return request_error{};
        }
        if (status == chunked_decoder::status::trailer_too_large)
          co_return request_error::from_client(proxy_error::headers_too_large,
                                               "the head and trailers are larger than max_header_bytes");
        if (chunked_decoder::is_error(status))
          co_return bad_request(status == chunked_decoder::status::chunk_line_too_long ? "chunk-size line is too long"
                                : status == chunked_decoder::status::bad_trailer       ? "malformed trailer field"
                                                                                       : "malformed chunked body");
        break;  // need_more
      }
    } else {
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(length - x.body.size(), buffer_.size()));
      x.body.append(static_cast<const char*>(buffer_.data().data()), n);
      buffer_.consume(n);
      if (x.body.size() == length) {
        x.body_done = true;
        co_return request_error{};
      }
    }
    const auto now = clock::now();
    set_deadline(deadlines::body_read(now, x.start, body_start, received, limits));
    // Which rule set that deadline: the minimum rate is counted apart in /metrics.
    const bool rate_bound = deadlines::body_rate_bound(now, x.start, body_start, received, limits);
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(k_body_read_size), k_use);
    buffer_.commit(n);
    x.bytes_in += n;
    received += n;
    if (!ec) continue;
    if (timed_out_) {
      x.body_too_slow = rate_bound;
      co_return request_error::from_client(
          proxy_error::request_timeout,
          rate_bound ? "the request body arrived slower than client_body_min_rate_bytes_per_s" : std::string());
    }
    co_return request_error::from_client(proxy_error::client_closed, "the client went away mid-body");
  }
}

// ---- forward: the upstream exchange -------------------------------------------------------

template <class Stream>
net::awaitable<request_error> http_session<Stream>::forward(request_context& x) {
  const auto& limits = x.snapshot->limits();
  auto& up = x.upstream.emplace(worker_.upstream(), *x.snapshot->pool(*x.version), limits, x.start, *this, &x.arena);
  watched_ = &up;
  if (!up.try_connect_pooled()) {
    watch_client();
    auto e = co_await up.connect();
    stop_watching_client();
    if (e) co_return e;
  }
  x.cold_start = up.cold_start();

  // The session's string, not a new one: a busy connection reuses its capacity.
  auto& head = upstream_head_;
  head.clear();
  head.reserve(512 + x.head_size);
  forward_facts facts;
  facts.execution_id = x.id.view();
  facts.app_id = x.app->id;
  facts.org = x.app->spec.org;
  facts.app = x.app->spec.name;
  facts.version = x.version->version_text;
  facts.source = "public";
  facts.cold_start = x.cold_start;
  facts.deadline_unix_ms =
      unix_ms_now() + static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                     deadlines::answer(x.start, limits) - clock::now())
                                                     .count());
  facts.host = x.host;
  facts.client_ip = client_ip_;
  facts.proto = client_stream<Stream>::proto;
  facts.query = x.target.query;
  write_upstream_head(x.head, facts, x.body.size(), head);
  x.upstream_start = clock::now();
  request_error sent;
  if (!up.try_send_request(head, x.body, sent)) sent = co_await up.send_request(head, x.body);
  if (sent) co_return sent;
  if (auto e = co_await up.read_response_head()) co_return e;
  co_return co_await relay_response(x);
}

// While the request waits for a pod (held while one starts, or for a connect), a client
// that closes its connection leaves at once: it stops counting toward the demand that
// starts pods and frees its place in the hold queue. Bytes that arrive meanwhile (a
// pipelined request) stay where they are for the next request.
template <class Stream>
void http_session<Stream>::watch_client() {
  if (client_left()) {
    if (watched_) watched_->cancel(upstream_exchange::cancel_reason::client_gone);
    return;
  }
  watching_client_ = true;
  client_stream<Stream>::socket(stream_).async_wait(
      tcp::socket::wait_read,
      net::bind_allocator(exact_allocator<void>(), [self = this->shared_from_this()](boost::system::error_code ec) {
        if (ec || !self->watching_client_) return;
        self->watching_client_ = false;
        self->watch_client();  // left: cancels the wait for a pod; data: waits for the next event
      }));
}

template <class Stream>
void http_session<Stream>::stop_watching_client() {
  if (!watching_client_) return;
  watching_client_ = false;
  boost::system::error_code ignored;
  client_stream<Stream>::socket(stream_).cancel(ignored);
}

// The client has shut its side (FIN, or a reset): what poll(2) calls RDHUP, which Asio
// does not report. Over TLS too: a close_notify alert is data, the FIN after it is not.
template <class Stream>
bool http_session<Stream>::client_left() {
  pollfd p{client_stream<Stream>::socket(stream_).native_handle(), POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

// relay_response: the pod's head, rewritten for the client, then its body as it
// arrives, re-framed: Content-Length passed through, anything else chunked (or
// close-delimited for HTTP/1.0). Body bytes go from the relay buffer to the client
// without another copy.
template <class Stream>
net::awaitable<request_error> http_session<Stream>::relay_response(request_context& x) {
  auto& up = *x.upstream;
  const auto& res = up.response().get();
  client_framing framing;
  std::uint64_t length = 0;
  switch (up.body_framing()) {
    case upstream_exchange::framing::none:
      framing = up.response().content_length() ? client_framing::content_length : client_framing::none;
      break;
    case upstream_exchange::framing::length:
      framing = client_framing::content_length;
      length = up.content_length();
      break;
    case upstream_exchange::framing::chunked:
    case upstream_exchange::framing::until_close:
      framing = x.facts.http10 ? client_framing::close_delimited : client_framing::chunked;
      break;
  }
  if (framing == client_framing::close_delimited || worker_.draining()) x.keep_alive = false;
  x.status = res.result_int();
  auto& head = client_head_;
  head.clear();
  head.reserve(512);
  write_client_head(x.status, res.reason(), res, framing, length, x.keep_alive, x.id.view(), x.cold_start, head);

  static constexpr std::string_view k_crlf = "\r\n";
  static constexpr std::string_view k_last_chunk = "0\r\n\r\n";
  auto& out = x.relay.out;
  auto& chunk_heads = x.relay.chunk_heads;
  auto& piece = x.relay.piece;
  for (bool first = true;; first = false) {
    // The first look takes only what came with the head: a pod that streams and pauses
    // gets its head to the client at once.
    // (Not a conditional expression around co_await: GCC 12 miscompiles that.)
    request_error e;
    if (first)
      e = up.take_body(piece);
    else
      e = co_await up.read_body(piece);
    if (e) {
      x.cut_cause = closed_                                   ? "shutdown"
                    : e.kind == proxy_error::upstream_timeout ? "request_timeout"
                    : e.kind == proxy_error::client_closed    ? "client_closed"
                                                              : "pod_failed";
      co_return e;
    }
    std::size_t count = 0;
    if (!x.response_started) out[count++] = net::buffer(head);
    for (std::size_t i = 0; i < piece.count; ++i) {
      auto data = piece.data[i];
      if (framing == client_framing::chunked) {
        auto& ch = chunk_heads[i];
        auto r = std::to_chars(ch.data(), ch.data() + 16, data.size(), 16);
        *r.ptr++ = '\r';
        *r.ptr++ = '\n';
        out[count++] = net::buffer(ch.data(), static_cast<std::size_t>(r.ptr - ch.data()));
        out[count++] = net::buffer(data.data(), data.size());
        out[count++] = net::buffer(k_crlf.data(), k_crlf.size());
      } else {
        out[count++] = net::buffer(data.data(), data.size());
      }
    }
    if (piece.done && framing == client_framing::chunked) out[count++] = net::buffer(k_last_chunk);
    if (count > 0) {
      auto buffers = std::span(out.data(), count);
      // Part of a write may reach the client even if it fails: from here on, no error
      // answer may follow, only a cut.
      x.response_started = true;
      const auto now = clock::now();
      boost::system::error_code ec;
      if constexpr (!client_stream<Stream>::is_tls) x.bytes_out += write_now(stream_, buffers, ec);
      if (!ec && !buffers.empty()) {
        // The client's socket is full: the rest waits, within client_send_timeout_ms.
        set_deadline(deadlines::send(now, x.start, x.snapshot->limits()));
        auto [write_ec, n] = co_await net::async_write(stream_, buffers, k_use);
        ec = write_ec;
        x.bytes_out += n;
      }
      if (ec) {
        // Not answered either way: the proxy closes a client that stopped reading as if
        // it had gone, and the pod's connection with it (never pooled half-read).
        const bool send_timeout = timed_out_ && deadlines::send_timeout_bound(now, x.start, x.snapshot->limits());
        x.cut_cause = send_timeout ? "client_send_timeout"
                      : timed_out_ ? "request_timeout"
                      : closed_    ? "shutdown"
                                   : "client_closed";
        if (send_timeout) worker_stats::bump(worker_.stats().send_timeouts);
        reset_on_close_ = timed_out_;
        co_return request_error::from_client(
            proxy_error::client_closed, send_timeout ? "the client took none of the answer for client_send_timeout_ms"
                                        : timed_out_ ? "the client was still taking the answer at request_timeout_ms"
                                                     : "the client stopped taking the answer");
      }
      // Back to the answer's deadline for the next read from the pod (a later deadline
      // costs no timer operation).
      set_deadline(deadlines::answer(x.start, x.snapshot->limits()));
    }
    if (piece.done) break;
  }
  if (!closed_) up.finish();
  co_return request_error{};
}

// ---- answers from the proxy itself --------------------------------------------------------

template <class Stream>
net::awaitable<void> http_session<Stream>::reply_error(request_context& x) {
  const auto& e = x.error;
  auto row = row_of(e.kind);
  x.status = row.status;
  // A body the proxy did not read would be taken for the next request: close instead.
  bool body_pending = !x.head_checked || !x.body_done;
  if (closes_connection(e.kind) || body_pending || worker_.draining()) x.keep_alive = false;
  nlohmann::ordered_json body = {
      {"error", {{"code", row.code}, {"message", e.public_message()}, {"execution_id", x.id.view()}}}};
  auto text = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  std::string head;
  head.reserve(256);
  head.append("HTTP/1.1 ").append(std::to_string(row.status)).append(" ").append(row.reason).append("\r\n");
  head.append("Content-Type: application/json\r\nContent-Length: ").append(std::to_string(text.size()));
  head.append("\r\nx-ignite-error: proxy\r\nx-ignite-execution-id: ").append(x.id.view()).append("\r\n");
  if (e.kind == proxy_error::method_not_allowed) head.append("Allow: POST\r\n");
  if (e.kind == proxy_error::overloaded) head.append("Retry-After: 1\r\n");
  if (!x.keep_alive) head.append("Connection: close\r\n");
  head.append("\r\n");
  set_deadline(deadlines::error_write(clock::now()));
  std::array<net::const_buffer, 2> out{net::buffer(head), net::buffer(text)};
  auto [ec, n] = co_await net::async_write(stream_, out, k_use);
  x.bytes_out += n;
  if (ec) x.keep_alive = false;
}

// ---- finish -------------------------------------------------------------------------------

template <class Stream>
void http_session<Stream>::finish(request_context& x) {
  if (x.error) {
    // A body under the minimum rate is counted by its limit, not with the other 408s.
    auto& stats = worker_.stats();
    worker_stats::bump(x.body_too_slow ? stats.body_min_rate_timeouts
                                       : stats.errors[static_cast<std::size_t>(x.error.kind)]);
    if (!x.status) x.status = row_of(x.error.kind).status;
  }
  worker_stats::bump(worker_.stats().requests);
  const auto now = clock::now();
  request_record r;
  r.execution_id = x.id.view();
  if (x.app) r.app_id = x.app->id;
  if (x.version) r.version = x.version->version_text;
  r.status = x.status;
  r.duration = std::chrono::duration_cast<std::chrono::microseconds>(now - x.start);
  if (x.upstream_start != clock::time_point{})
    r.upstream_duration = std::chrono::duration_cast<std::chrono::microseconds>(now - x.upstream_start);
  // Counted here, once per request, into this worker's own slice: labelled by app only
  // for a configured app, never by what a client wrote.
  if (x.version)
    x.snapshot->counters(*x.version)->count(worker_.index(), x.status, r.duration, r.upstream_duration);
  else
    worker_stats::bump(worker_.stats().unmatched[version_counters::code_slot(x.status)]);
  if (x.head_checked) {
    r.method = x.head.method;
    if (auto tp = x.head.find("traceparent")) r.trace_id = trace_id_of(*tp);
  }
  r.bytes_in = x.bytes_in;
  r.bytes_out = x.bytes_out;
  r.client = client_ip_;
  if constexpr (client_stream<Stream>::is_tls) r.tls_version = client_stream<Stream>::tls_version(stream_);
  r.error = x.error.kind;
  r.source = x.error.source;
  r.error_detail = x.error.detail.empty() ? std::string_view(x.error.message) : std::string_view(x.error.detail);
  r.cut = x.error && x.response_started;
  if (r.cut) r.cut_cause = x.cut_cause.empty() ? std::string_view("proxy_error") : x.cut_cause;
  r.cold_start = x.cold_start;
  worker_.log().request(r);
}

template class http_session<tcp_socket>;
template class http_session<tls_stream>;

}  // namespace ignite::proxy
