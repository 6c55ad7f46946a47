#include "listener.hpp"

#include "http_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <exception>

namespace greeter {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

// Sessions report failures as values; an exception escaping one (bad_alloc) ends that
// connection only, and is said out loud rather than swallowed.
void report_session_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    std::fprintf(stderr, "greeter: connection dropped: %s\n", x.what());
  }
}

}  // namespace

net::awaitable<void> accept_connections(net::ip::tcp::acceptor acceptor, std::shared_ptr<serving_state> state) {
  net::steady_timer backoff{acceptor.get_executor()};
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
    if (ec == net::error::operation_aborted) co_return;
    if (ec) {
      // Typically out of file descriptors: retrying at once would spin, and the
      // pending connection stays in the backlog until one frees up.
      std::fprintf(stderr, "greeter: accept failed: %s\n", ec.message().c_str());
      backoff.expires_after(50ms);
      co_await backoff.async_wait(use_nothrow);
      continue;
    }
    socket.set_option(net::ip::tcp::no_delay{true}, ec);
    net::co_spawn(acceptor.get_executor(), run_http_session(std::move(socket), state), report_session_exception);
  }
}

}  // namespace greeter
