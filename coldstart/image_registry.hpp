#pragma once
// Asking a registry about an image without pulling it: does it exist, may these
// credentials pull it, and which digest does its tag name now. Publishing pins that
// digest, so a tag moved later never changes a published version. Uses skopeo (the
// registry API: manifest and auth, no layers). And the words for what went wrong, for
// skopeo's and podman's errors alike.

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "coldstart/registry_auth.hpp"

namespace ignite::coldstart {

// What the registry said, in words for the app's owner (no local path, no password).
class registry_error : public std::runtime_error {
 public:
  enum class kind { auth, not_found, unreachable, other };
  registry_error(kind k, const std::string& message, std::string detail)
      : std::runtime_error(message), kind_(k), detail_(std::move(detail)) {}
  kind what_kind() const noexcept { return kind_; }
  // The tool's own words, for the log.
  const std::string& detail() const noexcept { return detail_; }

 private:
  kind kind_;
  std::string detail_;
};

// An image to ask about: the reference as given, its registry, and the secret (by the
// name the version gives it, for messages) with its credentials.
struct image_request {
  std::string image;     // "127.0.0.1:5000/acme/greeter:1.0.0" or "…@sha256:…"
  std::string registry;  // "127.0.0.1:5000"
  std::string secret_ref;
  std::optional<registry_credentials> credentials;
};

// Reads a registry failure out of skopeo's or podman's standard error. nullopt if the
// text is not about the registry (the engine failed for another reason).
std::optional<registry_error> registry_failure(std::string_view tool_error, const image_request& request);

class image_registry {
 public:
  struct settings {
    // Registries reached over plain HTTP or with a certificate that is not verified
    // ("127.0.0.1:5000"): loopback and test registries.
    std::vector<std::string> insecure_registries;
    std::filesystem::path auth_dir;  // where auth files live while a tool runs
    std::chrono::milliseconds timeout = std::chrono::seconds(30);
    std::string skopeo = "skopeo";
  };

  explicit image_registry(settings s) : settings_(std::move(s)) {}

  // The image's manifest digest ("sha256:…"), asked of the registry with the request's
  // credentials (none: anonymously). Blocking (a round trip or two to the registry).
  // Throws registry_error.
  std::string resolve_digest(const image_request& request) const;

  // --tls-verify=false for an insecure registry, else nothing: for podman and skopeo.
  std::vector<std::string> tls_arguments(const std::string& registry) const;
  const settings& options() const noexcept { return settings_; }

 private:
  settings settings_;
};

// Checks that the secret's server is the image's registry: credentials for another
// server would be sent nowhere and the pull would fail as anonymous. Throws registry_error.
void check_secret_server(const image_request& request);

}  // namespace ignite::coldstart
