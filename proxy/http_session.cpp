#include "proxy/http_session.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <memory_resource>
#include <optional>
#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

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
constexpr std::uint32_t k_max_response_head_bytes = 64 * 1024;
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

// Errors that mean the peer went away, not that it misbehaved: closed quietly.
bool is_disconnect(const boost::system::error_code& ec) {
  return ec == net::error::eof || ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == http::error::end_of_stream || ec == http::error::partial_message;
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
  std::optional<http::request_parser<http::string_body, arena_allocator>> parser;
  std::optional<http::response_parser<http::buffer_body, arena_allocator>> response;
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

  proxy_error e = co_await read_head(x);
  if (x.abandoned) co_return false;
  if (e == proxy_error::none) e = co_await read_body(x);
  if (x.abandoned) {
    finish(x);
    co_return false;
  }
  if (e == proxy_error::none) e = co_await forward(x);
  if (e != proxy_error::none && !x.abandoned) co_await reply_error(x, e, {});
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
  parser.body_limit(limits.max_body_bytes);  // for chunked bodies, checked as they grow
  co_return proxy_error::none;
}

net::awaitable<proxy_error> http_session::read_body(exchange& x) {
  auto& parser = *x.parser;
  if (parser.is_done()) co_return proxy_error::none;
  const auto& limits = x.snapshot->limits();
  // curl waits a second for this before sending a body over 1 KiB; the pod never sees
  // the Expect header, the proxy answers it once the head has passed every check.
  if (!x.facts.http10 && beast::iequals(parser.get()[http::field::expect], "100-continue")) {
    set_deadline(clock::now() + k_error_write_timeout);
    static constexpr std::string_view k_continue = "HTTP/1.1 100 Continue\r\n\r\n";
    auto [ec, n] = co_await net::async_write(client_, net::buffer(k_continue), k_use);
    if (ec) {
      x.abandoned = true;
      co_return proxy_error::none;
    }
  }
  const auto request_deadline = x.start + limits.request_timeout;
  while (!parser.is_done()) {
    // The body must keep moving: each read gets client_header_timeout, the whole
    // request at most request_timeout.
    set_deadline(std::min(clock::now() + limits.client_header_timeout, request_deadline));
    auto [ec, n] = co_await http::async_read_some(client_, buffer_, parser, k_use);
    if (!ec) continue;
    if (ec == http::error::body_limit) co_return proxy_error::payload_too_large;
    if (timed_out_) co_return proxy_error::request_timeout;
    if (is_disconnect(ec) || ec == net::error::operation_aborted) {
      x.abandoned = true;
      co_return proxy_error::none;
    }
    co_return proxy_error::bad_request;
  }
  co_return proxy_error::none;
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
  write_upstream_head(req, facts, req.body().size(), head);
  {
    std::array<net::const_buffer, 2> out{net::buffer(head), net::buffer(req.body())};
    auto [ec, n] = co_await net::async_write(conn.socket, out, k_use);
    if (ec) {
      watched_upstream_ = nullptr;
      x.upstream.reset();
      co_return timed_out_ ? proxy_error::upstream_timeout : proxy_error::upstream_error;
    }
  }

  // read_response_head: interim 1xx answers are skipped, the first final one is relayed.
  auto& parser = x.response;
  for (;;) {
    auto& p = parser.emplace(std::piecewise_construct, std::make_tuple(), std::make_tuple(arena_allocator(&x.arena)));
    p.header_limit(k_max_response_head_bytes);
    p.body_limit(boost::none);  // streamed through, never held whole
    auto [ec, n] = co_await http::async_read_header(conn.socket, conn.buffer, p, k_use);
    if (ec) {
      watched_upstream_ = nullptr;
      x.upstream.reset();
      co_return timed_out_ ? proxy_error::upstream_timeout : proxy_error::upstream_error;
    }
    auto status = p.get().result_int();
    if (status == 101) {
      watched_upstream_ = nullptr;
      x.upstream.reset();
      co_return proxy_error::upstream_error;
    }
    if (status >= 200) break;
  }

  // relay_response
  auto& p = *parser;
  auto& res = p.get();
  client_framing framing;
  std::uint64_t length = 0;
  if (p.is_done()) {
    framing = p.content_length() ? client_framing::content_length : client_framing::none;
  } else if (p.content_length()) {
    framing = client_framing::content_length;
    length = *p.content_length();
  } else {
    framing = x.facts.http10 ? client_framing::close_delimited : client_framing::chunked;
  }
  if (framing == client_framing::close_delimited || worker_.draining()) x.keep_alive = false;
  x.status = res.result_int();
  head.clear();
  write_client_head(x.status, res.reason(), res, framing, length, x.keep_alive, x.id.view(), x.cold_start, head);

  auto relay = worker_.upstream().borrow_relay_buffer();
  bool head_sent = false;
  bool done = p.is_done();
  for (;;) {
    std::size_t got = 0;
    // A pod that has sent only its head may be streaming and pause: the client gets
    // the head at once rather than with the first body bytes.
    if (!done && !(head_sent == false && conn.buffer.size() == 0)) {
      res.body().data = relay.get();
      res.body().size = upstream_limits::k_relay_buffer_bytes;
      auto [ec, n] = co_await http::async_read_some(conn.socket, conn.buffer, p, k_use);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        watched_upstream_ = nullptr;
        x.upstream.reset();
        if (!head_sent) co_return timed_out_ ? proxy_error::upstream_timeout : proxy_error::upstream_error;
        // The status is out; all that is left is to cut the client off so it sees a
        // truncated body rather than a complete-looking one.
        x.error = timed_out_ ? proxy_error::upstream_timeout : proxy_error::upstream_error;
        x.abandoned = true;
        co_return proxy_error::none;
      }
      got = upstream_limits::k_relay_buffer_bytes - res.body().size;
      done = p.is_done();
    }
    char chunk_head[24];
    std::size_t chunk_head_size = 0;
    if (framing == client_framing::chunked && got > 0) {
      auto r = std::to_chars(chunk_head, chunk_head + 16, got, 16);
      *r.ptr++ = '\r';
      *r.ptr++ = '\n';
      chunk_head_size = static_cast<std::size_t>(r.ptr - chunk_head);
    }
    static constexpr std::string_view k_crlf = "\r\n";
    static constexpr std::string_view k_last_chunk = "0\r\n\r\n";
    std::array<net::const_buffer, 5> out{
        net::buffer(head.data(), head_sent ? 0 : head.size()),
        net::buffer(chunk_head, chunk_head_size),
        net::buffer(relay.get(), got),
        net::buffer(k_crlf.data(), chunk_head_size ? 2 : 0),
        net::buffer(k_last_chunk.data(), framing == client_framing::chunked && done ? k_last_chunk.size() : 0),
    };
    if (net::buffer_size(out) > 0) {
      auto [ec, n] = co_await net::async_write(client_, out, k_use);
      if (ec) {
        watched_upstream_ = nullptr;
        x.upstream.reset();  // the rest of the response is never read: not reusable
        x.abandoned = true;
        co_return proxy_error::none;
      }
    }
    head_sent = true;
    if (done) break;
  }
  watched_upstream_ = nullptr;
  if (p.keep_alive() && !closed_) {
    conn.reused = false;
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
  bool body_pending = !x.parser || !x.parser->is_done();
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
