#include "proxy/access_log_sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "common/log.hpp"

namespace ignite::proxy {

int access_log_sink::open_file(const std::filesystem::path& file) {
  return ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

access_log_sink::access_log_sink(std::filesystem::path file, bool to_stderr)
    : file_(std::move(file)), to_stderr_(to_stderr) {
  if (file_.empty()) return;
  fd_ = open_file(file_);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), file_.string());
}

access_log_sink::~access_log_sink() {
  if (fd_ >= 0) ::close(fd_);
}

void access_log_sink::write(std::string_view lines) {
  if (to_stderr_) common::log_write(lines);
  if (file_.empty()) return;
  std::lock_guard lock(mutex_);
  while (!lines.empty()) {
    auto n = ::write(fd_, lines.data(), lines.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // disk full or the like: the lines are lost, the requests are not
    lines.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string access_log_sink::reopen() {
  if (file_.empty()) return {};
  int fd = open_file(file_);
  if (fd < 0) return std::strerror(errno);
  std::lock_guard lock(mutex_);
  ::close(fd_);
  fd_ = fd;
  return {};
}

}  // namespace ignite::proxy
