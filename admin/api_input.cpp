#include "admin/api_input.hpp"

#include <initializer_list>

#include <nlohmann/json.hpp>

#include "admin/api_error.hpp"
#include "common/json_depth.hpp"

namespace ignite::admin {

using nlohmann::json;

namespace {

// The seed's words: a prebuilt image is final.
constexpr const char* k_no_build =
    "a prebuilt image (image_ref) has no build step: bake build arguments and the Dockerfile into the image "
    "before you push it, or use the build-from-code path";

api_error invalid(const std::string& message) { return api_error(400, "invalid_argument", message); }
api_error not_found(const std::string& what) { return api_error(404, "not_found", what + " not found"); }
api_error denied(const std::string& message) { return api_error(403, "permission_denied", message); }

void only_keys(const json& body, std::initializer_list<const char*> allowed) {
  for (const auto& item : body.items()) {
    bool known = false;
    for (const char* key : allowed) known = known || item.key() == key;
    if (!known) throw invalid(item.key() + ": unknown field");
  }
}

// An org token acts in its own org: it may omit "org", and naming another answers 404,
// as if that org did not exist.
std::string org_of(const principal& p, const json& body) {
  auto org = string_field(body, "org", p.is_operator);
  if (!p.is_operator) {
    if (org.empty()) org = p.org;
    if (org != p.org) throw not_found("org " + org);
  }
  return org;
}

}  // namespace

json parse_body(std::string_view body) {
  if (body.empty()) return json::object();
  // nlohmann parses iteratively but copies, compares and dumps recursively: a deep
  // enough value (a 1 MiB body holds 500,000 levels) overflows the stack in any of those,
  // which no catch can answer. The API's documents are three levels deep.
  if (common::json_nests_deeper(body, k_max_body_depth))
    throw invalid("the body nests deeper than " + std::to_string(k_max_body_depth) + " levels");
  try {
    return json::parse(body);
  } catch (const json::parse_error& e) {
    // Only where: the parser's own message quotes the input, which may be a password.
    throw invalid("the body is not valid JSON (at byte " + std::to_string(e.byte) + ")");
  } catch (const json::exception&) {
    // Well-formed but unrepresentable (out_of_range.406, like 1e999): no position known.
    throw invalid("the body is not valid JSON (a number is out of range)");
  }
}

const json& object_body(const json& body) {
  if (!body.is_object()) throw invalid("the body must be a JSON object");
  return body;
}

std::string string_field(const json& body, const char* key, bool required) {
  if (!body.contains(key)) {
    if (required) throw invalid(std::string(key) + ": is required");
    return {};
  }
  if (!body[key].is_string()) throw invalid(std::string(key) + ": must be a string");
  return body[key].get<std::string>();
}

void check_org_and_name(const std::string& org, const std::string& name) {
  if (auto why = routing::check_name(org); !why.empty()) throw invalid("org: " + why);
  if (auto why = routing::check_name(name); !why.empty()) throw invalid("name: " + why);
  if (name.size() + 1 + org.size() > 63)
    throw invalid("name: the host label \"" + name + "-" + org + "\" is longer than 63 characters");
}

app_request parse_app_request(const principal& p, const json& body) {
  object_body(body);
  only_keys(body, {"org", "name", "description"});
  app_request r;
  r.org = org_of(p, body);
  r.name = string_field(body, "name", true);
  check_org_and_name(r.org, r.name);
  return r;
}

void check_draft_body(const json& body) {
  object_body(body);
  for (const char* key : {"build_args", "dockerfile_path"})
    if (body.contains(key)) throw invalid(std::string(key) + ": " + k_no_build);
  for (const char* key : {"code", "git_url", "runtime"})
    if (body.contains(key))
      throw invalid(std::string(key) +
                    ": this platform runs prebuilt images: give image_ref (with "
                    "registry_secret_ref for a private registry)");
  if (body.contains("image_digest")) throw invalid("image_digest: publish resolves the digest; give image_ref");
}

routing::version_spec parse_draft_request(const principal& p, const json& body) {
  routing::version_spec spec;
  try {
    spec = routing::parse_source(body, "draft");
  } catch (const routing::config_error& e) {
    throw invalid(e.what());
  }
  if ((!spec.command.empty() || !spec.endpoints.empty()) && !p.is_operator)
    throw denied(
        "command and endpoints sources run on, or route from, the platform's own hosts: only the "
        "operator token may save them; use image_ref");
  if (spec.network == "host" && !p.is_operator)
    throw denied(
        "network: a container on the host's network can reach the platform's own services: only the operator "
        "token may ask for it");
  return spec;
}

secret_request parse_secret_request(const principal& p, const json& body) {
  object_body(body);
  only_keys(body, {"org", "name", "type", "server", "username", "password"});
  secret_request r;
  r.org = org_of(p, body);
  if (auto why = routing::check_name(r.org); !why.empty()) throw invalid("org: " + why);
  r.name = string_field(body, "name", true);
  if (auto why = routing::check_name(r.name); !why.empty()) throw invalid("name: " + why);
  r.type = string_field(body, "type", true);
  if (r.type != "registry") throw invalid("type: must be \"registry\"");
  r.server = string_field(body, "server", true);
  if (r.server.empty() || r.server.find_first_of(" /\t") != std::string::npos)
    throw invalid("server: must be a registry host, like ghcr.io or localhost:5000");
  r.username = string_field(body, "username", true);
  if (r.username.empty()) throw invalid("username: must not be empty");
  if (!body.contains("password") || !body["password"].is_string() || body["password"].get<std::string>().empty())
    throw invalid("password: is required");  // never echoes the value
  r.password = body["password"].get<std::string>();
  return r;
}

json merge_scaling(const json& current, const json& body) {
  object_body(body);
  json merged = current.is_object() ? current : json::object();
  for (const auto& item : body.items()) merged[item.key()] = item.value();
  try {
    routing::parse_scaling(merged, "scaling");
  } catch (const routing::config_error& e) {
    throw invalid(e.what());
  }
  return merged;
}

}  // namespace ignite::admin
