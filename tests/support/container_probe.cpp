// container_probe: a tiny static program for FROM-scratch test images, each mode one
// behaviour a container test needs from the app inside:
//
//   container_probe connect HOST PORT   one TCP connect to HOST (an IPv4 address: a scratch
//                                       image resolves no names), capped at 1 s; prints
//                                       "connected", "refused", "timeout" or
//                                       "error: <why>"; exits 0 only if connected
//   container_probe fail CODE MESSAGE   MESSAGE on stderr, exit CODE (an app that dies
//                                       before it listens)
//   container_probe idle                never listens; exits 0 on SIGTERM or SIGINT (an app
//                                       that is running but never ready)
//
// Linked -static: no libc or libstdc++ to find in the image. POSIX calls only.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

constexpr int k_connect_cap_ms = 1000;

constexpr const char* k_usage = "usage: container_probe connect HOST PORT | fail CODE MESSAGE | idle\n";

int usage() {
  std::fputs(k_usage, stderr);
  return 2;
}

// Prints what happened and returns the exit code: 0 only for "connected".
int report(const char* outcome, int code) {
  std::printf("%s\n", outcome);
  std::fflush(stdout);
  return code;
}

int connect_mode(const char* host, const char* port_text) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (::inet_pton(AF_INET, host, &addr.sin_addr) != 1) return usage();
  char* end = nullptr;
  const long port = std::strtol(port_text, &end, 10);
  if (*port_text == '\0' || *end != '\0' || port <= 0 || port > 65535) return usage();
  addr.sin_port = htons(static_cast<std::uint16_t>(port));

  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return report((std::string("error: socket: ") + std::strerror(errno)).c_str(), 1);
  // Non-blocking, so that the cap is ours and not the kernel's SYN retries (two minutes).
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  int err = rc == 0 ? 0 : errno;
  if (rc != 0 && err == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    do rc = ::poll(&p, 1, k_connect_cap_ms);
    while (rc < 0 && errno == EINTR);
    if (rc == 0) {
      ::close(fd);
      return report("timeout", 1);
    }
    socklen_t len = sizeof err;
    if (rc < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  }
  ::close(fd);
  if (err == 0) return report("connected", 0);
  if (err == ECONNREFUSED) return report("refused", 1);
  if (err == ETIMEDOUT) return report("timeout", 1);
  return report((std::string("error: ") + std::strerror(err)).c_str(), 1);
}

int fail_mode(const char* code_text, const char* message) {
  char* end = nullptr;
  const long code = std::strtol(code_text, &end, 10);
  if (*code_text == '\0' || *end != '\0' || code < 0 || code > 255) return usage();
  std::fprintf(stderr, "%s\n", message);
  std::fflush(stderr);
  return static_cast<int>(code);
}

// As PID 1 in a container a signal with no handler is ignored: wait for it explicitly.
int idle_mode() {
  sigset_t set;
  ::sigemptyset(&set);
  ::sigaddset(&set, SIGTERM);
  ::sigaddset(&set, SIGINT);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  std::fprintf(stderr, "container_probe: idle, not listening\n");
  std::fflush(stderr);
  int sig = 0;
  while (::sigwait(&set, &sig) != 0) {
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string_view mode = argv[1];
  if (mode == "--help" || mode == "-h") {
    std::fputs(k_usage, stdout);
    return 0;
  }
  if (mode == "connect" && argc == 4) return connect_mode(argv[2], argv[3]);
  if (mode == "fail" && argc == 4) return fail_mode(argv[2], argv[3]);
  if (mode == "idle" && argc == 2) return idle_mode();
  return usage();
}
