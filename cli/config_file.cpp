#include "cli/config_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>

#include "cli/failure.hpp"

namespace ignite::cli {

namespace fs = std::filesystem;

namespace {

std::string describe_errno(int error) { return std::generic_category().message(error); }

// mkdir -p with mode 0700 for the directories it creates; existing ones keep their mode.
void make_private_directories(const fs::path& dir) {
  if (dir.empty() || fs::is_directory(dir)) return;
  make_private_directories(dir.parent_path());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw api_failure("cannot create " + dir.string() + ": " + describe_errno(errno));
}

}  // namespace

fs::path config_path(const environment& env) {
  if (auto xdg = env.get("XDG_CONFIG_HOME"); xdg && fs::path(*xdg).is_absolute())
    return fs::path(*xdg) / "ignite" / "config.json";
  if (auto home = env.get("HOME")) return fs::path(*home) / ".config" / "ignite" / "config.json";
  throw api_failure("cannot find the config directory: neither HOME nor XDG_CONFIG_HOME is set");
}

nlohmann::json read_config(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec) && !ec) return nlohmann::json::object();
  std::ifstream file(path, std::ios::binary);
  std::string text;
  if (file) text.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  if (!file || file.bad())
    throw api_failure("cannot read " + path.string() + ": " + describe_errno(errno ? errno : EIO));
  // A file someone created empty holds nothing yet.
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
  auto settings = nlohmann::json::parse(text, nullptr, false);
  if (!settings.is_object())
    throw api_failure(path.string() + " is not a JSON object; fix it or remove it and run `ignite config set`");
  return settings;
}

void write_config(const fs::path& path, const nlohmann::json& settings) {
  make_private_directories(path.parent_path());
  const std::string text = settings.dump(2) + "\n";
  const fs::path temp = path.string() + ".tmp";
  ::unlink(temp.c_str());  // a leftover of an interrupted write; O_EXCL below needs it gone
  // O_EXCL: never write the token into a file someone else created, whatever its mode.
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw api_failure("cannot write " + temp.string() + ": " + describe_errno(errno));
  const char* data = text.data();
  std::size_t left = text.size();
  int error = 0;
  while (left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      break;
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  // 0600 whatever the umask made of the mode above.
  if (!error && ::fchmod(fd, 0600) != 0) error = errno;
  if (!error && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && !error) error = errno;
  if (!error && ::rename(temp.c_str(), path.c_str()) != 0) error = errno;
  if (error) {
    ::unlink(temp.c_str());
    throw api_failure("cannot write " + path.string() + ": " + describe_errno(error));
  }
}

}  // namespace ignite::cli
