#include "cli/settings.hpp"

#include "cli/config_file.hpp"

namespace ignite::cli {

namespace {

void take(std::string& value, std::string& source, std::string v, std::string s) {
  value = std::move(v);
  source = std::move(s);
}

}  // namespace

settings resolve_settings(const environment& env) {
  settings s;
  const auto token = env.get("IGNITE_TOKEN");
  const auto endpoint = env.get("IGNITE_API_ENDPOINT");
  if (token) take(s.token, s.token_source, *token, "IGNITE_TOKEN");
  if (endpoint) take(s.api_endpoint, s.api_endpoint_source, *endpoint, "IGNITE_API_ENDPOINT");
  if (!token || !endpoint) {
    // The file is read only when the environment leaves something open, so a broken
    // file does not stop a fully configured environment.
    const auto path = config_path(env);
    const auto file = read_config(path);
    auto stored = [&](const char* key) {
      auto it = file.find(key);
      return it != file.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (!token && !stored("token").empty()) take(s.token, s.token_source, stored("token"), path.string());
    if (!endpoint && !stored("api_endpoint").empty())
      take(s.api_endpoint, s.api_endpoint_source, stored("api_endpoint"), path.string());
  }
  if (s.api_endpoint.empty()) take(s.api_endpoint, s.api_endpoint_source, k_default_api_endpoint, "default");
  return s;
}

}  // namespace ignite::cli
