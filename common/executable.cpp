#include "common/executable.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace ignite::common {

namespace {

// Empty if `path` can be executed, else why not.
std::string check(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "does not exist";
  if (S_ISDIR(st.st_mode)) return "is a directory";
  if (!S_ISREG(st.st_mode)) return "is not a regular file";
  if ((st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0 || ::access(path.c_str(), X_OK) != 0)
    return "is not executable";
  return {};
}

}  // namespace

std::string find_executable(std::string_view name, std::string& why) {
  if (name.empty()) {
    why = "is empty";
    return {};
  }
  if (name.find('/') != std::string_view::npos) {
    std::string path(name);
    why = check(path);
    return why.empty() ? path : std::string{};
  }
  const char* env = std::getenv("PATH");
  std::string_view dirs = env ? env : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    auto colon = dirs.find(':');
    auto dir = dirs.substr(0, colon);
    std::string candidate = std::string(dir.empty() ? "." : dir) + "/" + std::string(name);
    if (check(candidate).empty()) {
      why.clear();
      return candidate;
    }
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  why = "was not found in PATH";
  return {};
}

}  // namespace ignite::common
