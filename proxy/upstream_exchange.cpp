#include "proxy/upstream_exchange.hpp"

#include <poll.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "proxy/deadlines.hpp"
#include "proxy/held_request.hpp"
#include "proxy/request_head_check.hpp"
#include "proxy/write_now.hpp"

namespace ignite::proxy {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto k_use = net::as_tuple(net::use_awaitable);
// Heads are read in pieces of this size, so what one read brings beyond the head
// always fits the relay buffer.
constexpr std::size_t k_head_read_size = 4096;
static_assert(k_head_read_size <= upstream_limits::k_relay_buffer_bytes);

std::string_view view(const boost::beast::flat_buffer& b) {
  auto d = b.data();
  return {static_cast<const char*>(d.data()), d.size()};
}

// A pool's refusal: its public message is the answer's, its detail goes to the log.
request_error refused(const coldstart::refusal& r) {
  switch (r.why) {
    case coldstart::failure::overloaded:
      return request_error::from_proxy(proxy_error::overloaded, r.reason.message, r.reason.detail);
    case coldstart::failure::no_source:
      return request_error::from_proxy(proxy_error::pod_start_failed, r.reason.message, r.reason.detail);
    case coldstart::failure::pod_start_failed:
      break;
  }
  return request_error::from_pod(proxy_error::pod_start_failed, true, r.reason.message, r.reason.detail);
}

request_error timed_out(const coldstart::version_pool& pool, const routing::limits& limits) {
  auto r = pool.timeout_reason(limits.cold_start_timeout);
  return request_error::from_pod(proxy_error::cold_start_timeout, true, std::move(r.message), std::move(r.detail));
}

// The connect in progress on `socket` has its answer: connected, or failed (refused,
// reset). poll(2) says so without waiting.
bool connect_answered(tcp_socket& socket) noexcept {
  pollfd p{socket.native_handle(), POLLOUT, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLOUT | POLLERR | POLLHUP));
}
}  // namespace

upstream_exchange::upstream_exchange(upstream_pool& connections, coldstart::version_pool& pool,
                                     const routing::limits& limits, clock::time_point start, watchdog& dog,
                                     std::pmr::memory_resource* arena)
    : connections_(connections), pool_(pool), limits_(limits), start_(start), dog_(dog), arena_(arena) {}

upstream_exchange::~upstream_exchange() {
  if (connect_waiter_) {
    if (connect_waiter_->granted)
      connections_.end_connect(grant_.address, upstream_pool::connect_outcome::ended);
    else
      connections_.forget_waiter(grant_.address, *connect_waiter_);
  }
  if (held_) {
    if (!held_->answered()) {
      if (!pool_.cancel(held_.get())) held_->orphan();  // its answer is on the way
    } else if (held_->grant()) {
      pool_.release(held_->grant()->pod);
    }
  }
  if (grant_.pod) pool_.release(grant_.pod);
}

void upstream_exchange::cancel(cancel_reason why) {
  // A worker busy with many connections runs a connect's completion late, after the
  // connect window's timeout: a connect the pod has already answered (accepted, or
  // refused) is not lost. Closing it would count a loss, halve the window and make the
  // request connect again; its completion, already due, says what happened.
  if (why == cancel_reason::timeout && connecting_ && conn_ && connect_answered(conn_->socket)) return;
  cancelled_ = why;
  if (held_) held_->wake().cancel();
  if (connect_waiter_) connect_waiter_->wake.cancel();
  // Closed, not only cancelled: a cancel finds nothing to abort when it lands between two
  // operations (a write's completion queued, the next read not yet started), and that read
  // would then wait for the pod forever. On a closed socket it fails at once.
  boost::system::error_code ignored;
  if (conn_) conn_->socket.close(ignored);
}

void upstream_exchange::drop_connection() {
  conn_.reset();  // closes the socket: a connection in an unknown state is never reused
}

request_error upstream_exchange::failed(proxy_error kind, std::string_view message, bool retry_safe) {
  drop_connection();
  if (cancelled_ == cancel_reason::client_gone)
    return request_error::from_client(proxy_error::client_closed, "the client went away while the app answered");
  return request_error::from_pod(kind, retry_safe, std::string(message));
}

// ---- acquire_pod -----------------------------------------------------------------------

net::awaitable<request_error> upstream_exchange::acquire_pod() {
  using coldstart::version_pool;
  if (pool_.try_acquire(grant_) == version_pool::acquire_result::granted) co_return request_error{};
  held_ = std::make_shared<held_request>(connections_.executor(), pool_.shared_from_this());
  coldstart::refusal refusal;
  switch (pool_.hold(held_, grant_, refusal)) {
    case version_pool::acquire_result::granted:
      held_.reset();
      co_return request_error{};
    case version_pool::acquire_result::rejected:
      held_.reset();
      co_return refused(refusal);
    case version_pool::acquire_result::must_hold:
      break;
  }
  dog_.set_deadline(deadlines::hold(start_, limits_));
  co_await held_->wake().async_wait(k_use);
  if (!held_->answered() && pool_.cancel(held_.get())) {
    // Cancelled while still queued: the pool will never answer.
    held_.reset();
    if (cancelled_ == cancel_reason::client_gone)
      co_return request_error::from_client(proxy_error::client_closed, "the client went away while held");
    co_return timed_out(pool_, limits_);
  }
  // The answer is on its way to this executor (or here already): take it.
  while (!held_->answered()) co_await held_->wake().async_wait(k_use);
  auto held = std::move(held_);
  if (!held->grant()) {
    co_return refused(coldstart::refusal{held->failure_kind(), held->reason()});
  }
  grant_ = *held->grant();
  if (cancelled_ != cancel_reason::none) {
    // The grant came as the deadline passed (or the client left): hand it back.
    pool_.release(grant_.pod);
    grant_.pod = 0;
    if (cancelled_ == cancel_reason::client_gone)
      co_return request_error::from_client(proxy_error::client_closed, "the client went away while held");
    co_return timed_out(pool_, limits_);
  }
  co_return request_error{};
}

// ---- connect ----------------------------------------------------------------------------

bool upstream_exchange::try_connect_pooled() {
  if (pool_.try_acquire(grant_) != coldstart::version_pool::acquire_result::granted) return false;
  if ((conn_ = connections_.take(grant_.address))) return true;
  pool_.release(grant_.pod);  // connect() acquires again, on its own path
  grant_.pod = 0;
  return false;
}

net::awaitable<request_error> upstream_exchange::connect() {
  const auto give_up = deadlines::hold(start_, limits_);
  for (;;) {
    if (auto e = co_await acquire_pod()) co_return e;
    cold_start_ = cold_start_ || grant_.cold_start;
    if ((conn_ = connections_.take(grant_.address))) co_return request_error{};
    // Attempts on this pod: each within its connect window's timeout, all of them
    // within upstream_connect_timeout.
    const auto pod_deadline = deadlines::connect_attempt(clock::now(), start_, limits_);
    bool reached = false;
    for (;;) {
      if (auto e = co_await wait_for_connect_slot()) co_return e;
      conn_ = connections_.make();
      const auto began = clock::now();
      const auto lost_at = began + connections_.connect_timeout(grant_.address);
      boost::system::error_code ec;
      conn_->socket.open(grant_.address.protocol(), ec);
      if (!ec) {
        dog_.set_deadline(std::min(lost_at, pod_deadline));
        connecting_ = true;
        std::tie(ec) = co_await conn_->socket.async_connect(grant_.address, k_use);
        connecting_ = false;
      }
      const auto now = clock::now();
      if (!ec) {
        connections_.end_connect(grant_.address, upstream_pool::connect_outcome::succeeded, now - began);
        conn_->socket.set_option(tcp::no_delay(true), ec);
        conn_->socket.non_blocking(true, ec);  // requests are written at once where they fit (write_now)
        connections_.stats().connects.fetch_add(1, std::memory_order_relaxed);
        reached = true;
        break;
      }
      drop_connection();
      if (cancelled_ == cancel_reason::client_gone) {
        connections_.end_connect(grant_.address, upstream_pool::connect_outcome::ended);
        co_return failed(proxy_error::client_closed, "the client went away while connecting", true);
      }
      const bool timed_out_here = cancelled_ == cancel_reason::timeout;
      cancelled_ = cancel_reason::none;
      if (timed_out_here && now < pod_deadline && now < give_up) {
        // No answer to the SYN within a few round-trips: the pod's accept queue is
        // most likely full. Retry from here, with a smaller window and a longer wait,
        // rather than wait for the kernel's retransmit.
        connections_.end_connect(grant_.address, upstream_pool::connect_outcome::lost);
        continue;
      }
      connections_.end_connect(grant_.address, upstream_pool::connect_outcome::ended);
      break;  // refused, or silent for upstream_connect_timeout
    }
    if (reached) co_return request_error{};
    // Nothing of the request was written, so it cannot run twice: the pod goes back to
    // being probed and the request asks again.
    pool_.unreachable(grant_.pod);
    grant_.pod = 0;
    if (clock::now() >= give_up) co_return timed_out(pool_, limits_);
  }
}

// A slot in the pod's connect window (connect_window.hpp): at once, or in the pod's
// queue on this worker until a connect ends, under the request's own deadline.
net::awaitable<request_error> upstream_exchange::wait_for_connect_slot() {
  auto& waiter = connect_waiter_.emplace(connections_.executor());
  if (connections_.begin_connect(grant_.address, waiter)) {
    connect_waiter_.reset();
    co_return request_error{};
  }
  dog_.set_deadline(deadlines::hold(start_, limits_));
  co_await waiter.wake.async_wait(k_use);
  const bool granted = waiter.granted;
  if (!granted) connections_.forget_waiter(grant_.address, waiter);
  connect_waiter_.reset();
  if (cancelled_ == cancel_reason::none) co_return request_error{};
  if (granted) connections_.end_connect(grant_.address, upstream_pool::connect_outcome::ended);
  if (cancelled_ == cancel_reason::client_gone)
    co_return request_error::from_client(proxy_error::client_closed, "the client went away while waiting to connect");
  co_return timed_out(pool_, limits_);
}

// ---- send_request ----------------------------------------------------------------------

bool upstream_exchange::try_send_request(std::string_view head, std::string_view body, request_error& e) {
  dog_.set_deadline(deadlines::answer(start_, limits_));
  std::array<net::const_buffer, 2> out{net::buffer(head), net::buffer(body)};
  std::span<net::const_buffer> rest(out);
  boost::system::error_code ec;
  sent_ = write_now(conn_->socket, rest, ec);
  if (ec) e = failed(proxy_error::upstream_error, "the app closed the connection before taking the request");
  return ec || rest.empty();
}

net::awaitable<request_error> upstream_exchange::send_request(std::string_view head, std::string_view body) {
  dog_.set_deadline(deadlines::answer(start_, limits_));
  std::array<net::const_buffer, 2> out{net::buffer(head), net::buffer(body)};
  std::span<net::const_buffer> rest(out);
  for (auto skip = sent_; !rest.empty(); rest = rest.subspan(1)) {  // what try_send_request sent
    if (skip < rest.front().size()) {
      rest.front() += skip;
      break;
    }
    skip -= rest.front().size();
  }
  auto [ec, n] = co_await net::async_write(conn_->socket, rest, k_use);
  if (ec) {
    if (cancelled_ == cancel_reason::timeout)
      co_return failed(proxy_error::upstream_timeout, "the app did not take the request within request_timeout_ms");
    co_return failed(proxy_error::upstream_error, "the app closed the connection before taking the request");
  }
  co_return request_error{};
}

// ---- read_response_head ----------------------------------------------------------------

// The pod's head, bounded by k_max_response_head_bytes, read as raw bytes and then
// handed to Beast's parser whole: Beast never reads from the pod itself, so nothing a
// pod sends reaches a code path that could throw. Interim 1xx answers are skipped.
net::awaitable<request_error> upstream_exchange::read_response_head() {
  auto& buffer = conn_->buffer;
  for (;;) {
    std::size_t scanned = 0;
    std::size_t head_size = 0;
    while (!(head_size = find_head_end(view(buffer), scanned))) {
      if (buffer.size() >= k_max_response_head_bytes)
        co_return failed(proxy_error::upstream_error, "the app's response head is larger than 64 KiB");
      auto want = std::min(k_head_read_size, k_max_response_head_bytes - buffer.size());
      auto [ec, n] = co_await conn_->socket.async_read_some(buffer.prepare(want), k_use);
      if (ec) {
        if (cancelled_ == cancel_reason::timeout)
          co_return failed(proxy_error::upstream_timeout, "the app did not answer within request_timeout_ms");
        co_return failed(proxy_error::upstream_error, "the app closed the connection without answering");
      }
      buffer.commit(n);
    }
    if (head_size > k_max_response_head_bytes)
      co_return failed(proxy_error::upstream_error, "the app's response head is larger than 64 KiB");
    auto& p = response_.emplace(std::piecewise_construct, std::make_tuple(), std::make_tuple(arena_allocator(arena_)));
    p.eager(false);
    p.header_limit(static_cast<std::uint32_t>(k_max_response_head_bytes));
    // Beast refuses a Content-Length over its own body limit (8 MiB) while parsing the
    // head; the body streams through the relay buffer, never into Beast.
    p.body_limit(boost::none);
    boost::system::error_code ec;
    auto used = p.put(net::buffer(buffer.data().data(), head_size), ec);
    if (ec || !p.is_header_done())
      co_return failed(proxy_error::upstream_error, "the app sent an invalid response head");
    buffer.consume(used);
    auto status = p.get().result_int();
    if (status == 101) co_return failed(proxy_error::upstream_error, "the app switched protocols");
    if (status >= 200) break;
  }
  auto& p = *response_;
  if (p.is_done()) {
    framing_ = framing::none;
    done_ = true;
  } else if (p.chunked()) {
    framing_ = framing::chunked;
    chunks_.emplace(chunked_decoder::limits{.max_chunk_line = k_max_chunk_line,
                                            .max_trailer_bytes = upstream_limits::k_relay_buffer_bytes,
                                            .max_trailer_fields = k_max_header_fields});
  } else if (p.content_length()) {
    framing_ = framing::length;
    remaining_ = *p.content_length();
  } else {
    framing_ = framing::until_close;
  }
  // The body bytes that came with the head move to the front of the relay buffer.
  relay_.emplace(connections_.relay_blocks());
  end_ = buffer.size();
  std::memcpy(relay_->get(), buffer.data().data(), end_);
  buffer.consume(end_);
  begin_ = 0;
  co_return request_error{};
}

// ---- read_body -------------------------------------------------------------------------

request_error upstream_exchange::take_body(body_piece& out) {
  out.count = 0;
  out.done = false;
  char* const buf = relay_->get();
  while (!done_ && out.count < k_max_pieces && begin_ < end_) {
    std::string_view avail(buf + begin_, end_ - begin_);
    if (framing_ == framing::chunked) {
      std::size_t used = 0;
      std::string_view data;
      auto status = chunks_->next(avail, used, data);
      begin_ += used;
      if (status == chunked_decoder::status::data) {
        out.data[out.count++] = data;
        continue;
      }
      if (status == chunked_decoder::status::done) {
        done_ = true;
        break;
      }
      if (chunked_decoder::is_error(status))
        return failed(proxy_error::upstream_error, status == chunked_decoder::status::trailer_too_large
                                                       ? "the app's trailers are too large"
                                                   : status == chunked_decoder::status::chunk_line_too_long
                                                       ? "the app's chunk line is too long"
                                                       : "the app sent a malformed chunked body");
      break;  // need_more
    }
    auto n = framing_ == framing::length ? static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, avail.size()))
                                         : avail.size();
    out.data[out.count++] = avail.substr(0, n);
    begin_ += n;
    if (framing_ == framing::length) {
      remaining_ -= n;
      done_ = remaining_ == 0;
    }
  }
  out.done = done_;
  return {};
}

net::awaitable<request_error> upstream_exchange::read_body(body_piece& out) {
  char* const buf = relay_->get();
  constexpr std::size_t cap = upstream_limits::k_relay_buffer_bytes;
  for (;;) {
    if (auto e = take_body(out)) co_return e;
    if (out.done || out.count > 0) co_return request_error{};
    // Nothing decodable is buffered: keep a partial line at the front and read more.
    if (begin_ == end_) begin_ = end_ = 0;
    if (begin_ > 0) {
      std::memmove(buf, buf + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    // Only a trailer line can fill the buffer without completing: chunk-size lines are
    // bounded far below it.
    if (end_ == cap) co_return failed(proxy_error::upstream_error, "the app's trailers are too large");
    auto [ec, n] = co_await conn_->socket.async_read_some(net::buffer(buf + end_, cap - end_), k_use);
    if (ec == net::error::eof && framing_ == framing::until_close) {
      done_ = true;
      drop_connection();  // the end of the answer was the end of the connection
      out.done = true;
      co_return request_error{};
    }
    if (ec) {
      if (cancelled_ == cancel_reason::timeout)
        co_return failed(proxy_error::upstream_timeout, "the app did not finish its answer within request_timeout_ms");
      co_return failed(proxy_error::upstream_error, "the app closed the connection before its answer was complete");
    }
    end_ += n;
  }
}

void upstream_exchange::finish() {
  // Bytes after a complete answer mean the stream is out of step: never reused.
  if (conn_ && done_ && response_ && response_->keep_alive() && begin_ == end_ && cancelled_ == cancel_reason::none)
    connections_.give_back(grant_.address, std::move(conn_));
  drop_connection();
  relay_.reset();
}

}  // namespace ignite::proxy
