// bench_backend: the fastest honest upstream we can put behind a proxy under test.
// One thread, epoll, HTTP/1.1 keep-alive and pipelining; every request gets the same
// small 200 answer, so the benchmark measures the proxy, not the app.
//
//   bench_backend [port]      (or PORT=...; default 0 = any free port)
//
// Prints "bench_backend listening on 127.0.0.1:PORT" on stdout once it accepts, and
// "bench_backend served N requests on M connections" when SIGINT/SIGTERM stops it.
#include "loopback.hpp"
#include "request_framer.hpp"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view k_response =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 26\r\n"
    "\r\n"
    "{\"greeting\":\"Hello, ada!\"}";
constexpr std::string_view k_bad_request = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
// A client that pipelines faster than it reads gets no more reads until it catches up.
constexpr std::size_t k_max_pending_output = 1 << 20;

struct connection {
  bench::request_framer framer;
  std::string output;    // answers not yet accepted by the socket
  bool closing = false;  // close once output is flushed
  bool want_write = false;
};

[[noreturn]] void die(const char* what) { bench::die("bench_backend", what); }

// The single-threaded event loop; connections are indexed by their fd.
class server {
 public:
  server(int listen_fd, int signal_fd) : listen_fd_{listen_fd}, signal_fd_{signal_fd} {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) die("epoll_create1");
    watch(listen_fd_, EPOLLIN, EPOLL_CTL_ADD);
    watch(signal_fd_, EPOLLIN, EPOLL_CTL_ADD);
  }

  void run() {
    std::array<epoll_event, 256> events;
    for (;;) {
      const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) die("epoll_wait");
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == signal_fd_) return;
        if (fd == listen_fd_)
          accept_all();
        else
          on_ready(fd, events[i].events);
      }
    }
  }

  std::uint64_t requests() const { return requests_; }
  std::uint64_t connections() const { return connections_; }

 private:
  void watch(int fd, std::uint32_t events, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, op, fd, &ev) < 0) die("epoll_ctl");
  }

  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN: backlog drained; EMFILE: retried on the next wakeup
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (static_cast<std::size_t>(fd) >= connections_by_fd_.size()) connections_by_fd_.resize(fd + 1);
      connections_by_fd_[fd] = std::make_unique<connection>();
      ++connections_;
      watch(fd, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD);
    }
  }

  void on_ready(int fd, std::uint32_t events) {
    connection& c = *connections_by_fd_[fd];
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && !c.closing && !read_from(fd, c))
      return close_connection(fd);
    if (!flush(fd, c)) return close_connection(fd);
  }

  // Reads what is there and queues one answer per completed request. False: the peer
  // is gone (or sent something unframeable and got its 400 queued, see closing).
  bool read_from(int fd, connection& c) {
    std::array<char, 64 * 1024> buf;
    while (c.output.size() < k_max_pending_output) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n == 0) return false;
      if (n < 0) return errno == EAGAIN || errno == EINTR;
      const auto r = c.framer.feed({buf.data(), static_cast<std::size_t>(n)});
      for (std::size_t i = 0; i < r.requests; ++i) c.output.append(k_response);
      requests_ += r.requests;
      if (r.malformed) c.output.append(k_bad_request);
      if (r.close || r.malformed) {
        c.closing = true;
        return true;
      }
    }
    return true;
  }

  // Writes queued answers; waits for EPOLLOUT only while some are left over.
  bool flush(int fd, connection& c) {
    std::size_t sent = 0;
    while (sent < c.output.size()) {
      const ssize_t n = ::write(fd, c.output.data() + sent, c.output.size() - sent);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    c.output.erase(0, sent);
    if (c.output.empty() && c.closing) return false;
    const bool want_write = !c.output.empty();
    if (want_write != c.want_write) {
      c.want_write = want_write;
      watch(fd, want_write ? EPOLLOUT | EPOLLRDHUP : EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
    }
    return true;
  }

  void close_connection(int fd) {
    ::close(fd);  // also removes it from the epoll set
    connections_by_fd_[fd].reset();
  }

  int listen_fd_;
  int signal_fd_;
  int epoll_fd_;
  std::vector<std::unique_ptr<connection>> connections_by_fd_;
  std::uint64_t requests_ = 0;
  std::uint64_t connections_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const char* port_text = argc > 1 ? argv[1] : std::getenv("PORT");
  const long port = port_text ? std::strtol(port_text, nullptr, 10) : 0;
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: bench_backend [port]   (or PORT=...; 0 picks a free port)\n");
    return 2;
  }

  // Signals arrive as readable events, so stopping is just another turn of the loop.
  const int signal_fd = bench::stop_signal_fd();

  const int listen_fd = bench::listen_on_loopback("bench_backend", static_cast<std::uint16_t>(port));
  server s{listen_fd, signal_fd};
  std::printf("bench_backend listening on 127.0.0.1:%u\n", unsigned{bench::bound_port(listen_fd)});
  std::fflush(stdout);
  s.run();
  std::printf("bench_backend served %llu requests on %llu connections\n", static_cast<unsigned long long>(s.requests()),
              static_cast<unsigned long long>(s.connections()));
  return 0;
}
