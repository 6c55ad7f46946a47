#include "coldstart/process_provider.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <filesystem>

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "coldstart/readiness_probe.hpp"
#include "common/executable.hpp"

extern char** environ;

namespace ignite::coldstart {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t k_max_line = 4096;
// After the process is gone, how long its output pipes may take to reach EOF (a
// grandchild may hold them open) before the exit is reported without the rest.
constexpr auto k_output_linger = std::chrono::milliseconds(200);

// A free loopback port: bound and released; the pod binds it a moment later.
std::uint16_t free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    return "was killed by signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : "");
  }
  return "ended with wait status " + std::to_string(status);
}

}  // namespace

struct process_provider::child {
  child(net::io_context& ctx, pod_id id, pod_spec spec, pod_events* events)
      : id(id),
        spec(std::move(spec)),
        events(events),
        pidfd(ctx),
        out(ctx),
        err(ctx),
        kill_timer(ctx),
        linger_timer(ctx) {}

  pod_id id;
  pod_spec spec;
  pod_events* events;
  pid_t pid = -1;
  std::uint16_t port = 0;
  net::posix::stream_descriptor pidfd;
  net::posix::stream_descriptor out;
  net::posix::stream_descriptor err;
  net::steady_timer kill_timer;
  net::steady_timer linger_timer;
  std::shared_ptr<readiness_probe> probe;
  std::string partial[2];
  std::deque<std::string> tail;
  char buffer[2][4096];
  int status = 0;
  bool exited = false;
  bool eof[2] = {false, false};
  bool reported = false;
  bool stopping = false;
};

process_provider::process_provider(net::io_context& ctx, std::function<void(const pod_output&)> sink,
                                   std::chrono::milliseconds stop_grace, bool port_placeholder)
    : ctx_(ctx), sink_(std::move(sink)), stop_grace_(stop_grace), port_placeholder_(port_placeholder) {}

process_provider::~process_provider() {
  for (auto& [id, c] : children_) {
    if (c->exited || c->pid <= 0) continue;
    ::kill(-c->pid, SIGKILL);
    ::waitpid(c->pid, nullptr, 0);
  }
}

void process_provider::start(pod_id id, const pod_spec& spec, pod_events& events) {
  net::post(ctx_, [this, id, spec, events = &events] { launch(id, spec, *events); });
}

void process_provider::launch(pod_id id, const pod_spec& spec, pod_events& events) {
  auto c = std::make_shared<child>(ctx_, id, spec, &events);
  auto fail = [&](const std::string& cause) { events.on_exit(id, {cause, {}, "could not be started", -1, false}); };

  std::string why;
  auto executable = common::find_executable(spec.command.at(0), why);
  if (executable.empty()) return fail("could not start: " + spec.command[0] + " " + why);
  c->port = free_loopback_port();
  if (!c->port) return fail("could not start: no free loopback port");

  // Everything the child needs is built before fork().
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string_view kv = *e;
    if (kv.starts_with("PORT=") || kv.starts_with("IGNITE_APP_ID=") || kv.starts_with("IGNITE_VERSION=")) continue;
    env_strings.emplace_back(kv);
  }
  env_strings.push_back("PORT=" + std::to_string(c->port));
  env_strings.push_back("IGNITE_APP_ID=" + spec.app_id);
  env_strings.push_back("IGNITE_VERSION=" + spec.version);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = spec.command;
  if (port_placeholder_) {
    const auto port = std::to_string(c->port);
    for (auto& a : args)
      for (auto at = a.find("{PORT}"); at != std::string::npos; at = a.find("{PORT}", at + port.size()))
        a.replace(at, 6, port);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return fail(std::string("could not start: pipe: ") + std::strerror(errno));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return fail(std::string("could not start: pipe: ") + std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the proxy died before prctl took effect
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    // Dispositions the proxy set (SIGPIPE ignored) and its signal mask must not leak.
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(executable.c_str(), argv.data(), envp.data());
    const char msg[] = "exec failed\n";
    (void)!::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid < 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return fail(std::string("could not start: fork: ") + std::strerror(errno));
  }
  ::setpgid(pid, pid);  // also here: kill(-pid) must work even before the child ran
  c->pid = pid;
  c->out.assign(out_pipe[0]);
  c->err.assign(err_pipe[0]);
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) c->pidfd.assign(pidfd);
  children_[id] = c;

  read_output(c, false);
  read_output(c, true);
  watch_exit(c);
  start_probe(c);
}

void process_provider::start_probe(const std::shared_ptr<child>& c) {
  if (c->probe) c->probe->cancel();
  // weak: the probe must not keep its pod's record alive after the pod is gone.
  c->probe = std::make_shared<readiness_probe>(
      ctx_, tcp::endpoint(net::ip::address_v4::loopback(), c->port), [w = std::weak_ptr<child>(c)] {
        if (auto c = w.lock(); c && !c->exited)
          c->events->on_ready(c->id, tcp::endpoint(net::ip::address_v4::loopback(), c->port));
      });
  c->probe->start();
}

void process_provider::read_output(const std::shared_ptr<child>& c, bool is_stderr) {
  auto& stream = is_stderr ? c->err : c->out;
  auto& buf = c->buffer[is_stderr];
  stream.async_read_some(net::buffer(buf), [this, c, is_stderr](boost::system::error_code ec, std::size_t n) {
    auto& partial = c->partial[is_stderr];
    auto emit = [&](std::string_view line) {
      if (sink_) sink_({c->spec, c->id, is_stderr ? "stderr" : "stdout", line});
      if (is_stderr) {
        c->tail.emplace_back(line);
        if (c->tail.size() > k_stderr_tail_lines) c->tail.pop_front();
      }
    };
    std::string_view data(c->buffer[is_stderr], n);
    while (!data.empty()) {
      auto nl = data.find('\n');
      if (nl == std::string_view::npos) {
        partial.append(data.substr(0, k_max_line - std::min(k_max_line, partial.size())));
        break;
      }
      partial.append(data.substr(0, std::min(nl, k_max_line - std::min(k_max_line, partial.size()))));
      emit(partial);
      partial.clear();
      data.remove_prefix(nl + 1);
    }
    if (ec) {
      if (!partial.empty()) emit(partial);
      partial.clear();
      c->eof[is_stderr] = true;
      if (c->exited && c->eof[0] && c->eof[1]) report_exit(c);
      return;
    }
    read_output(c, is_stderr);
  });
}

void process_provider::watch_exit(const std::shared_ptr<child>& c) {
  c->pidfd.async_wait(net::posix::stream_descriptor::wait_read, [this, c](boost::system::error_code ec) {
    if (ec == net::error::operation_aborted) return;
    int status = 0;
    pid_t r = ::waitpid(c->pid, &status, WNOHANG);
    if (r == 0) return watch_exit(c);  // spurious wake-up
    c->exited = true;
    c->status = status;
    c->kill_timer.cancel();
    if (c->probe) c->probe->cancel();
    if (c->eof[0] && c->eof[1]) return report_exit(c);
    c->linger_timer.expires_after(k_output_linger);
    c->linger_timer.async_wait([this, c](boost::system::error_code) { report_exit(c); });
  });
}

void process_provider::report_exit(const std::shared_ptr<child>& c) {
  if (c->reported) return;
  c->reported = true;
  c->linger_timer.cancel();
  boost::system::error_code ignored;
  c->out.close(ignored);
  c->err.close(ignored);
  c->pidfd.close(ignored);
  if (c->probe) c->probe->cancel();
  c->probe.reset();
  children_.erase(c->id);
  const auto status = describe_status(c->status);
  pod_exit how{c->stopping ? "was stopped (" + status + ")" : status,
               {c->tail.begin(), c->tail.end()},
               c->stopping ? "was stopped" : status,
               WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1};
  c->events->on_exit(c->id, how);
}

void process_provider::probe(pod_id id) {
  net::post(ctx_, [this, id] {
    auto it = children_.find(id);
    if (it == children_.end() || it->second->exited) return;
    start_probe(it->second);
  });
}

void process_provider::stop(pod_id id) {
  net::post(ctx_, [this, id] {
    auto it = children_.find(id);
    if (it == children_.end() || it->second->exited || it->second->stopping) return;
    auto c = it->second;
    c->stopping = true;
    if (c->probe) c->probe->cancel();
    ::kill(-c->pid, SIGTERM);
    c->kill_timer.expires_after(stop_grace_);
    c->kill_timer.async_wait([c](boost::system::error_code ec) {
      if (!ec && !c->exited) ::kill(-c->pid, SIGKILL);
    });
  });
}

}  // namespace ignite::coldstart
