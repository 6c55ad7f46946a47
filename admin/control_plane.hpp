#pragma once
// What the control API manages (apps, their drafts and immutable versions, scaling,
// registry secrets, org tokens), kept in a state_store, and the operations the API
// offers on them. Every operation is told who asks (a principal) and either returns the
// API's JSON answer or throws api_error with the status and code of the contract
// (DESIGN.md, "Control API"). Transport-free: the admin sessions call it, and so do tests.
//
// Store layout (values are JSON documents):
//   /apps/<org>/<name>              the app: description, scaling, active and last
//                                   version, the draft
//   /labels/<name>-<org>            "<org>:<name>": host labels are unique, atomically
//   /versions/<org>/<name>/<n>      version n (zero-padded): its source, when it was cut
//   /secrets/<org>/<name>           a registry secret, its password sealed (AES-256-GCM)
//   /tokens/<id>                    an org token: its org and the SHA-256 of its secret
//   /pins/<org>/<name>/<n>          a config-file image version's digest, pinned at load
//   /images/<instance>/<image>      an image a proxy instance holds for versions
//   /nodes/<instance>               a proxy instance that has run containers
// Every change is one compare-and-swap transaction, so two writers can never both cut
// version N+1, and a change is durable before its answer goes out.
//
// Thread-safety: every method may be called from any thread (the store serialises).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "admin/api_error.hpp"
#include "admin/crypto.hpp"
#include "admin/principal.hpp"
#include "coldstart/registry_auth.hpp"
#include "routing/config.hpp"
#include "routing/state_store.hpp"

namespace ignite::admin {

struct api_answer {
  unsigned status = 200;
  nlohmann::json body;
};

using registry_credentials = coldstart::registry_credentials;

// What publishing an image version learned from its registry.
struct image_check {
  std::string digest;  // "sha256:…": the version runs this, whatever the tag does later
};

class control_plane {
 public:
  struct options {
    std::string domain = "ignite.dodil.cloud";
    std::uint16_t http_port = 80;  // for public_urls
    std::string operator_token;    // empty: no operator token is accepted
  };
  // Checks that an image version can be pulled with `credentials` (none: anonymous) and
  // resolves its digest; throws api_error (image_unavailable 422) when it cannot.
  using image_checker =
      std::function<image_check(const routing::version_spec&, const std::optional<registry_credentials>&)>;

  control_plane(routing::state_store& store, secret_box box, options opts);

  // The config file's apps: read-only here, and their labels are taken.
  void set_file_config(const routing::config& cfg);
  // Set before requests arrive; without one, image references are checked for shape only.
  void set_image_checker(image_checker checker) { image_checker_ = std::move(checker); }
  void set_http_port(std::uint16_t port);

  // "Bearer <token>" → who it is; nullopt for a missing, malformed, unknown or revoked
  // token. Compares in constant time.
  std::optional<principal> authenticate(std::string_view authorization) const;

  // ---- the API (DESIGN.md, "Control API") ----
  api_answer create_token(const principal& p, const std::string& org);
  api_answer list_tokens(const principal& p, const std::string& org) const;
  api_answer revoke_token(const principal& p, const std::string& org, const std::string& id);

  api_answer create_app(const principal& p, const nlohmann::json& body);
  api_answer get_app(const principal& p, const std::string& id) const;
  api_answer list_apps(const principal& p) const;
  api_answer delete_app(const principal& p, const std::string& id);
  api_answer save_draft(const principal& p, const std::string& id, const nlohmann::json& body);
  api_answer publish(const principal& p, const std::string& id);
  api_answer list_versions(const principal& p, const std::string& id) const;
  api_answer rollback(const principal& p, const std::string& id, const std::string& version);
  api_answer set_scaling(const principal& p, const std::string& id, const nlohmann::json& body);

  api_answer create_secret(const principal& p, const nlohmann::json& body);
  api_answer list_secrets(const principal& p) const;
  api_answer delete_secret(const principal& p, const std::string& name);

  // For invoke: the app `id` as `p` may see it ("org:name"), or api_error 404.
  std::string visible_app(const principal& p, const std::string& id) const;

  // ---- for the data plane ----
  // The apps the API manages, as route-table input (apps with an active version). Kept
  // in memory: the first call reads the store, later calls re-read only the apps that
  // changed() named (an informer, as a Kubernetes controller keeps one).
  std::vector<routing::app_spec> api_apps() const;
  // Committed changes, from a store watch: the apps they touch are read again.
  void changed(const std::vector<routing::event>& events);
  // The registry credentials of secret `name` in `org`, unsealed; nullopt if none.
  std::optional<registry_credentials> credentials(const std::string& org, const std::string& name) const;

 private:
  struct app_doc;
  std::optional<app_doc> load_app(const std::string& org, const std::string& name,
                                  routing::revision* mod_revision = nullptr) const;
  nlohmann::json view(const app_doc& app) const;
  nlohmann::json view(const routing::app_spec& file_app) const;
  const routing::app_spec* file_app(const std::string& org, const std::string& name) const;
  // Splits "org:name" and checks `p` may act on it: 404 if not (as if it did not exist).
  std::pair<std::string, std::string> scoped(const principal& p, const std::string& id) const;
  app_doc writable_app(const principal& p, const std::string& id, routing::revision& mod_revision) const;
  std::vector<std::string> public_urls(const std::string& org, const std::string& name) const;
  void commit(const std::vector<routing::compare>& compares, const std::vector<routing::operation>& ops,
              const std::string& conflict_message);

  routing::state_store& store_;
  secret_box box_;
  options options_;
  image_checker image_checker_;
  mutable std::mutex mutex_;  // guards file_config_ and options_.http_port
  routing::config file_config_;

  // The informer behind api_apps(): "org/name" → the app as route-table input (nullopt:
  // no active version), and the apps to read again.
  std::optional<routing::app_spec> read_app(const std::string& org, const std::string& name) const;
  mutable std::mutex apps_mutex_;
  mutable bool apps_loaded_ = false;
  mutable std::map<std::string, routing::app_spec> apps_;
  mutable std::set<std::string> dirty_;
};

}  // namespace ignite::admin
