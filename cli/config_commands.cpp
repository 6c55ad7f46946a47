// config set | get: the CLI's own settings file, no request.

#include <ostream>

#include "cli/commands.hpp"
#include "cli/config_file.hpp"
#include "cli/endpoint.hpp"

namespace ignite::cli {

namespace {

// Enough to tell two tokens apart, never enough to use one.
std::string masked(const std::string& token) {
  if (token.empty()) return "(not set)";
  if (token.size() < 16) return "****";
  return "****" + token.substr(token.size() - 4);
}

const char* override_variable(const std::string& key) {
  return key == "token" ? "IGNITE_TOKEN" : "IGNITE_API_ENDPOINT";
}

}  // namespace

int config_set(session& s, const std::string& key, const std::string& value) {
  if (value.empty()) throw usage_error(key + ": the value is empty");
  if (key == "api_endpoint") {
    std::string why;
    if (!parse_endpoint(value, why)) throw usage_error("api_endpoint \"" + value + "\": " + why);
  }
  const auto path = config_path(s.env());
  auto stored = read_config(path);
  stored[key] = value;
  write_config(path, stored);

  if (s.json_output()) {
    s.print_raw(nlohmann::json{{"set", key}, {"config_file", path.string()}}.dump());
  } else {
    s.out() << key << " saved in " << path.string() << '\n';
  }
  if (s.env().get(override_variable(key)))
    s.warn(std::string(override_variable(key)) + " is set and overrides the file");
  return k_exit_ok;
}

int config_get(session& s) {
  const auto& current = s.current_settings();
  const auto path = config_path(s.env());
  const std::string token_source = current.token_source.empty() ? "-" : current.token_source;
  if (s.json_output()) {
    nlohmann::json out = {{"token", masked(current.token)},
                          {"token_source", token_source},
                          {"api_endpoint", current.api_endpoint},
                          {"api_endpoint_source", current.api_endpoint_source},
                          {"config_file", path.string()}};
    s.print_raw(out.dump());
    return k_exit_ok;
  }
  s.out() << "token:         " << masked(current.token)
          << (current.token_source.empty() ? "" : "  (from " + current.token_source + ")") << '\n'
          << "api_endpoint:  " << current.api_endpoint << "  (from " << current.api_endpoint_source << ")\n"
          << "config file:   " << path.string() << '\n';
  return k_exit_ok;
}

}  // namespace ignite::cli
