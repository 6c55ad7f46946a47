// greeter: the example Ignite app. Listens on $HOST:$PORT and answers POST / with a
// greeting; see settings.hpp for the environment it reads and README of the project for
// how the proxy runs it.
#include "listener.hpp"
#include "settings.hpp"
#include "unix_time.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

namespace {

namespace net = boost::asio;
using net::ip::tcp;

// Binds and listens, reporting a failure as a message rather than an exception: a port
// already taken is the most common way a pod fails, and deserves a readable line.
bool open_acceptor(tcp::acceptor& acceptor, const greeter::settings& s) {
  boost::system::error_code ec;
  const auto address = net::ip::make_address(s.host, ec);
  if (ec) {
    std::fprintf(stderr, "greeter: HOST must be an IP address, got \"%s\"\n", s.host.c_str());
    return false;
  }
  const tcp::endpoint endpoint{address, s.port};
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address{true}, ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "greeter: cannot listen on %s:%u: %s\n", s.host.c_str(), unsigned{s.port},
                 ec.message().c_str());
    return false;
  }
  return true;
}

std::string startup_line(const tcp::endpoint& local, std::int64_t listening_at_us, const greeter::settings& s) {
  std::ostringstream line;
  line << "greeter listening on " << local << " at " << listening_at_us;
  if (!s.app_id.empty()) line << " app_id=" << s.app_id;
  if (!s.version.empty()) line << " version=" << s.version;
  return line.str();
}

// Start-up as a pod goes through it: boot (optionally slow, or failing, for cold-start
// demos), listen, serve. Runs on the io_context that also waits for SIGTERM, so a
// signal ends every phase promptly, the start delay included.
net::awaitable<void> start(const greeter::settings& s, net::io_context& ioc, int& exit_code) {
  const auto executor = co_await net::this_coro::executor;
  if (s.start_delay.count() > 0) {
    net::steady_timer boot{executor, s.start_delay};
    co_await boot.async_wait(net::use_awaitable);
  }
  if (s.exit_before_listen) {
    std::fprintf(stderr, "greeter: exiting with code %d before listening (GREETER_EXIT_BEFORE_LISTEN)\n",
                 *s.exit_before_listen);
    exit_code = *s.exit_before_listen;
    ioc.stop();
    co_return;
  }
  if (s.never_listen) {
    // The pending signal wait keeps the process alive, as a hung runtime would be.
    std::fprintf(stderr, "greeter: running but never listening (GREETER_NEVER_LISTEN=1)\n");
    co_return;
  }

  tcp::acceptor acceptor{executor};
  if (!open_acceptor(acceptor, s)) {
    exit_code = 1;
    ioc.stop();
    co_return;
  }
  const std::int64_t listening_at_us = greeter::unix_micros();
  std::fprintf(stderr, "%s\n", startup_line(acceptor.local_endpoint(), listening_at_us, s).c_str());
  auto state = std::make_shared<greeter::serving_state>(greeter::serving_state{s, listening_at_us});
  co_await greeter::accept_connections(std::move(acceptor), std::move(state));
}

}  // namespace

constexpr const char* k_usage =
    "usage: greeter [--help]\n"
    "\n"
    "The example Ignite app: listens on $HOST:$PORT and answers POST / with a JSON\n"
    "greeting, {\"name\":\"ada\"} -> {\"greeting\":\"Hello, ada!\"}. The platform runs it as a pod.\n"
    "\n"
    "Environment:\n"
    "  PORT                          port to listen on (the platform sets it; default 8080)\n"
    "  HOST                          address to listen on (default 127.0.0.1; 0.0.0.0 in a container)\n"
    "  IGNITE_APP_ID, IGNITE_VERSION reported at start; the version is echoed as x-greeter-version\n"
    "  GREETER_START_DELAY_MS=<ms>   boot this long before listening (a slow cold start)\n"
    "  GREETER_EXIT_BEFORE_LISTEN=<code>  exit with <code> instead of listening\n"
    "  GREETER_NEVER_LISTEN=1        run without ever listening\n"
    "  GREETER_RESPONSE_DELAY_MS=<ms>  hold every answer this long\n"
    "  GREETER_EXIT_AFTER_REQUESTS=<n> crash (status 70) after the n-th answer\n"
    "\n"
    "Request bodies over 1 MiB get 413. SIGTERM or SIGINT ends it at once.\n";

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(k_usage, stdout);
      return 0;
    }
    std::fprintf(stderr, "greeter: unknown argument \"%s\"\n\n%s", argv[i], k_usage);
    return 2;
  }
  greeter::settings settings;
  try {
    settings = greeter::settings::from_environment();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "greeter: %s\n", e.what());
    return 2;
  }

  net::io_context ioc{1};
  int exit_code = 0;

  // SIGTERM is how the platform stops a pod, and it sends it only after the proxy has
  // drained the pod's requests: leaving at once is the right answer.
  net::signal_set signals{ioc, SIGINT, SIGTERM};
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) ioc.stop();
  });

  net::co_spawn(ioc, start(settings, ioc, exit_code), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::fprintf(stderr, "greeter: %s\n", x.what());
    }
    exit_code = 1;
    ioc.stop();
  });

  ioc.run();
  return exit_code;
}
