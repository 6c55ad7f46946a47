#include "coldstart/command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/executable.hpp"

extern char** environ;

namespace ignite::coldstart {

namespace net = boost::asio;

bool command_result::ok() const noexcept { return !timed_out && status == 0; }

int command_result::exit_code() const noexcept { return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

std::string command_result::describe() const {
  if (timed_out) return "timed out";
  if (status < 0) return "could not run: " + err;
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

namespace {

struct pipe_pair {
  int read = -1;
  int write = -1;
};

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// A started program: its pid and the parent's ends of its pipes. pid -1 and `error`
// set if it could not start.
struct spawned {
  pid_t pid = -1;
  int in = -1;  // -1 when there is no input: the child reads /dev/null
  int out = -1;
  int err = -1;
  std::string error;
};

spawned spawn(const std::vector<std::string>& argv, bool with_input) {
  spawned s;
  std::string why;
  auto path = argv.empty() ? std::string() : common::find_executable(argv[0], why);
  if (path.empty()) {
    s.error = argv.empty() ? "no command" : argv[0] + " " + why;
    return s;
  }
  pipe_pair in, out, err;
  auto make = [&](pipe_pair& p) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    p = {fds[0], fds[1]};
    return true;
  };
  auto close_all = [&] {
    for (auto* p : {&in, &out, &err}) {
      close_fd(p->read);
      close_fd(p->write);
    }
  };
  if ((with_input && !make(in)) || !make(out) || !make(err)) {
    s.error = std::string("pipe: ") + std::strerror(errno);
    close_all();
    return s;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (with_input)
    posix_spawn_file_actions_adddup2(&actions, in.read, 0);
  else
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.write, 1);
  posix_spawn_file_actions_adddup2(&actions, err.write, 2);
  // Asio's sockets are not opened close-on-exec: nothing of the proxy's may leak.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so that a timeout kills what it started too; the proxy's
  // signal mask and ignored SIGPIPE must not leak into it.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, path.c_str(), &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close_fd(in.read);
  close_fd(out.write);
  close_fd(err.write);
  if (rc != 0) {
    s.error = argv[0] + ": " + std::strerror(rc);
    close_all();
    return s;
  }
  s.pid = pid;
  s.in = in.write;
  s.out = out.read;
  s.err = err.read;
  return s;
}

void append_capped(std::string& to, const char* data, std::size_t n) {
  to.append(data, std::min(n, command_result::k_max_output - std::min(command_result::k_max_output, to.size())));
}

}  // namespace

command_result run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                           const std::string& input) {
  command_result result;
  auto s = spawn(argv, !input.empty());
  if (s.pid < 0) {
    result.err = s.error;
    return result;
  }
  if (s.in >= 0) ::fcntl(s.in, F_SETFL, O_NONBLOCK);
  std::size_t written = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[8192];
  while (s.out >= 0 || s.err >= 0) {
    pollfd fds[3];
    nfds_t n = 0;
    if (s.out >= 0) fds[n++] = {s.out, POLLIN, 0};
    if (s.err >= 0) fds[n++] = {s.err, POLLIN, 0};
    if (s.in >= 0) fds[n++] = {s.in, POLLOUT, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      ::kill(-s.pid, SIGKILL);
      break;
    }
    int ready = ::poll(fds, n, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) break;
    for (nfds_t i = 0; i < n && ready > 0; ++i) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == s.in) {
        ssize_t w = ::write(s.in, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if (w < 0 || written == input.size()) close_fd(s.in);
        continue;
      }
      ssize_t r = ::read(fds[i].fd, buffer, sizeof buffer);
      bool is_out = fds[i].fd == s.out;
      if (r > 0) {
        append_capped(is_out ? result.out : result.err, buffer, static_cast<std::size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        close_fd(is_out ? s.out : s.err);
      }
    }
  }
  close_fd(s.in);
  close_fd(s.out);
  close_fd(s.err);
  int status = 0;
  while (::waitpid(s.pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.status = status;
  return result;
}

namespace {

// One program started by async_command, alive until it has ended and been read.
struct running_command : std::enable_shared_from_this<running_command> {
  running_command(net::io_context& ctx, std::function<void(command_result)> done)
      : out(ctx), err(ctx), pidfd(ctx), timer(ctx), done(std::move(done)) {}

  void read(net::posix::stream_descriptor& from, std::string& into, char* buffer) {
    from.async_read_some(net::buffer(buffer, 4096), [self = shared_from_this(), &from, &into, buffer](
                                                        boost::system::error_code ec, std::size_t n) {
      append_capped(into, buffer, n);
      if (ec) {
        from.close(ec);
        self->finish_if_done();
        return;
      }
      self->read(from, into, buffer);
    });
  }

  void wait_exit() {
    pidfd.async_wait(net::posix::stream_descriptor::wait_read, [self = shared_from_this()](boost::system::error_code) {
      int status = 0;
      if (::waitpid(self->pid, &status, WNOHANG) == 0) return self->wait_exit();
      self->result.status = status;
      self->exited = true;
      self->timer.cancel();
      self->finish_if_done();
    });
  }

  void finish_if_done() {
    if (!exited || out.is_open() || err.is_open() || !done) return;
    boost::system::error_code ignored;
    pidfd.close(ignored);
    auto callback = std::move(done);
    done = nullptr;
    callback(std::move(result));
  }

  pid_t pid = -1;
  net::posix::stream_descriptor out, err, pidfd;
  net::steady_timer timer;
  char out_buffer[4096], err_buffer[4096];
  command_result result;
  bool exited = false;
  std::function<void(command_result)> done;
};

}  // namespace

void async_command(net::io_context& ctx, const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                   std::function<void(command_result)> done) {
  auto s = spawn(argv, false);
  auto c = std::make_shared<running_command>(ctx, std::move(done));
  if (s.pid < 0) {
    c->result.err = s.error;
    net::post(ctx, [c] { c->done(std::move(c->result)); });
    return;
  }
  c->pid = s.pid;
  c->out.assign(s.out);
  c->err.assign(s.err);
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, s.pid, 0));
  if (pidfd < 0) {
    const int why = errno;
    // Without a pidfd its end cannot be watched (kernels before 5.3): it is given up.
    ::kill(-s.pid, SIGKILL);
    int status = 0;
    ::waitpid(s.pid, &status, 0);
    c->result.status = status;
    c->result.err = std::string("pidfd_open: ") + std::strerror(why);
    net::post(ctx, [c] { c->done(std::move(c->result)); });
    return;
  }
  c->pidfd.assign(pidfd);
  c->read(c->out, c->result.out, c->out_buffer);
  c->read(c->err, c->result.err, c->err_buffer);
  c->wait_exit();
  c->timer.expires_after(timeout);
  c->timer.async_wait([c](boost::system::error_code ec) {
    if (ec || c->exited) return;
    c->result.timed_out = true;
    ::kill(-c->pid, SIGKILL);
  });
}

}  // namespace ignite::coldstart
