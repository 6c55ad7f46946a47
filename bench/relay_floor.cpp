// relay_floor: the least a proxy can do, to measure how fast any proxy could be on this
// machine. Each client connection gets its own connection to the backend and bytes are
// copied both ways as they come: no parsing, no routing, no headers, no log, no timeouts.
// One thread, edge-triggered epoll, and the fewest syscalls a relay needs: one recv and
// one send per message each way (a read that returns less than it asked for drained the
// socket, as nginx assumes, so no read waits on EAGAIN), epoll_wait shared by all.
// A real proxy does all this and its job besides; bench/run.sh runs this beside the
// proxies under test so that their figures can be read against that floor.
//
//   relay_floor BACKEND_PORT [PORT]     (PORT: default 0 = any free port)
//
// Prints "relay_floor listening on 127.0.0.1:PORT" once it accepts; stops on
// SIGINT/SIGTERM. Not for anything but a benchmark on loopback.
#include "loopback.hpp"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

constexpr const char* k_name = "relay_floor";
constexpr std::size_t k_read_size = 64 * 1024;

// One side of a relayed pair: its socket, its partner, and bytes for it that its socket
// did not take yet.
struct side {
  int fd = -1;
  side* peer = nullptr;
  std::string pending;
  bool closed = false;
};

class relay {
 public:
  relay(int listen_fd, int signal_fd, std::uint16_t backend_port)
      : listen_fd_(listen_fd), signal_fd_(signal_fd), backend_port_(backend_port) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) bench::die(k_name, "epoll_create1");
    add(listen_fd_, EPOLLIN, nullptr);
    add(signal_fd_, EPOLLIN, &signal_marker_);
  }

  void run() {
    std::array<epoll_event, 256> events;
    for (;;) {
      const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) bench::die(k_name, "epoll_wait");
      for (int i = 0; i < n; ++i) {
        auto* s = static_cast<side*>(events[i].data.ptr);
        if (s == &signal_marker_) return;
        if (!s)
          accept_all();
        else if (!s->closed)
          on_ready(*s, events[i].events);
      }
      // Pairs closed in this batch are freed only now: a later event of the batch may
      // name either side.
      for (auto* s : closed_) delete s;
      closed_.clear();
    }
  }

 private:
  void add(int fd, std::uint32_t events, side* s) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = s;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) bench::die(k_name, "epoll_ctl");
  }

  int connect_backend() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(backend_port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Blocking, once per client connection: on loopback it completes at once.
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  void accept_all() {
    for (;;) {
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (client < 0) return;  // EAGAIN: backlog drained
      const int backend = connect_backend();
      if (backend < 0) {
        ::close(client);
        continue;
      }
      const int one = 1;
      for (int fd : {client, backend}) ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      const int flags = ::fcntl(backend, F_GETFL);
      ::fcntl(backend, F_SETFL, flags | O_NONBLOCK);
      auto* a = new side;
      auto* b = new side;
      a->fd = client;
      b->fd = backend;
      a->peer = b;
      b->peer = a;
      add(client, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, a);
      add(backend, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, b);
    }
  }

  void on_ready(side& s, std::uint32_t events) {
    if ((events & EPOLLOUT) && !s.pending.empty() && !flush(s)) return close_pair(s);
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && !pass_on(s, events)) return close_pair(s);
  }

  // Reads what `s` has and sends it to its peer. False: the pair is over.
  bool pass_on(side& s, std::uint32_t events) {
    for (;;) {
      const ssize_t n = ::recv(s.fd, buffer_.data(), buffer_.size(), 0);
      if (n == 0) return false;
      if (n < 0) return errno == EAGAIN || errno == EINTR;
      if (!send_to(*s.peer, buffer_.data(), static_cast<std::size_t>(n))) return false;
      // Less than asked for: the socket is empty until its next event (unless its peer's
      // FIN is waiting behind the bytes: then read on, to see it).
      if (static_cast<std::size_t>(n) < buffer_.size() && !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return true;
    }
  }

  bool send_to(side& to, const char* data, std::size_t size) {
    if (!to.pending.empty()) {
      to.pending.append(data, size);
      return true;
    }
    const ssize_t n = ::send(to.fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) return false;
    const auto sent = n < 0 ? std::size_t{0} : static_cast<std::size_t>(n);
    if (sent < size) to.pending.append(data + sent, size - sent);  // sent on its EPOLLOUT
    return true;
  }

  bool flush(side& s) {
    const ssize_t n = ::send(s.fd, s.pending.data(), s.pending.size(), MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN;
    s.pending.erase(0, static_cast<std::size_t>(n));
    return true;
  }

  void close_pair(side& s) {
    for (side* x : {&s, s.peer}) {
      if (x->closed) continue;
      x->closed = true;
      ::close(x->fd);
      closed_.push_back(x);
    }
  }

  int listen_fd_;
  int signal_fd_;
  std::uint16_t backend_port_;
  int epoll_fd_ = -1;
  side signal_marker_;
  std::vector<side*> closed_;
  std::array<char, k_read_size> buffer_{};
};

}  // namespace

int main(int argc, char** argv) {
  const long backend_port = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 0;
  const long port = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 0;
  if (backend_port <= 0 || backend_port > 65535 || port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: relay_floor BACKEND_PORT [PORT]   (PORT 0 picks a free port)\n");
    return 2;
  }
  const int signal_fd = bench::stop_signal_fd();
  const int listen_fd = bench::listen_on_loopback(k_name, static_cast<std::uint16_t>(port));
  relay r(listen_fd, signal_fd, static_cast<std::uint16_t>(backend_port));
  std::printf("relay_floor listening on 127.0.0.1:%u\n", unsigned{bench::bound_port(listen_fd)});
  std::fflush(stdout);
  r.run();
  return 0;
}
