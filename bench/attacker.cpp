// attacker: the hostile clients of bench/attacks.sh, run beside normal traffic. Each mode
// keeps `connections` attacking connections open for `seconds`, opening a new one
// whenever the proxy closes one, and prints what the proxy did to them:
//
//   attacker slowloris    <ip> <port> <host> <connections> <seconds>  head bytes, 1 a second
//   attacker body_trickle <ip> <port> <host> <connections> <seconds>  body bytes, 1 a second
//   attacker slow_reader  <ip> <port> <host> <connections> <seconds>  a request, then never read
//   attacker flood        <ip> <port> <host> <connections> <seconds>  connect, send nothing
//   attacker garbage      <ip> <port> <host> <connections> <seconds>  good request + garbage, read, again
//   attacker big_backend  <bytes>                                     a pod answering <bytes> to every request
//
// Prints "attacker <mode>: opened=N ended=N answers=<status>:<count>,…
// errors=<reason>:<count>,…" at the end. big_backend prints
// "big_backend listening on 127.0.0.1:PORT" and serves until SIGINT/SIGTERM.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <poll.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace {

namespace net = boost::asio;
using net::ip::tcp;
using namespace std::chrono_literals;

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

struct tally {
  long opened = 0;
  long ended = 0;
  std::map<std::string, long> answers;  // status -> count
  std::map<std::string, long> errors;   // reason -> count
};

struct attack {
  std::string mode;
  tcp::endpoint server;
  std::string host;
  std::chrono::steady_clock::time_point until;
  tally t;
};

std::string request(const std::string& host, std::string_view body) {
  return "POST / HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

// Reads what the proxy sends until it closes; counts the status of the first answer.
net::awaitable<void> read_to_close(tcp::socket& s, tally& t, bool count_status) {
  std::string seen;
  std::array<char, 4096> buf;
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(net::buffer(buf), use_nothrow);
    if (ec) break;
    // Answers to a small request fit in the first few KiB; a big body is not kept.
    if (seen.size() < 4096) seen.append(buf.data(), std::min<std::size_t>(n, 4096 - seen.size()));
  }
  ++t.ended;
  if (count_status) {
    for (std::size_t at = 0; (at = seen.find("HTTP/1.1 ", at)) != std::string::npos; at += 12)
      if (at + 12 <= seen.size()) ++t.answers[seen.substr(at + 9, 3)];
    if (seen.empty()) ++t.answers["none"];
  }
}

// One attacking connection after another, until the attack's end.
net::awaitable<void> attacker_loop(attack& a) {
  auto ex = co_await net::this_coro::executor;
  const std::string good = request(a.host, "{\"name\":\"ada\"}");
  while (std::chrono::steady_clock::now() < a.until) {
    tcp::socket s(ex);
    auto [cec] = co_await s.async_connect(a.server, use_nothrow);
    if (cec) {
      ++a.t.errors[cec.message()];
      net::steady_timer pause(ex, 100ms);
      co_await pause.async_wait(use_nothrow);
      continue;
    }
    ++a.t.opened;
    if (a.mode == "flood") {
      co_await read_to_close(s, a.t, true);
    } else if (a.mode == "slowloris" || a.mode == "body_trickle") {
      std::string bytes =
          a.mode == "slowloris"
              ? "POST / HTTP/1.1\r\nHost: " + a.host + "\r\nX-Slow: " + std::string(100000, 'a')
              : "POST / HTTP/1.1\r\nHost: " + a.host + "\r\nContent-Length: 100000\r\n\r\n" + std::string(100000, 'b');
      // The head of a body trickle goes at once; then one byte a second.
      std::size_t at = a.mode == "body_trickle" ? bytes.find("\r\n\r\n") + 4 : 0;
      if (at > 0) co_await net::async_write(s, net::buffer(bytes.data(), at), use_nothrow);
      // A read runs beside the trickle: the proxy's answer and close end it.
      auto closed = std::make_shared<bool>(false);
      net::co_spawn(
          ex,
          [&s, &a, closed]() -> net::awaitable<void> {
            co_await read_to_close(s, a.t, true);
            *closed = true;
          },
          net::detached);
      net::steady_timer tick(ex);
      while (!*closed && at < bytes.size() && std::chrono::steady_clock::now() < a.until) {
        auto [wec, n] = co_await net::async_write(s, net::buffer(bytes.data() + at, 1), use_nothrow);
        if (wec) break;
        ++at;
        tick.expires_after(1s);
        co_await tick.async_wait(use_nothrow);
      }
      boost::system::error_code ignored;
      s.shutdown(tcp::socket::shutdown_both, ignored);
      while (!*closed) {  // the reader holds a reference to s: let it end first
        tick.expires_after(10ms);
        co_await tick.async_wait(use_nothrow);
      }
    } else if (a.mode == "slow_reader") {
      co_await net::async_write(s, net::buffer(good), use_nothrow);
      // Never read: wait until the proxy gives up on this connection (its close makes
      // the socket readable, which a zero-byte wait sees without reading any data).
      net::steady_timer tick(ex);
      for (;;) {
        pollfd p{s.native_handle(), POLLRDHUP, 0};
        if (::poll(&p, 1, 0) == 1) break;
        if (std::chrono::steady_clock::now() >= a.until) break;
        tick.expires_after(100ms);
        co_await tick.async_wait(use_nothrow);
      }
      ++a.t.ended;
    } else if (a.mode == "garbage") {
      co_await net::async_write(s, net::buffer(good + "GARBAGE \x01\x02 NOT HTTP\r\n\r\n"), use_nothrow);
      co_await read_to_close(s, a.t, true);
    }
  }
}

// A pod that answers every request with `bytes` bytes: the big answers slow readers
// refuse to take. One coroutine per connection; it reads a head, ignores any body.
net::awaitable<void> serve_big(tcp::socket s, std::shared_ptr<const std::string> answer) {
  net::streambuf in;
  for (;;) {
    auto [ec, n] = co_await net::async_read_until(s, in, "\r\n\r\n", use_nothrow);
    if (ec) co_return;
    std::string head(static_cast<const char*>(in.data().data()), n);
    in.consume(n);
    std::size_t length = 0;
    if (auto at = head.find("Content-Length: "); at != std::string::npos) length = std::stoul(head.substr(at + 16));
    while (in.size() < length) {
      auto [rec, m] = co_await s.async_read_some(in.prepare(length - in.size()), use_nothrow);
      if (rec) co_return;
      in.commit(m);
    }
    in.consume(length);
    auto [wec, w] = co_await net::async_write(s, net::buffer(*answer), use_nothrow);
    if (wec) co_return;
  }
}

int big_backend(std::size_t bytes) {
  net::io_context ioc(1);
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  auto answer = std::make_shared<std::string>(
      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
      "Content-Length: " +
      std::to_string(bytes) + "\r\n\r\n");
  answer->append(bytes, 'x');
  std::printf("big_backend listening on 127.0.0.1:%u\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  net::co_spawn(
      ioc,
      [&]() -> net::awaitable<void> {
        for (;;) {
          auto [ec, s] = co_await acceptor.async_accept(use_nothrow);
          if (ec) co_return;
          net::co_spawn(ioc, serve_big(std::move(s), answer), net::detached);
        }
      },
      net::detached);
  net::signal_set stop(ioc, SIGINT, SIGTERM);
  stop.async_wait([&](auto, int) { ioc.stop(); });
  ioc.run();
  return 0;
}

std::string joined(const std::map<std::string, long>& m) {
  std::string out;
  for (const auto& [k, v] : m) out += (out.empty() ? "" : ",") + k + ":" + std::to_string(v);
  return out.empty() ? "-" : out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string_view(argv[1]) == "big_backend") return big_backend(std::stoul(argv[2]));
  if (argc != 7) {
    std::fprintf(stderr,
                 "usage: attacker slowloris|body_trickle|slow_reader|flood|garbage <ip> <port> <host> "
                 "<connections> <seconds>\n       attacker big_backend <bytes>\n");
    return 2;
  }
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }
  attack a;
  a.mode = argv[1];
  a.server = tcp::endpoint(net::ip::make_address(argv[2]), static_cast<unsigned short>(std::stoul(argv[3])));
  a.host = argv[4];
  const int connections = std::stoi(argv[5]);
  a.until = std::chrono::steady_clock::now() + std::chrono::seconds(std::stoi(argv[6]));
  net::io_context ioc(1);
  for (int i = 0; i < connections; ++i) net::co_spawn(ioc, attacker_loop(a), net::detached);
  // Connections still waiting on the proxy at the end are simply dropped.
  net::steady_timer end(ioc, a.until);
  end.async_wait([&](auto) { ioc.stop(); });
  ioc.run();
  std::printf("attacker %s: opened=%ld ended=%ld answers=%s errors=%s\n", a.mode.c_str(), a.t.opened, a.t.ended,
              joined(a.t.answers).c_str(), joined(a.t.errors).c_str());
  return 0;
}
