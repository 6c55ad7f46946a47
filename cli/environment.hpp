#pragma once
// What the CLI reads from its process besides argv: environment variables and whether
// stdin is a terminal. Tests build one by hand, so nothing in the CLI calls getenv().

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ignite::cli {

struct environment {
  std::map<std::string, std::string, std::less<>> variables;
  bool stdin_is_terminal = false;

  // The variable's value; an empty variable counts as unset.
  std::optional<std::string> get(std::string_view name) const;

  // This process's environment (HOME filled in from the password database if unset)
  // and isatty(0).
  static environment from_process();
};

}  // namespace ignite::cli
