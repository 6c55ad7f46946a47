#include "proxy/http_session.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <memory_resource>
#include <optional>
#include <span>
#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <nlohmann/json.hpp>

#include "proxy/chunked_decoder.hpp"
#include "proxy/exact_allocator.hpp"
#include "proxy/header_rewriter.hpp"
#include "proxy/held_request.hpp"
#include "proxy/request_head_check.hpp"
#include "proxy/route_snapshot.hpp"
#include "proxy/upstream_pool.hpp"
#include "proxy/worker.hpp"
#include "routing/host.hpp"
#include "routing/ulid.hpp"

namespace ignite::proxy {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto k_use = net::as_tuple(net::use_awaitable);
constexpr std::size_t k_head_read_size = 4096;
constexpr std::size_t k_body_read_size = 16384;
// A body is reserved up to this at once and grows as bytes arrive: a Content-Length
// alone must not make the proxy allocate megabytes for a client that sends nothing.
constexpr std::uint64_t k_body_reserve = 64 * 1024;
// A chunk-size line with its extensions; nginx and Envoy bound it to a few KiB too.
constexpr std::size_t k_max_chunk_line = 4096;
constexpr std::size_t k_max_response_head_bytes = 64 * 1024;
// How long a client gets to take an error answer before the connection is dropped.
constexpr auto k_error_write_timeout = 5s;

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

}  // namespace

// One request and its answer. Lives in serve()'s coroutine frame. The header fields of
// the request and of the pod's response are allocated from `arena`, which starts in the
// frame itself: a typical exchange then needs no heap allocation for its headers.
struct http_session::exchange {
  static constexpr std::size_t k_arena_bytes = 2048;
  alignas(std::max_align_t) std::byte arena_bytes[k_arena_bytes];
  std::pmr::monotonic_buffer_resource arena{arena_bytes, k_arena_bytes};
  clock::time_point start = clock::now();
  std::shared_ptr<const route_snapshot> snapshot;  // the routes this request started with
  routing::ulid id;
  std::size_t head_size = 0;
  head_facts facts;
  std::optional<http::request_parser<http::empty_body, arena_allocator>> parser;
  std::optional<http::response_parser<http::empty_body, arena_allocator>> response;
  std::string body;  // the request body, de-chunked
  bool body_done = false;
  bool upstream_phase = false;    // the request has started on its way to a pod
  bool response_started = false;  // bytes of the answer went to the client
  routing::request_target target;
  std::string_view host;
  const routing::app_route* app = nullptr;
  const routing::version_route* version = nullptr;
  coldstart::version_pool* pool = nullptr;  // with pod: counted in flight there while set
  coldstart::pod_id pod = 0;
  std::unique_ptr<upstream_connection> upstream;
  std::string upstream_address;
  std::string message;  // the error body's message, when more specific than the default
  unsigned status = 0;
  proxy_error error = proxy_error::none;
  bool keep_alive = false;
  bool cold_start = false;
  bool abandoned = false;  // the client went away; nothing more is written

  ~exchange() {
    if (pod) pool->release(pod);
  }
};

std::size_t http_session::exchange_size() noexcept { return sizeof(exchange); }

http_session::http_session(worker& owner, tcp_socket socket)
    : worker_(owner), client_(std::move(socket)), timer_(client_.get_executor()) {
  boost::system::error_code ec;
  client_.set_option(tcp::no_delay(true), ec);
  auto peer = client_.remote_endpoint(ec);
  if (!ec) client_ip_ = peer.address().to_string();
  worker_.attach(*this);
}

http_session::~http_session() {
  // Count first: detach() may report the worker drained, and the server then reads the
  // count from another thread.
  worker_.shared().connections.fetch_sub(1, std::memory_order_acq_rel);
  worker_.detach(*this);
}

void http_session::start() { wait_for_request(); }

void http_session::on_drain() {
  if (idle_) {
    boost::system::error_code ignored;
    client_.cancel(ignored);
  }
}

void http_session::force_close() {
  closed_ = true;
  boost::system::error_code ignored;
  client_.close(ignored);
  if (watched_upstream_) watched_upstream_->close(ignored);
  if (watched_hold_) watched_hold_->wake().cancel();
  timer_.cancel();
}

// ---- timeouts ---------------------------------------------------------------------

void http_session::set_deadline(clock::time_point deadline) {
  deadline_ = deadline;
  timed_out_ = false;
  // A later deadline needs no timer operation: the armed wait fires first and re-arms.
  if (watch_armed_ && deadline >= timer_.expiry()) return;
  watch_armed_ = true;
  timer_.expires_at(deadline);
  watch();
}

void http_session::watch() {
  timer_.async_wait(
      net::bind_allocator(exact_allocator<void>(),
                          [self = shared_from_this(), generation = ++watch_generation_](boost::system::error_code ec) {
                            if (!ec) self->on_watch(generation);
                          }));
}

void http_session::on_watch(unsigned generation) {
  if (generation != watch_generation_ || closed_) return;
  if (clock::now() < deadline_) {
    timer_.expires_at(deadline_);
    watch();
    return;
  }
  watch_armed_ = false;
  timed_out_ = true;
  // Cancel, not close: the coroutine may still owe the client a 408 or 504.
  boost::system::error_code ignored;
  client_.cancel(ignored);
  if (watched_upstream_) watched_upstream_->cancel(ignored);
  if (watched_hold_) watched_hold_->wake().cancel();
}

// ---- the connection -----------------------------------------------------------------

// Between requests a connection holds no buffer and no coroutine frame, only its
// socket, its timer and one small wait operation: a public ingress keeps many idle
// keep-alive connections, and a parked coroutine costs about 2 KiB of frames. So the
// wait for the next request is a plain completion handler, and each wake-up spawns the
// coroutine that serves the requests that arrived.
void http_session::wait_for_request() {
  idle_ = true;
  const auto& limits = worker_.snapshot()->limits();
  set_deadline(clock::now() + (served_any_ ? limits.client_idle_timeout : limits.client_header_timeout));
  buffer_.shrink_to_fit();
  client_.async_wait(
      tcp::socket::wait_read,
      net::bind_allocator(exact_allocator<void>(), [self = shared_from_this()](boost::system::error_code ec) {
        self->idle_ = false;
        if (ec || self->closed_ || self->worker_.draining()) return self->close();
        net::co_spawn(self->client_.get_executor(), self->serve_requests(self), net::detached);
      }));
}

net::awaitable<void> http_session::serve_requests(std::shared_ptr<http_session> self) {
  bool keep = true;
  do {
    keep = co_await serve() && !worker_.draining();
    served_any_ = true;
  } while (keep && buffer_.size() > 0);  // pipelined requests are served before parking
  if (keep)
    wait_for_request();
  else
    close();
}

void http_session::close() {
  closed_ = true;
  boost::system::error_code ignored;
  client_.shutdown(tcp::socket::shutdown_send, ignored);
  client_.close(ignored);
  timer_.cancel();
}

// One request: returns whether the connection may carry another.
net::awaitable<bool> http_session::serve() {
  // The exchange lives in a recycled block, not in this frame: Asio reuses coroutine
  // frames only up to about 1 KiB, and this one would be larger.
  auto& blocks = worker_.exchange_blocks();
  auto deleter = [&blocks](exchange* p) {
    p->~exchange();
    blocks.give(p);
  };
  std::unique_ptr<exchange, decltype(deleter)> owned(new (blocks.take()) exchange, deleter);
  exchange& x = *owned;
  x.snapshot = worker_.snapshot();
  x.id = worker_.ids().next(unix_ms_now());
  worker_stats::bump(worker_.stats().requests);

  proxy_error e = proxy_error::none;
  // The last line of defence: nothing a client or a pod sends may end the process. The
  // phases are written not to throw (the parsers only see bounded, pre-checked bytes);
  // should something throw anyway, only this request fails, with an answer if none has
  // started, and the connection closes.
  const char* fault = nullptr;
  std::string fault_what;
  try {
    e = co_await read_head(x);
    if (x.abandoned) co_return false;
    if (e == proxy_error::none) e = co_await read_body(x);
    if (e == proxy_error::none && !x.abandoned) e = co_await forward(x);
  } catch (const std::length_error& ex) {
    fault = "length_error";
    fault_what = ex.what();
  } catch (const std::exception& ex) {
    fault = "exception";
    fault_what = ex.what();
  } catch (...) {
    fault = "unknown";
  }
  if (fault) {
    worker_stats::bump(worker_.stats().faults);
    std::string fields = "\"execution_id\":\"" + std::string(x.id.view()) + "\",\"fault\":\"" + fault +
                         "\",\"upstream\":" + (x.upstream_phase ? "true" : "false") + ",\"what\":\"";
    access_log::append_escaped(fields, fault_what);
    access_log::event("session_fault", fields + "\"");
    watched_upstream_ = nullptr;
    watched_hold_ = nullptr;
    x.upstream.reset();
    x.keep_alive = false;
    if (x.response_started)
      x.abandoned = true;
    else if (x.upstream_phase)
      e = proxy_error::upstream_error;
    else
      e = std::string_view(fault) == "length_error" ? proxy_error::headers_too_large : proxy_error::bad_request;
  }
  if (x.abandoned) {
    if (x.app) finish(x);  // a request that got as far as routing is logged
    co_return false;
  }
  if (e != proxy_error::none) co_await reply_error(x, e, {});
  finish(x);
  co_return x.keep_alive && !x.abandoned;
}

// ---- request ------------------------------------------------------------------------

net::awaitable<proxy_error> http_session::read_head(exchange& x) {
  const auto& limits = x.snapshot->limits();
  set_deadline(x.start + limits.client_header_timeout);
  std::size_t scanned = 0;
  for (;;) {
    if (auto end = find_head_end(view(buffer_), scanned)) {
      x.head_size = end;
      break;
    }
    if (buffer_.size() >= limits.max_header_bytes) co_return proxy_error::headers_too_large;
    auto want = std::min(k_head_read_size, limits.max_header_bytes - buffer_.size());
    auto [ec, n] = co_await client_.async_read_some(buffer_.prepare(want), k_use);
    if (ec) {
      // Bytes arrived but the head did not complete in time: 408. A client that closes
      // (or never sent anything) is not answered.
      if (timed_out_ && buffer_.size() > 0) co_return proxy_error::request_timeout;
      x.abandoned = true;
      co_return proxy_error::none;
    }
    buffer_.commit(n);
  }
  if (x.head_size > limits.max_header_bytes) co_return proxy_error::headers_too_large;

  x.facts = check_request_head(view(buffer_).substr(0, x.head_size));
  if (x.facts.error != proxy_error::none) co_return x.facts.error;

  auto& parser =
      x.parser.emplace(std::piecewise_construct, std::make_tuple(), std::make_tuple(arena_allocator(&x.arena)));
  parser.eager(false);
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  // The body limit is applied after routing: an unknown host or path is a 404 whatever
  // the body's size.
  parser.body_limit(boost::none);
  boost::system::error_code ec;
  auto used = parser.put(net::buffer(buffer_.data().data(), x.head_size), ec);
  if (ec == http::error::header_limit) co_return proxy_error::headers_too_large;
  if (ec || !parser.is_header_done()) co_return proxy_error::bad_request;
  buffer_.consume(used);

  auto& req = parser.get();
  x.keep_alive = !x.facts.http10 && req.keep_alive();
  auto target = routing::parse_target(req.target());
  if (!target) co_return proxy_error::bad_request;
  x.target = *target;
  if (target->absolute) {
    x.host = target->authority;
  } else {
    if (x.facts.host_count == 0) co_return proxy_error::bad_request;
    x.host = req[http::field::host];
  }
  auto label = routing::label_of_host(x.host, x.snapshot->table().domain());
  x.app = label ? x.snapshot->table().find(label->view()) : nullptr;
  if (!x.app) co_return proxy_error::app_not_found;
  x.version = x.app->active;
  if (req.method() != http::verb::post) co_return proxy_error::method_not_allowed;
  if (target->path != "/") co_return proxy_error::path_not_found;
  if (parser.content_length() && *parser.content_length() > limits.max_body_bytes)
    co_return proxy_error::payload_too_large;
  x.body_done = !x.facts.chunked && parser.content_length().value_or(0) == 0;
  co_return proxy_error::none;
}

net::awaitable<proxy_error> http_session::read_body(exchange& x) {
  if (x.body_done) co_return proxy_error::none;
  const auto& limits = x.snapshot->limits();
  // curl waits a second for this before sending a body over 1 KiB; the pod never sees
  // the Expect header, the proxy answers it once the head has passed every check.
  if (!x.facts.http10 && beast::iequals(x.parser->get()[http::field::expect], "100-continue")) {
    set_deadline(clock::now() + k_error_write_timeout);
    static constexpr std::string_view k_continue = "HTTP/1.1 100 Continue\r\n\r\n";
    auto [ec, n] = co_await net::async_write(client_, net::buffer(k_continue), k_use);
    if (ec) {
      x.abandoned = true;
      co_return proxy_error::none;
    }
  }
  // The body limit counts what the client sends, chunk framing included; trailers
  // count against the head's limits instead, and are then dropped.
  std::optional<chunked_decoder> chunks;
  std::uint64_t length = 0;
  if (x.facts.chunked) {
    chunks.emplace(chunked_decoder::limits{
        .max_chunk_line = k_max_chunk_line,
        .max_trailer_bytes = limits.max_header_bytes > x.head_size ? limits.max_header_bytes - x.head_size : 0,
        .max_trailer_fields = k_max_header_fields - std::min<std::size_t>(k_max_header_fields, x.facts.fields)});
  } else {
    length = *x.parser->content_length();
    x.body.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(length, k_body_reserve)));
  }
  const auto request_deadline = x.start + limits.request_timeout;
  for (;;) {
    // Take what is buffered.
    if (chunks) {
      for (;;) {
        std::size_t used = 0;
        std::string_view data;
        auto status = chunks->next(view(buffer_), used, data);
        buffer_.consume(used);
        if (chunks->wire_bytes() > limits.max_body_bytes) co_return proxy_error::payload_too_large;
        if (status == chunked_decoder::status::data) {
          x.body.append(data);
          continue;
        }
        if (status == chunked_decoder::status::done) {
          x.body_done = true;
          co_return proxy_error::none;
        }
        if (status == chunked_decoder::status::trailer_too_large) co_return proxy_error::headers_too_large;
        if (chunked_decoder::is_error(status)) {
          x.message = status == chunked_decoder::status::chunk_line_too_long ? "chunk-size line is too long"
                      : status == chunked_decoder::status::bad_trailer       ? "malformed trailer field"
                                                                             : "malformed chunked body";
          co_return proxy_error::bad_request;
        }
        break;  // need_more
      }
    } else {
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(length - x.body.size(), buffer_.size()));
      x.body.append(static_cast<const char*>(buffer_.data().data()), n);
      buffer_.consume(n);
      if (x.body.size() == length) {
        x.body_done = true;
        co_return proxy_error::none;
      }
    }
    // The body must keep moving: each read gets client_header_timeout, the whole
    // request at most request_timeout.
    set_deadline(std::min(clock::now() + limits.client_header_timeout, request_deadline));
    auto [ec, n] = co_await client_.async_read_some(buffer_.prepare(k_body_read_size), k_use);
    if (!ec) {
      buffer_.commit(n);
      continue;
    }
    if (timed_out_) co_return proxy_error::request_timeout;
    x.abandoned = true;  // the client went away mid-body
    co_return proxy_error::none;
  }
}

// ---- upstream -----------------------------------------------------------------------

// A pod of the version with a free slot: at once if one is ready, else by waiting in
// the version's hold queue while the pool starts one (bounded by cold_start_timeout).
net::awaitable<proxy_error> http_session::acquire_pod(exchange& x, coldstart::version_pool& pool, coldstart::grant& g) {
  using coldstart::version_pool;
  const auto& limits = x.snapshot->limits();
  if (pool.try_acquire(g) == version_pool::acquire_result::granted) co_return proxy_error::none;
  auto held = std::make_shared<held_request>(client_.get_executor());
  coldstart::refusal refused;
  switch (pool.hold(held, g, refused)) {
    case version_pool::acquire_result::granted:
      co_return proxy_error::none;
    case version_pool::acquire_result::rejected:
      x.message = std::move(refused.message);
      co_return refused.why == coldstart::failure::overloaded ? proxy_error::overloaded : proxy_error::pod_start_failed;
    case version_pool::acquire_result::must_hold:
      break;
  }
  watched_hold_ = held.get();
  set_deadline(x.start + limits.cold_start_timeout);
  co_await held->wake().async_wait(k_use);
  if (!held->answered() && pool.cancel(held.get())) {
    // Timed out (or closing) while still queued: the pool will never answer.
    watched_hold_ = nullptr;
    x.message = pool.timeout_message(limits.cold_start_timeout);
    co_return closed_ ? proxy_error::upstream_error : proxy_error::cold_start_timeout;
  }
  // The answer is on its way to this executor (or here already): take it.
  if (!held->answered()) co_await held->wake().async_wait(k_use);
  watched_hold_ = nullptr;
  if (!held->grant()) {
    x.message = held->message();
    co_return proxy_error::pod_start_failed;
  }
  g = *held->grant();
  if (closed_ || timed_out_) {
    pool.release(g.pod);
    x.message = pool.timeout_message(limits.cold_start_timeout);
    co_return closed_ ? proxy_error::upstream_error : proxy_error::cold_start_timeout;
  }
  co_return proxy_error::none;
}

net::awaitable<proxy_error> http_session::connect_upstream(exchange& x, coldstart::version_pool& pool) {
  const auto& limits = x.snapshot->limits();
  const auto give_up = x.start + limits.cold_start_timeout;
  for (;;) {
    coldstart::grant g;
    if (auto e = co_await acquire_pod(x, pool, g); e != proxy_error::none) co_return e;
    x.pool = &pool;
    x.pod = g.pod;
    x.cold_start = x.cold_start || g.cold_start;
    auto conn = worker_.upstream().take(g.address);
    if (conn) {
      worker_stats::bump(worker_.stats().upstream_reuses);
    } else {
      conn = worker_.upstream().make();
      boost::system::error_code ec;
      auto colon = g.address.rfind(':');
      tcp::endpoint address(net::ip::make_address(std::string_view(g.address).substr(0, colon), ec),
                            static_cast<unsigned short>(std::stoul(g.address.substr(colon + 1))));
      if (!ec) conn->socket.open(address.protocol(), ec);
      if (!ec) {
        watched_upstream_ = &conn->socket;
        set_deadline(std::min(clock::now() + limits.upstream_connect_timeout, give_up));
        std::tie(ec) = co_await conn->socket.async_connect(address, k_use);
        watched_upstream_ = nullptr;
        if (closed_) co_return proxy_error::upstream_error;
      }
      if (ec) {
        // Nothing of the request was written, so it cannot run twice: the pod goes
        // back to being probed and the request asks again (held if need be).
        x.pod = 0;
        pool.unreachable(g.pod);
        if (clock::now() >= give_up) {
          x.message = pool.timeout_message(limits.cold_start_timeout);
          co_return proxy_error::cold_start_timeout;
        }
        continue;
      }
      conn->socket.set_option(tcp::no_delay(true), ec);
      worker_stats::bump(worker_.stats().upstream_connects);
    }
    x.upstream_address = std::move(g.address);
    x.upstream = std::move(conn);
    co_return proxy_error::none;
  }
}

net::awaitable<proxy_error> http_session::forward(exchange& x) {
  const auto& limits = x.snapshot->limits();
  const auto& pool = x.snapshot->pool(*x.version);
  x.upstream_phase = true;
  if (auto e = co_await connect_upstream(x, *pool); e != proxy_error::none) co_return e;
  auto& conn = *x.upstream;
  auto& req = x.parser->get();

  // send_request
  watched_upstream_ = &conn.socket;
  set_deadline(x.start + limits.request_timeout);
  std::string head;
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
                                                     x.start + limits.request_timeout - clock::now())
                                                     .count());
  facts.host = x.host;
  facts.client_ip = client_ip_;
  facts.proto = "http";
  facts.query = x.target.query;
  write_upstream_head(req, facts, x.body.size(), head);
  {
    std::array<net::const_buffer, 2> out{net::buffer(head), net::buffer(x.body)};
    auto [ec, n] = co_await net::async_write(conn.socket, out, k_use);
    if (ec) {
      watched_upstream_ = nullptr;
      x.upstream.reset();
      co_return timed_out_ ? proxy_error::upstream_timeout : proxy_error::upstream_error;
    }
  }

  // read_response_head: interim 1xx answers are skipped, the first final one is relayed.
  for (;;) {
    auto e = co_await read_response_head(x);
    if (e != proxy_error::none) {
      watched_upstream_ = nullptr;
      x.upstream.reset();
      co_return e;
    }
    auto status = x.response->get().result_int();
    if (status == 101) {
      watched_upstream_ = nullptr;
      x.upstream.reset();
      x.message = "the pod switched protocols";
      co_return proxy_error::upstream_error;
    }
    if (status >= 200) break;
  }
  co_return co_await relay_response(x, head);
}

// The pod's head, bounded by k_max_response_head_bytes, read as raw bytes and then
// handed to Beast's parser whole: Beast never reads from the pod itself, so nothing a
// pod sends reaches a code path that could throw.
net::awaitable<proxy_error> http_session::read_response_head(exchange& x) {
  auto& conn = *x.upstream;
  std::size_t scanned = 0;
  std::size_t head_size = 0;
  for (;;) {
    if ((head_size = find_head_end(view(conn.buffer), scanned))) break;
    if (conn.buffer.size() >= k_max_response_head_bytes) {
      x.message = "the pod's response head is larger than 64 KiB";
      co_return proxy_error::upstream_error;
    }
    auto want = std::min(k_head_read_size, k_max_response_head_bytes - conn.buffer.size());
    auto [ec, n] = co_await conn.socket.async_read_some(conn.buffer.prepare(want), k_use);
    if (ec) co_return timed_out_ ? proxy_error::upstream_timeout : proxy_error::upstream_error;
    conn.buffer.commit(n);
  }
  if (head_size > k_max_response_head_bytes) {
    x.message = "the pod's response head is larger than 64 KiB";
    co_return proxy_error::upstream_error;
  }
  auto& p = x.response.emplace(std::piecewise_construct, std::make_tuple(), std::make_tuple(arena_allocator(&x.arena)));
  p.eager(false);
  p.header_limit(static_cast<std::uint32_t>(k_max_response_head_bytes));
  boost::system::error_code ec;
  auto used = p.put(net::buffer(conn.buffer.data().data(), head_size), ec);
  if (ec || !p.is_header_done()) {
    x.message = "the pod sent an invalid response head";
    co_return proxy_error::upstream_error;
  }
  conn.buffer.consume(used);
  co_return proxy_error::none;
}

// Relays the pod's body as it arrives through the relay buffer, de-chunking a chunked
// answer with the same bounds as requests and re-framing it for the client. Data goes
// from the relay buffer to the client without another copy.
net::awaitable<proxy_error> http_session::relay_response(exchange& x, std::string& head) {
  auto& conn = *x.upstream;
  auto& p = *x.response;
  auto& res = p.get();
  enum class pod_framing { none, length, chunked, until_close } from;
  client_framing framing;
  std::uint64_t length = 0;
  if (p.is_done()) {
    from = pod_framing::none;
    framing = p.content_length() ? client_framing::content_length : client_framing::none;
  } else if (p.chunked()) {
    from = pod_framing::chunked;
    framing = x.facts.http10 ? client_framing::close_delimited : client_framing::chunked;
  } else if (p.content_length()) {
    from = pod_framing::length;
    framing = client_framing::content_length;
    length = *p.content_length();
  } else {
    from = pod_framing::until_close;
    framing = x.facts.http10 ? client_framing::close_delimited : client_framing::chunked;
  }
  if (framing == client_framing::close_delimited || worker_.draining()) x.keep_alive = false;
  x.status = res.result_int();
  head.clear();
  write_client_head(x.status, res.reason(), res, framing, length, x.keep_alive, x.id.view(), x.cold_start, head);

  // The body bytes that came with the head move to the front of the relay buffer.
  auto relay = worker_.upstream().borrow_relay_buffer();
  char* const buf = relay.get();
  constexpr std::size_t cap = upstream_limits::k_relay_buffer_bytes;
  std::size_t begin = 0;
  static_assert(k_head_read_size <= upstream_limits::k_relay_buffer_bytes,
                "what one head read brings beyond the head fits the relay buffer");
  std::size_t end = conn.buffer.size();
  std::memcpy(buf, conn.buffer.data().data(), end);
  conn.buffer.consume(end);

  std::optional<chunked_decoder> chunks;
  if (from == pod_framing::chunked)
    chunks.emplace(chunked_decoder::limits{.max_chunk_line = k_max_chunk_line,
                                           .max_trailer_bytes = upstream_limits::k_relay_buffer_bytes,
                                           .max_trailer_fields = k_max_header_fields});
  std::uint64_t remaining = length;
  bool head_sent = false;
  bool done = from == pod_framing::none;
  auto cut = [&](proxy_error e, std::string_view why) {
    // Once the status is out, all that is left is to cut the client off so it sees a
    // truncated body rather than a complete-looking one.
    watched_upstream_ = nullptr;
    x.upstream.reset();
    x.message = why;
    if (!head_sent) return e;
    x.error = e;
    x.abandoned = true;
    return proxy_error::none;
  };

  static constexpr std::string_view k_crlf = "\r\n";
  static constexpr std::string_view k_last_chunk = "0\r\n\r\n";
  constexpr std::size_t k_max_spans = 16;
  std::array<net::const_buffer, 2 + 3 * k_max_spans> out;
  std::array<std::array<char, 18>, k_max_spans> chunk_heads;
  for (;;) {
    // Decode what is buffered into spans of body data, each re-framed for the client.
    std::size_t spans = 0;
    std::size_t count = 0;
    out[count++] = net::buffer(head.data(), head_sent ? 0 : head.size());
    auto add = [&](std::string_view data) {
      if (framing == client_framing::chunked) {
        auto& ch = chunk_heads[spans];
        auto r = std::to_chars(ch.data(), ch.data() + 16, data.size(), 16);
        *r.ptr++ = '\r';
        *r.ptr++ = '\n';
        out[count++] = net::buffer(ch.data(), static_cast<std::size_t>(r.ptr - ch.data()));
        out[count++] = net::buffer(data.data(), data.size());
        out[count++] = net::buffer(k_crlf.data(), k_crlf.size());
      } else {
        out[count++] = net::buffer(data.data(), data.size());
      }
      ++spans;
    };
    while (!done && spans < k_max_spans && begin < end) {
      std::string_view avail(buf + begin, end - begin);
      if (from == pod_framing::chunked) {
        std::size_t used = 0;
        std::string_view data;
        auto status = chunks->next(avail, used, data);
        begin += used;
        if (status == chunked_decoder::status::data) {
          add(data);
          continue;
        }
        if (status == chunked_decoder::status::done) {
          done = true;
          break;
        }
        if (chunked_decoder::is_error(status))
          co_return cut(proxy_error::upstream_error, status == chunked_decoder::status::trailer_too_large
                                                         ? "the pod's trailer section is too large"
                                                     : status == chunked_decoder::status::chunk_line_too_long
                                                         ? "the pod's chunk-size line is too long"
                                                         : "the pod sent a malformed chunked body");
        break;  // need_more
      }
      auto n = from == pod_framing::length ? static_cast<std::size_t>(std::min<std::uint64_t>(remaining, avail.size()))
                                           : avail.size();
      add(avail.substr(0, n));
      begin += n;
      if (from == pod_framing::length) {
        remaining -= n;
        done = remaining == 0;
      }
    }
    if (done && framing == client_framing::chunked)
      out[count++] = net::buffer(k_last_chunk.data(), k_last_chunk.size());
    // A pod that has sent only its head may be streaming and pause: the client gets
    // the head at once rather than with the first body bytes.
    if (net::buffer_size(std::span(out.data(), count)) > 0) {
      auto [ec, n] = co_await net::async_write(client_, std::span(out.data(), count), k_use);
      if (ec) {
        watched_upstream_ = nullptr;
        x.upstream.reset();  // the rest of the response is never read: not reusable
        x.abandoned = true;
        co_return proxy_error::none;
      }
      head_sent = x.response_started = true;
    }
    if (done) break;
    if (spans == k_max_spans) continue;  // more is buffered
    // Everything decodable was sent; keep a partial chunk-size line, read more.
    if (begin == end) begin = end = 0;
    if (begin > 0) {
      std::memmove(buf, buf + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    // Only a trailer line can fill the buffer without completing (chunk-size lines are
    // bounded far below it).
    if (end == cap) co_return cut(proxy_error::upstream_error, "the pod's trailer section is too large");
    auto [ec, n] = co_await conn.socket.async_read_some(net::buffer(buf + end, cap - end), k_use);
    if (ec == net::error::eof && from == pod_framing::until_close) {
      done = true;
      if (framing == client_framing::chunked) {
        auto [wec, wn] = co_await net::async_write(client_, net::buffer(k_last_chunk), k_use);
        if (wec) x.abandoned = true;
      }
      x.upstream.reset();
      break;
    }
    if (ec)
      co_return cut(timed_out_ ? proxy_error::upstream_timeout : proxy_error::upstream_error,
                    timed_out_ ? "the pod did not finish its answer within request_timeout_ms"
                               : "the pod closed the connection before its answer was complete");
    end += n;
  }
  watched_upstream_ = nullptr;
  // Bytes after a complete answer mean the stream is out of step: never reused.
  if (x.upstream && p.keep_alive() && !closed_ && begin == end) {
    x.upstream->reused = false;
    worker_.upstream().give_back(x.upstream_address, std::move(x.upstream));
  } else {
    x.upstream.reset();
  }
  co_return proxy_error::none;
}

// ---- answers from the proxy itself ---------------------------------------------------

net::awaitable<void> http_session::reply_error(exchange& x, proxy_error e, std::string_view why) {
  auto row = row_of(e);
  x.error = e;
  x.status = row.status;
  worker_stats::bump(worker_.stats().errors[static_cast<std::size_t>(e)]);
  // A body the proxy did not read would be taken for the next request: close instead.
  bool body_pending = !x.parser || !x.body_done;
  if (closes_connection(e) || body_pending || worker_.draining()) x.keep_alive = false;
  if (why.empty()) why = x.message;
  if (why.empty()) {
    switch (e) {
      case proxy_error::bad_request:
        why = x.facts.error == proxy_error::bad_request ? x.facts.why : "malformed request";
        break;
      case proxy_error::app_not_found:
        why = "no app is served at this host";
        break;
      case proxy_error::path_not_found:
        why = "apps answer POST / only";
        break;
      case proxy_error::method_not_allowed:
        why = "apps answer POST / only";
        break;
      case proxy_error::request_timeout:
        why = "the client was too slow sending the request";
        break;
      case proxy_error::payload_too_large:
        why = "request body is larger than max_body_bytes";
        break;
      case proxy_error::headers_too_large:
        why = x.facts.error == proxy_error::headers_too_large ? x.facts.why
                                                              : "request head is larger than max_header_bytes";
        break;
      case proxy_error::upstream_error:
        why = "the pod closed the connection or sent an invalid response";
        break;
      case proxy_error::pod_start_failed:
        why = "this version has no pod that can be started";
        break;
      case proxy_error::cold_start_timeout:
        why = "no pod listened on $PORT within cold_start_timeout_ms";
        break;
      case proxy_error::upstream_timeout:
        why = "the pod did not answer within request_timeout_ms";
        break;
      default:
        why = row.code;
        break;
    }
  }
  nlohmann::ordered_json body = {{"error", {{"code", row.code}, {"message", why}, {"execution_id", x.id.view()}}}};
  auto text = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  std::string head;
  head.reserve(256);
  head.append("HTTP/1.1 ").append(std::to_string(row.status)).append(" ").append(row.reason).append("\r\n");
  head.append("Content-Type: application/json\r\nContent-Length: ").append(std::to_string(text.size()));
  head.append("\r\nx-ignite-error: proxy\r\nx-ignite-execution-id: ").append(x.id.view()).append("\r\n");
  if (e == proxy_error::method_not_allowed) head.append("Allow: POST\r\n");
  if (e == proxy_error::overloaded) head.append("Retry-After: 1\r\n");
  if (!x.keep_alive) head.append("Connection: close\r\n");
  head.append("\r\n");
  set_deadline(clock::now() + k_error_write_timeout);
  std::array<net::const_buffer, 2> out{net::buffer(head), net::buffer(text)};
  auto [ec, n] = co_await net::async_write(client_, out, k_use);
  if (ec) x.abandoned = true;
}

void http_session::finish(exchange& x) {
  request_record r;
  r.execution_id = x.id.view();
  if (x.app) {
    r.app_id = x.app->id;
    r.version = x.version->version_text;
  }
  r.status = x.status;
  r.duration = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - x.start);
  r.error = x.error;
  r.cold_start = x.cold_start;
  worker_.log().request(r);
}

}  // namespace ignite::proxy
