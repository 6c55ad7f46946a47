#pragma once
// What the bench's own epoll servers (bench_backend, relay_floor) share: a listener on
// loopback and a descriptor that turns SIGINT/SIGTERM into a readable event.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace bench {

[[noreturn]] inline void die(const char* program, const char* what) {
  std::fprintf(stderr, "%s: %s: %s\n", program, what, std::strerror(errno));
  std::exit(1);
}

// A non-blocking listener on 127.0.0.1:`port` (0: any free port); exits on failure.
inline int listen_on_loopback(const char* program, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die(program, "socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only: these are benchmark toys
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) die(program, "bind");
  if (::listen(fd, SOMAXCONN) < 0) die(program, "listen");
  return fd;
}

inline std::uint16_t bound_port(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

// SIGINT and SIGTERM, blocked and delivered as reads of the returned descriptor, so that
// stopping is one more turn of the event loop. SIGPIPE is ignored: a peer that left
// mid-write is an error code, not a death.
inline int stop_signal_fd() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return ::signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
}

}  // namespace bench
