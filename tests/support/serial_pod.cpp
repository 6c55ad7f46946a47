// serial_pod: a careless app, like Python's http.server: one thread, one connection at a
// time, a small listen backlog, HTTP/1.0-style answers that close the connection. It
// listens on $PORT (or argv[1]) with a backlog of $SERIAL_POD_BACKLOG (default 5) and
// answers every request 200 "ok" after $SERIAL_POD_WORK_US microseconds (default 1000)
// of work. Used by the burst tests and by bench/backlog.sh.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtol(v, nullptr, 10) : fallback;
}

// Reads one request (head, then Content-Length bytes); false if the peer went away.
bool read_request(int fd) {
  std::string data;
  char buf[4096];
  std::size_t head_end = std::string::npos;
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    data.append(buf, static_cast<std::size_t>(n));
  }
  std::size_t length = 0;
  for (std::size_t at = 0; (at = data.find('\n', at)) != std::string::npos && at < head_end; ++at) {
    if (strncasecmp(data.c_str() + at + 1, "content-length:", 15) == 0)
      length = std::strtoul(data.c_str() + at + 16, nullptr, 10);
  }
  while (data.size() < head_end + 4 + length) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    data.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  const long port = argc > 1 ? std::strtol(argv[1], nullptr, 10) : env_or("PORT", 0);
  const int backlog = static_cast<int>(env_or("SERIAL_POD_BACKLOG", 5));
  const auto work = std::chrono::microseconds(env_or("SERIAL_POD_WORK_US", 1000));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, backlog) != 0) {
    std::perror("serial_pod: listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::printf("serial_pod listening on 127.0.0.1:%u backlog %d\n", ntohs(addr.sin_port), backlog);
  std::fflush(stdout);
  static constexpr char k_answer[] = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  for (;;) {
    int c = ::accept(fd, nullptr, nullptr);
    if (c < 0) continue;
    if (read_request(c)) {
      std::this_thread::sleep_for(work);  // the app's own work
      (void)!::write(c, k_answer, sizeof k_answer - 1);
    }
    ::close(c);
  }
}
