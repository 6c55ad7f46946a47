#include "coldstart/image_registry.hpp"

#include <algorithm>
#include <memory>

#include "coldstart/command.hpp"
#include "common/strings.hpp"

namespace ignite::coldstart {

namespace {

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = common::lower(c);
  return out;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// The tool's own sentence: skopeo logs `level=fatal msg="…"`, podman prints `Error: …`.
// The "Error parsing image name "docker://…": " prefix says nothing the caller does not
// know.
std::string core_message(std::string_view text) {
  std::string_view message = text;
  if (auto at = text.rfind("msg=\""); at != std::string_view::npos) {
    message = text.substr(at + 5);
    message = message.substr(0, message.rfind('"'));
  } else if (auto err = text.rfind("Error: "); err != std::string_view::npos) {
    message = text.substr(err + 7);
  }
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.remove_suffix(1);
  if (message.starts_with("Error parsing image name")) {
    if (auto colon = message.find("\": "); colon != std::string_view::npos) message.remove_prefix(colon + 3);
  }
  std::string out;
  for (char c : message) out += c == '\\' ? ' ' : c;  // skopeo escapes quotes inside msg
  return out;
}

}  // namespace

std::optional<registry_error> registry_failure(std::string_view tool_error, const image_request& request) {
  const std::string lower = lowered(tool_error);
  const std::string detail = core_message(tool_error);
  const std::string& reg = request.registry;
  using kind = registry_error::kind;
  if (contains(lower, "unauthorized") || contains(lower, "authentication required") ||
      contains(lower, "access to the resource is denied") || contains(lower, "403 forbidden")) {
    if (!request.credentials)
      return registry_error(kind::auth,
                            "the registry " + reg + " requires authentication to pull " + request.image +
                                ": set registry_secret_ref to a registry secret for " + reg,
                            detail);
    return registry_error(kind::auth,
                          "the registry " + reg + " refused the credentials of registry_secret_ref \"" +
                              request.secret_ref + "\" for " + request.image +
                              ": check the secret's username and password, and that they may pull this repository",
                          detail);
  }
  if (contains(lower, "manifest unknown") || contains(lower, "name unknown") ||
      contains(lower, "not found: manifest") || contains(lower, "repository name not known"))
    return registry_error(
        kind::not_found, request.image + " was not found in the registry " + reg + ": check the repository and the tag",
        detail);
  auto unreachable = [&](const std::string& why) {
    return registry_error(kind::unreachable, "the registry " + reg + " could not be reached: " + why, detail);
  };
  if (contains(lower, "http response to https client"))
    return unreachable("it speaks plain HTTP; list it in containers.insecure_registries to allow that");
  if (contains(lower, "x509") || contains(lower, "certificate"))
    return unreachable("its TLS certificate is not trusted here");
  if (contains(lower, "connection refused")) return unreachable("connection refused");
  if (contains(lower, "no such host")) return unreachable("no such host");
  if (contains(lower, "i/o timeout") || contains(lower, "deadline exceeded") || contains(lower, "timeout"))
    return unreachable("timed out");
  if (contains(lower, "pinging container registry") || contains(lower, "reading manifest") ||
      contains(lower, "initializing source") || contains(lower, "trying to pull") ||
      contains(lower, "copying system image"))
    return registry_error(kind::other, "the registry " + reg + " refused " + request.image + ": " + detail, detail);
  return std::nullopt;
}

void check_secret_server(const image_request& request) {
  if (!request.credentials || common::iequals(request.credentials->server, request.registry)) return;
  throw registry_error(registry_error::kind::auth,
                       "registry_secret_ref \"" + request.secret_ref + "\" holds credentials for " +
                           request.credentials->server + ", but the image is on " + request.registry,
                       {});
}

std::vector<std::string> image_registry::tls_arguments(const std::string& registry) const {
  for (const auto& r : settings_.insecure_registries)
    if (common::iequals(r, registry)) return {"--tls-verify=false"};
  return {};
}

std::string image_registry::resolve_digest(const image_request& request) const {
  check_secret_server(request);
  std::vector<std::string> argv{settings_.skopeo, "inspect", "--format", "{{.Digest}}", "--retry-times", "0"};
  std::unique_ptr<auth_file> auth;
  if (request.credentials) {
    try {
      auth = std::make_unique<auth_file>(settings_.auth_dir, *request.credentials);
    } catch (const std::exception& e) {
      throw registry_error(registry_error::kind::other, "the registry's credentials could not be handed over",
                           e.what());
    }
    argv.insert(argv.end(), {"--authfile", auth->path().string()});
  } else {
    argv.push_back("--no-creds");  // anonymous, whatever ~/.docker or the auth files hold
  }
  for (auto& a : tls_arguments(request.registry)) argv.push_back(a);
  argv.push_back("docker://" + request.image);
  auto result = run_command(argv, settings_.timeout);
  if (result.ok()) {
    std::string digest = result.out;
    while (!digest.empty() && (digest.back() == '\n' || digest.back() == ' ')) digest.pop_back();
    if (digest.starts_with("sha256:") && digest.size() == 71) return digest;
    throw registry_error(registry_error::kind::other,
                         "the registry " + request.registry + " gave no digest for " + request.image,
                         "skopeo printed: " + result.out);
  }
  if (result.timed_out)
    throw registry_error(registry_error::kind::unreachable,
                         "the registry " + request.registry + " could not be reached: timed out",
                         "skopeo inspect timed out");
  if (result.status < 0)
    throw registry_error(registry_error::kind::other,
                         "images cannot be checked on this machine: skopeo is not installed", result.err);
  if (auto failure = registry_failure(result.err, request)) throw *failure;
  throw registry_error(registry_error::kind::other,
                       "the registry " + request.registry + " could not be asked about " + request.image,
                       "skopeo " + result.describe() + ": " + core_message(result.err));
}

}  // namespace ignite::coldstart
