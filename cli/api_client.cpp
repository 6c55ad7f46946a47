#include "cli/api_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "cli/failure.hpp"
#include "common/version.hpp"

namespace ignite::cli {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto k_use = net::as_tuple(net::use_awaitable);
constexpr std::chrono::seconds k_connect_timeout{10};
// Generous: a JSON answer is small, an app's answer is whatever the app says, and the
// proxy caps bodies it relays at max_body_bytes (6 MiB by default).
constexpr std::uint64_t k_body_limit = 64u << 20;
constexpr std::uint32_t k_header_limit = 64u << 10;

http::verb verb_of(http_method m) {
  switch (m) {
    case http_method::get:
      return http::verb::get;
    case http_method::post:
      return http::verb::post;
    case http_method::put:
      return http::verb::put;
    case http_method::del:
      return http::verb::delete_;
  }
  return http::verb::get;
}

// What went wrong, in words for someone who did not write this file.
std::string describe(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  if (ec == http::error::end_of_stream || ec == net::error::eof || ec == http::error::partial_message)
    return "the connection closed before a complete answer";
  if (ec == http::error::body_limit) return "the answer is larger than " + std::to_string(k_body_limit >> 20) + " MiB";
  if (ec == http::error::header_limit) return "the answer's header is too large";
  if (ec.category() == http::make_error_code(http::error::bad_version).category())
    return "not an HTTP answer (" + ec.message() + ")";
  return ec.message();
}

struct exchange_state {
  beast::error_code ec;
  std::string step;  // "connect", "send", "read": where ec happened
  http::response<http::string_body> response;
};

// resolve → connect → write → read, each bounded, on one connection that closes after.
net::awaitable<void> exchange(const endpoint& where, http::request<http::string_body>& request,
                              std::chrono::seconds timeout, exchange_state& state) {
  auto executor = co_await net::this_coro::executor;
  tcp::resolver resolver(executor);
  auto [resolve_ec, addresses] = co_await resolver.async_resolve(where.host, std::to_string(where.port), k_use);
  if (resolve_ec) {
    state.ec = resolve_ec;
    state.step = "resolve";
    co_return;
  }

  beast::tcp_stream stream(executor);
  stream.expires_after(k_connect_timeout);
  auto [connect_ec, peer] = co_await stream.async_connect(addresses, k_use);
  if (connect_ec) {
    state.ec = connect_ec;
    state.step = "connect";
    co_return;
  }

  // One deadline for the whole exchange: a server that trickles its answer still ends.
  stream.expires_after(timeout);
  auto [write_ec, written] = co_await http::async_write(stream, request, k_use);
  if (write_ec) {
    state.ec = write_ec;
    state.step = "send";
    co_return;
  }

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(k_header_limit);
  parser.body_limit(k_body_limit);
  auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, k_use);
  if (read_ec) {
    state.ec = read_ec;
    state.step = "read";
    co_return;
  }
  state.response = parser.release();

  beast::error_code ignored;  // the answer is complete; how the close goes does not matter
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace

api_response api_client::send(const api_request& r) const {
  http::request<http::string_body> request{verb_of(r.method), r.target, 11};
  request.set(http::field::host, where_.authority());
  request.set(http::field::user_agent, std::string("ignite/") + common::k_version);
  request.set(http::field::accept, "application/json");
  if (!token_.empty()) request.set(http::field::authorization, "Bearer " + token_);
  if (r.has_body) {
    request.set(http::field::content_type, "application/json");
    request.body() = r.body;
  }
  request.keep_alive(false);  // one request per connection
  request.prepare_payload();

  net::io_context ioc;
  exchange_state state;
  net::co_spawn(ioc, exchange(where_, request, r.timeout, state), [&](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);  // only bad_alloc and the like: let run() report it
  });
  ioc.run();

  if (state.ec) {
    if (state.step == "resolve")
      throw api_failure("cannot resolve " + where_.host + " (api_endpoint " + where_.url() +
                        "): " + state.ec.message());
    if (state.step == "connect")
      throw api_failure("cannot connect to " + where_.url() + ": " + describe(state.ec) +
                        " (is the proxy running? see `ignite config get`)");
    if (state.step == "send")
      throw api_failure("cannot send the request to " + where_.url() + ": " + describe(state.ec));
    throw api_failure("no valid answer from " + where_.url() + ": " + describe(state.ec));
  }

  api_response out;
  out.status = state.response.result_int();
  out.reason = std::string(state.response.reason());
  out.body = std::move(state.response.body());
  if (auto it = state.response.find("x-ignite-execution-id"); it != state.response.end())
    out.execution_id = std::string(it->value());
  if (auto it = state.response.find("x-ignite-error"); it != state.response.end())
    out.proxy_error = it->value() == "proxy";
  return out;
}

}  // namespace ignite::cli
