// idle_clients: how much does an idle keep-alive client cost a proxy? Opens N
// connections, sends one POST / on each (so the proxy has set up everything a real
// client costs it: session, parser, buffers), reads the whole answer, then holds all of
// them open and silent until SIGINT/SIGTERM arrives or stdin, if it is a pipe, socket
// or terminal, reaches end-of-file.
//
//   idle_clients <ip> <port> <host-header> [connections=2000] [parallel=64]
//
// Prints "idle_clients: holding S of N connections (F failed)" once every connection
// has been tried, and at exit how many the server closed while they were idle.
// Exit code 0 only if every connection got a 200 and was still open at the end.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <map>
#include <string>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using net::ip::tcp;
using namespace std::chrono_literals;

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
// Generous: with thousands of connections opening at once, the server's backlog may
// make a few wait for a SYN retransmit.
constexpr auto k_exchange_timeout = 10s;

struct tally {
  int attempted = 0;
  int held = 0;
  int closed_by_server = 0;
  std::map<std::string, int> failures;  // reason -> count
};

// Connects, sends one request, and reads the whole answer. Returns the reason on failure.
net::awaitable<std::string> first_exchange(beast::tcp_stream& stream, const tcp::endpoint& server,
                                           const std::string& host_header) {
  stream.expires_after(k_exchange_timeout);
  auto [connect_ec] = co_await stream.async_connect(server, use_nothrow);
  if (connect_ec) co_return "connect: " + connect_ec.message();

  http::request<http::string_body> req{http::verb::post, "/", 11};
  req.set(http::field::host, host_header);
  req.set(http::field::content_type, "application/json");
  req.body() = R"({"name":"ada"})";
  req.prepare_payload();
  auto [write_ec, written] = co_await http::async_write(stream, req, use_nothrow);
  if (write_ec) co_return "write: " + write_ec.message();

  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  auto [read_ec, read] = co_await http::async_read(stream, buffer, res, use_nothrow);
  if (read_ec) co_return "read: " + read_ec.message();
  if (res.result() != http::status::ok) co_return "status " + std::to_string(res.result_int());
  if (!res.keep_alive()) co_return "server asked to close";
  stream.expires_never();  // from here on the connection is meant to sit idle
  co_return "";
}

// Waits on a held connection: an idle client never sends again, so anything that
// completes this read is the server hanging up (or an unexpected byte).
net::awaitable<void> watch_idle(beast::tcp_stream& stream, tally& t) {
  std::array<char, 1> byte;
  auto [ec, n] = co_await stream.socket().async_read_some(net::buffer(byte), use_nothrow);
  if (ec == net::error::operation_aborted) co_return;
  --t.held;
  ++t.closed_by_server;
}

// Only a pipe, a socket or a terminal closes when someone means it to. /dev/null (what a
// background job in a script gets) is always at end-of-file: that is no signal to leave.
bool stdin_can_close() {
  struct stat st {};
  if (::fstat(STDIN_FILENO, &st) != 0) return false;
  return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || ::isatty(STDIN_FILENO);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: idle_clients <ip> <port> <host-header> [connections=2000] [parallel=64]\n");
    return 2;
  }
  boost::system::error_code ec;
  const auto address = net::ip::make_address(argv[1], ec);
  if (ec) {
    std::fprintf(stderr, "idle_clients: %s is not an IP address\n", argv[1]);
    return 2;
  }
  const tcp::endpoint server{address, static_cast<unsigned short>(std::atoi(argv[2]))};
  const std::string host_header = argv[3];
  const int total = argc > 4 ? std::atoi(argv[4]) : 2000;
  const int parallel = argc > 5 ? std::atoi(argv[5]) : 64;
  if (total <= 0 || parallel <= 0) {
    std::fprintf(stderr, "idle_clients: connections and parallel must be positive\n");
    return 2;
  }

  net::io_context ioc{1};
  tally t;
  // A list, not a vector: watchers hold references to the streams while more are added.
  std::list<beast::tcp_stream> streams;

  // Opens connections `parallel` at a time: all at once would overflow a listen
  // backlog (nginx's default is 511) and time connect retransmits, not the proxy.
  int next = 0;
  const int workers = std::min(parallel, total);
  int workers_left = workers;
  auto opener = [&]() -> net::awaitable<void> {
    while (next < total) {
      ++next;
      ++t.attempted;
      auto& stream = streams.emplace_back(ioc);
      const std::string failure = co_await first_exchange(stream, server, host_header);
      if (!failure.empty()) {
        ++t.failures[failure];
        stream.close();
        continue;
      }
      ++t.held;
      net::co_spawn(ioc, watch_idle(stream, t), net::detached);
    }
    if (--workers_left == 0) {
      std::printf("idle_clients: holding %d of %d connections (%d failed)\n", t.held, total, t.attempted - t.held);
      for (const auto& [reason, count] : t.failures) std::printf("idle_clients:   %d x %s\n", count, reason.c_str());
      std::fflush(stdout);
    }
  };
  for (int i = 0; i < workers; ++i) net::co_spawn(ioc, opener(), net::detached);

  // Told to stop by a signal or by stdin closing (e.g. the script closes its end of a pipe).
  net::signal_set signals{ioc, SIGINT, SIGTERM};
  signals.async_wait([&](const boost::system::error_code& e, int) {
    if (!e) ioc.stop();
  });
  net::posix::stream_descriptor input{ioc};
  std::array<char, 256> input_buffer;
  if (stdin_can_close()) {
    input.assign(::dup(STDIN_FILENO));
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
          for (;;) {
            auto [read_ec, n] = co_await input.async_read_some(net::buffer(input_buffer), use_nothrow);
            if (read_ec) break;
          }
          ioc.stop();
        },
        net::detached);
  }

  ioc.run();
  std::printf("idle_clients: exiting; %d connections still open, %d closed by the server while idle\n", t.held,
              t.closed_by_server);
  return t.held == total ? 0 : 1;
}
