#pragma once
// Where request lines go: stderr, a file, or both (config `log`). The file is opened in
// append mode and opened again by its name on reopen() (SIGUSR1), the way logrotate
// expects: lines written before the signal are in the renamed file, lines after it in
// the new one, and none is lost between. Workers write whole batches of lines; a write
// and a reopen never interleave.

#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>

namespace ignite::proxy {

class access_log_sink {
 public:
  // Opens `file` (empty: none). Throws std::system_error naming the file if it cannot.
  access_log_sink(std::filesystem::path file, bool to_stderr);
  ~access_log_sink();
  access_log_sink(const access_log_sink&) = delete;
  access_log_sink& operator=(const access_log_sink&) = delete;

  // Any thread: complete lines, each ending in '\n'. Never fails the caller: a log that
  // cannot be written loses lines, not requests.
  void write(std::string_view lines);
  // Any thread: opens the file again by its name. On failure the old descriptor stays
  // and the reason is returned; empty on success (or without a file).
  std::string reopen();

  const std::filesystem::path& file() const noexcept { return file_; }

 private:
  static int open_file(const std::filesystem::path& file);

  const std::filesystem::path file_;
  const bool to_stderr_;
  std::mutex mutex_;  // the descriptor, and writes to it
  int fd_ = -1;
};

}  // namespace ignite::proxy
