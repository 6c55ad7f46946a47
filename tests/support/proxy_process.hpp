#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/process_exit.hpp"

namespace ignite::test {

// The real ignite-proxy executable, run as a child process on a config written to a
// private temp dir. Its stderr (and stdout) lines are collected by a background thread;
// a second thread reaps it. The child dies with the test process (PR_SET_PDEATHSIG), and
// the destructor kills and reaps it, so no proxy outlives its test.
//
// Set IGNITE_IT_ECHO=1 in the environment to copy the child's lines to this stderr.
class proxy_process {
 public:
  using line_predicate = std::function<bool(const nlohmann::json&)>;

  // Writes `config` and starts `binary --config <file> <extra_args...>`, with `env`
  // ("NAME=value") added to this process's environment. Throws if it cannot be started.
  proxy_process(std::filesystem::path binary, const nlohmann::json& config, std::vector<std::string> extra_args = {},
                std::vector<std::string> env = {});
  ~proxy_process();
  proxy_process(const proxy_process&) = delete;
  proxy_process& operator=(const proxy_process&) = delete;

  // Waits for {"event":"listening","listener":"http","address":"127.0.0.1:PORT"} and
  // returns PORT; nullopt if it does not come within `cap` or the process ends first.
  std::optional<std::uint16_t> wait_listening(std::chrono::milliseconds cap = std::chrono::seconds(10));
  // The port learnt by wait_listening() (0 before).
  std::uint16_t port() const { return port_; }
  // Waits for the listening line of `listener` ("http", "https", "admin") and returns its
  // port; nullopt as for wait_listening().
  std::optional<std::uint16_t> wait_listener(std::string_view listener,
                                             std::chrono::milliseconds cap = std::chrono::seconds(10));
  // Waits for the admin listener's listening line and returns its port.
  std::optional<std::uint16_t> wait_admin_listening(std::chrono::milliseconds cap = std::chrono::seconds(10));
  // The directory the config was written to (private to this process; removed with it).
  const std::filesystem::path& dir() const { return dir_; }

  // Waits for a JSON line, at index >= `from` among all lines, that satisfies `pred`.
  std::optional<nlohmann::json> wait_for_line(const line_predicate& pred, std::chrono::milliseconds cap,
                                              std::size_t from = 0);
  // Same, for a line whose "event" is `event`.
  std::optional<nlohmann::json> wait_for_event(std::string_view event, std::chrono::milliseconds cap,
                                               std::size_t from = 0);

  std::size_t line_count() const;
  std::vector<std::string> lines() const;
  // All lines, newline-separated: for failure messages.
  std::string output() const;

  // Atomically replaces the config file (write + rename).
  void rewrite_config(const nlohmann::json& config);
  // rewrite_config() then SIGHUP; returns line_count() from before the signal, to pass as
  // `from` when waiting for the "reloaded" line.
  std::size_t reload(const nlohmann::json& config);

  void send_signal(int sig);
  // Waits until the process has exited and its output is fully read.
  std::optional<process_exit> wait_exit(std::chrono::milliseconds cap);
  // SIGTERM, then wait_exit(cap).
  std::optional<process_exit> terminate(std::chrono::milliseconds cap);

  pid_t pid() const { return pid_; }
  const std::filesystem::path& config_path() const { return config_path_; }

 private:
  nlohmann::json with_test_defaults(nlohmann::json cfg) const;
  void read_lines(int fd);
  void reap();

  std::filesystem::path dir_;
  std::filesystem::path config_path_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  bool echo_ = false;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  bool output_closed_ = false;
  std::optional<process_exit> exit_;

  std::thread reader_;
  std::thread reaper_;
};

}  // namespace ignite::test
