#pragma once
// The token and API endpoint a command uses, and where each came from (for messages):
// IGNITE_TOKEN / IGNITE_API_ENDPOINT override the config file; the endpoint defaults to
// the admin listener's default address.

#include <string>

#include "cli/environment.hpp"

namespace ignite::cli {

inline constexpr const char* k_default_api_endpoint = "http://127.0.0.1:9090";

struct settings {
  std::string token;  // empty: none configured
  std::string token_source;
  std::string api_endpoint;
  std::string api_endpoint_source;  // "IGNITE_API_ENDPOINT", the config file's path, "default"
};

// Reads the environment, then the config file. Throws failure (exit 1) if the file
// cannot be read.
settings resolve_settings(const environment& env);

}  // namespace ignite::cli
