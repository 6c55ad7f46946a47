// container_start: how long a container takes to listen, started by podman directly, and
// how long a cold request takes through the proxy (bench/containers.sh drives it).
//
//   container_start direct RUNS PORT_PLACEHOLDER_ARGV…
//       RUNS times: picks a free loopback port, replaces every "{PORT}" and "{NAME}" in
//       the argv, starts it (as the proxy starts `podman run`: attached, a child), and
//       connects to 127.0.0.1:PORT every 200 µs until one succeeds. Prints one line per
//       run, "run <i> listen_ms <ms>", then removes the container (`podman rm -f {NAME}`).
//   container_start precreated RUNS CREATE_ARGV… -- START_ARGV…
//       The same, but the container is created first (not timed), and the time runs from
//       `podman start` on. Prints "run <i> listen_ms <ms>".
//   container_start port
//       Prints a free loopback port.
//   container_start request PROXY_PORT HOST
//       One POST / to 127.0.0.1:PROXY_PORT with that Host; prints "sent_us <unix µs>
//       answered_us <unix µs> total_ms <ms> status <code> listening_us <µs> received_us <µs>"
//       (the last two from the greeter's x-greeter-listening-at-us and -received-at-us).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool connects(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::vector<std::string> substitute(std::vector<std::string> argv, const std::string& port, const std::string& name) {
  for (auto& a : argv) {
    for (auto at = a.find("{PORT}"); at != std::string::npos; at = a.find("{PORT}")) a.replace(at, 6, port);
    for (auto at = a.find("{NAME}"); at != std::string::npos; at = a.find("{NAME}")) a.replace(at, 6, name);
  }
  return argv;
}

pid_t spawn(const std::vector<std::string>& argv, bool quiet) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (quiet) {
      std::freopen("/dev/null", "w", stdout);
      std::freopen("/dev/null", "w", stderr);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

int run_to_end(const std::vector<std::string>& argv) {
  pid_t pid = spawn(argv, true);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

void remove_container(const std::string& name) { run_to_end({"podman", "rm", "--force", "--time", "0", name}); }

// Time from `start` until 127.0.0.1:port accepts, capped at 60 s; -1 on timeout.
double until_listening(std::uint16_t port, clock_type::time_point start) {
  while (clock_type::now() - start < std::chrono::seconds(60)) {
    if (connects(port)) return std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return -1;
}

// RUNS starts of `start` (after `create`, untimed, when given), each timed until it listens.
int time_starts(int runs, const std::vector<std::string>& create, const std::vector<std::string>& start) {
  for (int i = 0; i < runs; ++i) {
    const auto port = std::to_string(free_port());
    const auto name = "ignite-bench-" + std::to_string(::getpid()) + "-" + std::to_string(i);
    if (!create.empty() && run_to_end(substitute(create, port, name)) != 0) {
      std::fprintf(stderr, "container_start: %s failed\n", create[0].c_str());
      return 1;
    }
    const auto began = clock_type::now();
    pid_t pid = spawn(substitute(start, port, name), true);
    double ms = until_listening(static_cast<std::uint16_t>(std::stoi(port)), began);
    std::printf("run %d listen_ms %.2f\n", i, ms);
    std::fflush(stdout);
    remove_container(name);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  return 0;
}

long long unix_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int request(std::uint16_t port, const std::string& host) {
  const std::string body = R"({"name":"bench"})";
  const std::string req = "POST / HTTP/1.1\r\nHost: " + host +
                          "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\nConnection: close\r\n\r\n" + body;
  const auto sent = unix_us();
  const auto start = clock_type::now();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("connect");
    return 1;
  }
  (void)!::write(fd, req.data(), req.size());
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
  const auto answered = unix_us();
  ::close(fd);
  int status = answer.size() > 12 ? std::atoi(answer.c_str() + 9) : 0;
  // The greeter stamps when it began listening and when the request reached it (Unix µs).
  auto header = [&](const std::string& name) -> long long {
    auto at = answer.find("\r\n" + name + ": ");
    return at == std::string::npos ? 0 : std::atoll(answer.c_str() + at + name.size() + 4);
  };
  std::printf("sent_us %lld answered_us %lld total_ms %.2f status %d listening_us %lld received_us %lld\n", sent,
              answered, std::chrono::duration<double, std::milli>(clock_type::now() - start).count(), status,
              header("x-greeter-listening-at-us"), header("x-greeter-received-at-us"));
  return status == 200 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "port") {
    std::printf("%u\n", free_port());
    return 0;
  }
  if (argc < 3) {
    std::fprintf(stderr, "usage: container_start direct|precreated|request … (see the source)\n");
    return 2;
  }
  std::string mode = argv[1];
  if (mode == "request" && argc == 4) return request(static_cast<std::uint16_t>(std::atoi(argv[2])), argv[3]);
  int runs = std::atoi(argv[2]);
  std::vector<std::string> rest(argv + 3, argv + argc);
  if (mode == "direct") return time_starts(runs, {}, rest);
  if (mode == "precreated") {
    std::vector<std::string> create, start;
    bool second = false;
    for (auto& a : rest) {
      if (a == "--") {
        second = true;
        continue;
      }
      (second ? start : create).push_back(a);
    }
    return time_starts(runs, create, start);
  }
  std::fprintf(stderr, "container_start: unknown mode %s\n", mode.c_str());
  return 2;
}
