#include "support/proxy_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace ignite::test {

namespace {

std::system_error errno_error(const std::string& what) { return {errno, std::generic_category(), what}; }

void write_file(const std::filesystem::path& path, const nlohmann::json& config) {
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << config.dump(2) << "\n";
    if (!out) throw std::runtime_error("proxy_process: cannot write " + tmp);
  }
  std::filesystem::rename(tmp, path);  // the proxy never reads a half-written file
}

// Writing to a closed socket in the harness must be an error code, not a dead test.
void ignore_sigpipe_once() {
  static const bool done = [] {
    struct sigaction sa {};
    sa.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &sa, nullptr);
    return true;
  }();
  (void)done;
}

}  // namespace

proxy_process::proxy_process(std::filesystem::path binary, const nlohmann::json& config,
                             std::vector<std::string> extra_args, std::vector<std::string> env) {
  ignore_sigpipe_once();
  const char* echo = std::getenv("IGNITE_IT_ECHO");
  echo_ = echo && *echo && std::string_view(echo) != "0";

  std::string tmpl = (std::filesystem::temp_directory_path() / "ignite-it-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw errno_error("proxy_process: mkdtemp");
  dir_ = tmpl;
  config_path_ = dir_ / "ignite.json";
  write_file(config_path_, with_test_defaults(config));

  // Everything the child needs is built before fork(): after it, only async-signal-safe calls.
  std::vector<std::string> args{binary.string(), "--config", config_path_.string()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  env_strings.insert(env_strings.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw errno_error("proxy_process: pipe2");
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw errno_error("proxy_process: fork");
  }
  if (pid_ == 0) {
    // Child. Die with the test process even if it crashes before our destructor runs.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    // The harness's own sockets (fake pods, clients) must not live on in the child, or a
    // pod's close would never reach the proxy.
    ::close_range(3, ~0U, 0);
    // Undo what the test process changed: ignored SIGPIPE and the signal mask survive exec.
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &sa, nullptr);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  reader_ = std::thread([this, fd = fds[0]] { read_lines(fd); });
  reaper_ = std::thread([this] { reap(); });
}

proxy_process::~proxy_process() {
  {
    std::lock_guard lock(mutex_);
    if (!exit_) ::kill(pid_, SIGKILL);
  }
  reaper_.join();
  reader_.join();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void proxy_process::read_lines(int fd) {
  std::string partial;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    partial.append(buf, static_cast<std::size_t>(n));
    std::size_t start = 0;
    std::vector<std::string> complete;
    for (std::size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1)
      complete.push_back(partial.substr(start, nl - start));
    partial.erase(0, start);
    if (complete.empty()) continue;
    if (echo_)
      for (const auto& l : complete) std::cerr << "[proxy " << pid_ << "] " << l << "\n";
    {
      std::lock_guard lock(mutex_);
      lines_.insert(lines_.end(), complete.begin(), complete.end());
    }
    changed_.notify_all();
  }
  ::close(fd);
  {
    std::lock_guard lock(mutex_);
    if (!partial.empty()) lines_.push_back(partial);
    output_closed_ = true;
  }
  changed_.notify_all();
}

void proxy_process::reap() {
  int status = 0;
  pid_t r;
  do r = ::waitpid(pid_, &status, 0);
  while (r < 0 && errno == EINTR);
  process_exit e;
  if (r == pid_ && WIFEXITED(status))
    e.code = WEXITSTATUS(status);
  else if (r == pid_ && WIFSIGNALED(status))
    e.signal = WTERMSIG(status);
  {
    std::lock_guard lock(mutex_);
    exit_ = e;
  }
  changed_.notify_all();
}

std::optional<std::uint16_t> proxy_process::wait_listener(std::string_view listener, std::chrono::milliseconds cap) {
  const auto line = wait_for_line(
      [listener](const nlohmann::json& j) {
        return j.value("event", "") == "listening" && j.value("listener", "") == listener && j.contains("address") &&
               j["address"].is_string();
      },
      cap);
  if (!line) return std::nullopt;
  const std::string address = (*line)["address"];
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  try {
    return static_cast<std::uint16_t>(std::stoul(address.substr(colon + 1)));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<std::uint16_t> proxy_process::wait_admin_listening(std::chrono::milliseconds cap) {
  return wait_listener("admin", cap);
}

std::optional<std::uint16_t> proxy_process::wait_listening(std::chrono::milliseconds cap) {
  auto port = wait_listener("http", cap);
  if (port) port_ = *port;
  return port;
}

std::optional<nlohmann::json> proxy_process::wait_for_line(const line_predicate& pred, std::chrono::milliseconds cap,
                                                           std::size_t from) {
  const auto deadline = std::chrono::steady_clock::now() + cap;
  std::unique_lock lock(mutex_);
  std::size_t next = from;
  for (;;) {
    for (; next < lines_.size(); ++next) {
      auto j = nlohmann::json::parse(lines_[next], nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && pred(j)) return j;
    }
    if (output_closed_) return std::nullopt;  // the process is gone: no more lines will come
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && next == lines_.size()) return std::nullopt;
  }
}

std::optional<nlohmann::json> proxy_process::wait_for_event(std::string_view event, std::chrono::milliseconds cap,
                                                            std::size_t from) {
  return wait_for_line([event](const nlohmann::json& j) { return j.value("event", "") == event; }, cap, from);
}

std::size_t proxy_process::line_count() const {
  std::lock_guard lock(mutex_);
  return lines_.size();
}

std::vector<std::string> proxy_process::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

std::string proxy_process::output() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& l : lines_) out += l + "\n";
  return out;
}

void proxy_process::rewrite_config(const nlohmann::json& config) {
  write_file(config_path_, with_test_defaults(config));
}

// Tests run in parallel: unless a test says otherwise, each proxy gets an admin port of
// its own and a state store in its private directory. IGNITE_TEST_PROXY_THREADS=N runs
// every one-worker proxy with N workers instead: the ThreadSanitizer step
// (scripts/sanitize.sh) uses it so the same tests drive the workers' shared state.
nlohmann::json proxy_process::with_test_defaults(nlohmann::json cfg) const {
  if (!cfg.is_object()) return cfg;
  if (const char* threads = std::getenv("IGNITE_TEST_PROXY_THREADS");
      threads && cfg.contains("threads") && cfg["threads"] == 1)
    cfg["threads"] = std::atoi(threads);
  if (!cfg.contains("listen") || !cfg["listen"].is_object()) cfg["listen"] = nlohmann::json::object();
  if (!cfg["listen"].contains("admin")) cfg["listen"]["admin"] = "127.0.0.1:0";
  if (!cfg.contains("state_file")) cfg["state_file"] = (dir_ / "state.db").string();
  return cfg;
}

std::size_t proxy_process::reload(const nlohmann::json& config) {
  rewrite_config(config);
  const std::size_t before = line_count();
  send_signal(SIGHUP);
  return before;
}

void proxy_process::send_signal(int sig) {
  std::lock_guard lock(mutex_);
  if (!exit_)  // never signal a pid that may have been reaped and reused
    ::kill(pid_, sig);
}

std::optional<process_exit> proxy_process::wait_exit(std::chrono::milliseconds cap) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, cap, [this] { return exit_.has_value() && output_closed_; })) return std::nullopt;
  return exit_;
}

std::optional<process_exit> proxy_process::terminate(std::chrono::milliseconds cap) {
  send_signal(SIGTERM);
  return wait_exit(cap);
}

}  // namespace ignite::test
