#pragma once
// The CLI's own settings file: `$XDG_CONFIG_HOME/ignite/config.json`, or
// `~/.config/ignite/config.json`, holding {"token": "...", "api_endpoint": "..."}. It
// holds a credential, so it is written 0600 in a 0700 directory, and replaced whole.

#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli/environment.hpp"

namespace ignite::cli {

// Where the file lives for `env`. XDG_CONFIG_HOME counts only if absolute (the XDG
// spec); throws failure (exit 1) if neither it nor HOME is set.
std::filesystem::path config_path(const environment& env);

// The file's object; an absent file is an empty object. Throws failure (exit 1) naming
// the file if it cannot be read or is not a JSON object.
nlohmann::json read_config(const std::filesystem::path& path);

// Writes `settings` to `path` through a new 0600 file renamed over the old one, so a
// crash leaves the old file or the new one and the token is never readable by others;
// creates missing directories 0700. Throws failure (exit 1) naming the file.
void write_config(const std::filesystem::path& path, const nlohmann::json& settings);

}  // namespace ignite::cli
