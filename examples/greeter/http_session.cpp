#include "http_session.hpp"

#include "greeting.hpp"
#include "unix_time.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <tuple>

namespace greeter {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using namespace std::chrono_literals;

// Failures come back as values: a client is allowed to misbehave, that is no exception.
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

namespace limits {
constexpr std::uint32_t k_max_header_bytes = 16 * 1024;
constexpr std::uint64_t k_max_body_bytes = 1024 * 1024;
// Covers an idle keep-alive connection as well as a client trickling its headers:
// either way it holds a connection without giving us a request.
constexpr auto k_header_timeout = 15s;
constexpr auto k_body_timeout = 30s;
constexpr auto k_write_timeout = 30s;
// After an error answer the client may still be sending; reading it away for a moment
// keeps our close from turning into a reset that destroys the answer in flight.
constexpr auto k_linger_timeout = 2s;
}  // namespace limits

struct read_failure {
  http::status status;
  const char* message;
};

// What to answer a request that could not be read; nullopt means close without a word.
// That includes a timeout: tcp_stream has already closed the socket (as nginx does, a
// client too slow to send its headers gets no 408).
std::optional<read_failure> classify(const beast::error_code& ec) {
  if (ec == http::error::header_limit)
    return read_failure{http::status::request_header_fields_too_large, "request headers too large"};
  if (ec == http::error::body_limit) return read_failure{http::status::payload_too_large, "body over 1 MiB"};
  // end_of_stream is a clean close between requests, and partial_message a client
  // that hung up mid-request: nobody is left to read an answer.
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return std::nullopt;
  if (ec.category() == http::make_error_code(http::error::bad_method).category())
    return read_failure{http::status::bad_request, "malformed request"};
  return std::nullopt;  // the socket failed or timed out
}

bool expects_continue(const request& req) {
  return req.version() >= 11 && beast::iequals(req[http::field::expect], "100-continue");
}

net::awaitable<void> linger_close(beast::tcp_stream& stream) {
  beast::error_code ignored;
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  stream.expires_after(limits::k_linger_timeout);
  std::array<char, 4096> scratch;
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(net::buffer(scratch), use_nothrow);
    if (ec) break;
  }
  stream.close();
}

}  // namespace

net::awaitable<void> run_http_session(net::ip::tcp::socket socket, std::shared_ptr<serving_state> state) {
  beast::tcp_stream stream{std::move(socket)};
  beast::flat_buffer buffer;
  const settings& config = state->config;
  const std::string listening_at = std::to_string(state->listening_at_us);

  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(limits::k_max_header_bytes);
    parser.body_limit(limits::k_max_body_bytes);

    stream.expires_after(limits::k_header_timeout);
    auto [ec, header_bytes] = co_await http::async_read_header(stream, buffer, parser, use_nothrow);
    const std::int64_t received_at_us = unix_micros();

    if (!ec && expects_continue(parser.get())) {
      // The client holds its body back until we say go; the body limit has
      // already been checked against Content-Length by the header read.
      http::response<http::empty_body> go_on{http::status::continue_, 11};
      stream.expires_after(limits::k_write_timeout);
      std::tie(ec, std::ignore) = co_await http::async_write(stream, go_on, use_nothrow);
      if (ec) co_return;
    }
    if (!ec) {
      stream.expires_after(limits::k_body_timeout);
      std::tie(ec, std::ignore) = co_await http::async_read(stream, buffer, parser, use_nothrow);
    }

    response res;
    if (ec) {
      const auto failure = classify(ec);
      if (!failure) co_return;
      // The rest of the stream cannot be trusted to frame a next request.
      res = make_error(failure->status, failure->message, 11, /*keep_alive=*/false);
    } else {
      res = make_greeting(parser.get());
      if (config.response_delay.count() > 0) {
        // A slow app (GREETER_RESPONSE_DELAY_MS): the request stays in flight here
        // while other connections are served, so concurrency can be observed.
        net::steady_timer work{stream.get_executor(), config.response_delay};
        co_await work.async_wait(use_nothrow);
      }
    }
    res.set("x-greeter-listening-at-us", listening_at);
    res.set("x-greeter-received-at-us", std::to_string(received_at_us));
    if (!config.version.empty()) res.set("x-greeter-version", config.version);

    stream.expires_after(limits::k_write_timeout);
    auto [write_ec, written] = co_await http::async_write(stream, res, use_nothrow);
    if (write_ec) co_return;
    if (config.exit_after_requests && ++state->answered >= *config.exit_after_requests) {
      // A crash on purpose (GREETER_EXIT_AFTER_REQUESTS): no orderly shutdown, every
      // other connection is cut with whatever it had in flight.
      std::fprintf(stderr, "greeter: exiting with code 70 after %llu answers (GREETER_EXIT_AFTER_REQUESTS)\n",
                   static_cast<unsigned long long>(state->answered));
      std::_Exit(70);
    }
    if (ec) {
      co_await linger_close(stream);
      co_return;
    }
    if (!res.keep_alive()) {
      // Tell the client we are done; it sees a clean end of stream, not a reset.
      beast::error_code ignored;
      stream.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
      co_return;
    }
  }
}

}  // namespace greeter
