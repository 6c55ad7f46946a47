#pragma once
// The control API's request bodies, parsed and checked before anything is read from or
// written to the state store. Pure: JSON in, a value or api_error (400 invalid_argument,
// 403 permission_denied, 404 not_found) out; no store, no clock, no I/O. control_plane
// calls these in the order its operations check things; tests/fuzz drives them with
// arbitrary JSON.

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "admin/principal.hpp"
#include "routing/config.hpp"

namespace ignite::admin {

// How deep a request body's JSON may nest (objects and arrays).
inline constexpr std::size_t k_max_body_depth = 64;

// A request body as JSON ({} when empty). Anything that is not JSON, holds a number no
// double can represent, or nests deeper than k_max_body_depth is invalid_argument; the
// message gives where, never the input (which may hold a password).
nlohmann::json parse_body(std::string_view body);

// Throws invalid_argument unless `body` is a JSON object.
const nlohmann::json& object_body(const nlohmann::json& body);

// body[key] as a string: "" when absent and not `required`; invalid_argument when absent
// and required, or not a string.
std::string string_field(const nlohmann::json& body, const char* key, bool required);

// `org` and `name` follow the host rules, and `<name>-<org>` fits one DNS label.
void check_org_and_name(const std::string& org, const std::string& name);

// POST /v1/apps: the org (an org token's own when it omits one; another org is 404) and
// the name, checked. The description is read with string_field afterwards, once the app
// is known to be new.
struct app_request {
  std::string org;
  std::string name;
};
app_request parse_app_request(const principal& p, const nlohmann::json& body);

// PUT /v1/apps/{id}/draft, before the app is looked up: an object, and none of the
// build-from-code keys (build_args, dockerfile_path, code, git_url, runtime) nor an
// image_digest, each refused with the reason.
void check_draft_body(const nlohmann::json& body);

// The draft's source, once the app is writable by `p`: exactly one source (the config
// file's rules), and command, endpoints and the host network only for the operator.
routing::version_spec parse_draft_request(const principal& p, const nlohmann::json& body);

// POST /v1/secrets. No error message ever contains the password.
struct secret_request {
  std::string org;
  std::string name;
  std::string type;
  std::string server;
  std::string username;
  std::string password;
};
secret_request parse_secret_request(const principal& p, const nlohmann::json& body);

// PUT /v1/apps/{id}/scaling: `body`'s keys over the app's `current` scaling object,
// validated as the config file's scaling; the merged object is what is stored.
nlohmann::json merge_scaling(const nlohmann::json& current, const nlohmann::json& body);

}  // namespace ignite::admin
