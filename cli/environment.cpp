#include "cli/environment.hpp"

#include <pwd.h>
#include <unistd.h>

extern char** environ;

namespace ignite::cli {

std::optional<std::string> environment::get(std::string_view name) const {
  auto it = variables.find(name);
  if (it == variables.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

environment environment::from_process() {
  environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.variables.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  // A service account started without HOME still has a home directory to keep its config in.
  if (!env.get("HOME")) {
    if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) env.variables["HOME"] = pw->pw_dir;
  }
  env.stdin_is_terminal = ::isatty(STDIN_FILENO) == 1;
  return env;
}

}  // namespace ignite::cli
