// burst: N requests at once at one app, for the cold-start benchmark. Connects all N
// first, then sends every request in the same instant and reads every answer.
//
//   burst <ip> <port> <host-header> [requests=1000]
//
// Prints one line of `key=value` pairs: answers by status, how many were cold starts,
// how many distinct pods answered (the greeter stamps x-greeter-listening-at-us, which
// differs per pod), when the first pod started listening (its stamp, counted from the
// send instant on the same wall clock; negative for a pod already up), and the time from
// the send to the first and the last answer. The last answer minus listening_ms is how
// long the proxy took to drain its hold queue into the pod.
// Exit code 0 only if every request got a 200.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using net::ip::tcp;
using clock_type = std::chrono::steady_clock;

constexpr auto k_use = net::as_tuple(net::use_awaitable);

// Wall-clock microseconds since the Unix epoch, as the greeter stamps its answers.
std::int64_t unix_micros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

struct results {
  std::map<unsigned, int> by_status;
  std::map<std::string, int> errors;
  std::set<std::string> pods;
  std::int64_t first_listening_us = 0;  // the earliest x-greeter-listening-at-us seen, Unix µs
  int cold = 0;
  std::vector<double> answered_ms;  // after the common send instant
};

struct shared_run {
  int connected = 0;
  int total = 0;
  net::steady_timer go;  // cancelled when every connection is up: the common instant
  clock_type::time_point sent_at;
  std::int64_t sent_at_unix_us = 0;  // the same instant on the wall clock the greeter stamps with
  results r;
  explicit shared_run(net::io_context& ctx) : go(ctx, clock_type::time_point::max()) {}
};

net::awaitable<void> one(tcp::endpoint server, std::string request, std::shared_ptr<shared_run> run) {
  auto ex = co_await net::this_coro::executor;
  tcp::socket socket(ex);
  auto [ec] = co_await socket.async_connect(server, k_use);
  if (++run->connected == run->total) run->go.cancel();
  if (ec) {
    ++run->r.errors["connect: " + ec.message()];
    co_return;
  }
  if (run->connected < run->total) co_await run->go.async_wait(k_use);
  if (run->sent_at == clock_type::time_point{}) {
    run->sent_at = clock_type::now();
    run->sent_at_unix_us = unix_micros();
  }
  auto [wec, n] = co_await net::async_write(socket, net::buffer(request), k_use);
  if (wec) {
    ++run->r.errors["write: " + wec.message()];
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  auto [rec, m] = co_await http::async_read(socket, buffer, parser, k_use);
  if (rec) {
    ++run->r.errors["read: " + rec.message()];
    co_return;
  }
  auto& res = parser.get();
  run->r.answered_ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - run->sent_at).count());
  ++run->r.by_status[res.result_int()];
  if (res["x-ignite-cold-start"] == "true") ++run->r.cold;
  if (auto pod = res["x-greeter-listening-at-us"]; !pod.empty()) {
    run->r.pods.emplace(pod);
    std::int64_t at = 0;
    if (std::from_chars(pod.data(), pod.data() + pod.size(), at).ec == std::errc{} &&
        (run->r.first_listening_us == 0 || at < run->r.first_listening_us))
      run->r.first_listening_us = at;
  }
}

// Every request is a connection: raise the soft descriptor limit to the hard one, so a
// shell's default of 1024 does not cut a burst of 1000 short.
void raise_descriptor_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: burst <ip> <port> <host-header> [requests=1000]\n");
    return 2;
  }
  tcp::endpoint server(net::ip::make_address(argv[1]), static_cast<unsigned short>(std::stoi(argv[2])));
  const int n = argc > 4 ? std::stoi(argv[4]) : 1000;
  raise_descriptor_limit();
  const std::string body = R"({"name":"ada"})";
  const std::string request = "POST / HTTP/1.1\r\nHost: " + std::string(argv[3]) +
                              "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                              "\r\nConnection: close\r\n\r\n" + body;
  net::io_context ctx(1);
  auto run = std::make_shared<shared_run>(ctx);
  run->total = n;
  for (int i = 0; i < n; ++i) net::co_spawn(ctx, one(server, request, run), net::detached);
  ctx.run();

  auto& r = run->r;
  std::sort(r.answered_ms.begin(), r.answered_ms.end());
  auto at = [&](double q) {
    return r.answered_ms.empty() ? 0.0 : r.answered_ms[static_cast<std::size_t>(q * (r.answered_ms.size() - 1))];
  };
  // Before last_ms: the scripts read what follows last_ms as the requests not served.
  std::printf("requests=%d ok=%d cold=%d pods=%zu", n, r.by_status[200], r.cold, r.pods.size());
  if (r.first_listening_us != 0)
    std::printf(" listening_ms=%.1f", static_cast<double>(r.first_listening_us - run->sent_at_unix_us) / 1000.0);
  std::printf(" first_ms=%.1f p50_ms=%.1f last_ms=%.1f", at(0), at(0.5), at(1));
  for (auto& [status, count] : r.by_status)
    if (status != 200) std::printf(" status_%u=%d", status, count);
  for (auto& [what, count] : r.errors) std::printf(" error[%s]=%d", what.c_str(), count);
  std::printf("\n");
  return r.by_status[200] == n ? 0 : 1;
}
