#include "app/image_service.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "routing/image_ref.hpp"

namespace ignite::app {

using json = nlohmann::json;

namespace {

// Stable across restarts of the same proxy (same state file), different for two
// proxies on one machine: FNV-1a of the state file's absolute path.
std::string instance_of(const std::string& state_file) {
  std::error_code ec;
  auto path = std::filesystem::weakly_canonical(std::filesystem::absolute(state_file), ec).string();
  if (ec) path = std::filesystem::absolute(state_file).string();
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : path) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return std::string(text, 12);
}

std::string pin_key(const std::string& org, const std::string& name, unsigned version) {
  char n[16];
  std::snprintf(n, sizeof n, "%010u", version);
  return "/pins/" + org + "/" + name + "/" + n;
}

// "registry/repo@sha256:…" of a version, or empty if it is not a pinned image.
std::string pinned(const routing::version_spec& v) {
  if (v.image_ref.empty() || v.image_digest.empty()) return {};
  std::string why;
  auto ref = routing::parse_image_ref(v.image_ref, why);
  if (!ref) return {};
  ref->digest = v.image_digest;
  return ref->pinned();
}

std::string json_string(std::string_view s) {
  std::string out;
  common::append_json_string(out, s);
  return out;
}

}  // namespace

image_service::image_service(boost::asio::io_context& supervisor,
                             std::function<void(const coldstart::pod_output&)> sink, const routing::config& cfg,
                             routing::state_store& store, admin::control_plane& plane)
    : store_(store), plane_(plane), instance_(instance_of(cfg.state_file)) {
  const auto state_dir = std::filesystem::absolute(cfg.state_file).parent_path();
  coldstart::image_registry::settings registry;
  registry.insecure_registries = cfg.containers.insecure_registries;
  registry.auth_dir = state_dir / "registry-auth";
  registry_ = std::make_unique<coldstart::image_registry>(registry);

  coldstart::podman_provider::settings pods;
  pods.instance = instance_;
  pods.network = cfg.containers.network;
  provider_ = std::make_unique<coldstart::podman_provider>(
      supervisor, std::move(sink), pods, *registry_, [this](const coldstart::pod_spec& spec) {
        auto colon = spec.app_id.find(':');
        return plane_.credentials(spec.app_id.substr(0, colon), spec.registry_secret_ref);
      });
  provider_->on_first_container([this] {
    store_.txn({}, {{routing::operation::kind::put, "/nodes/" + instance_, R"({"containers":true})"}});
  });

  coldstart::image_cache::settings images;
  images.gc_grace = cfg.containers.image_gc_grace;
  cache_ = std::make_unique<coldstart::image_cache>(
      images, *registry_, [this] { return referenced(); },
      [this](const std::string& image, bool tracked) { tracked_changed(image, tracked); });
  set_file_config(cfg);
}

void image_service::start(const routing::config& cfg) {
  std::vector<std::string> adopted;
  for (const auto& kv : store_.range("/images/" + instance_ + "/")) {
    try {
      adopted.push_back(json::parse(kv.value).at("image").get<std::string>());
    } catch (const std::exception&) {
    }
  }
  cache_->adopt(adopted);
  cache_->start();
  // Leftovers are looked for when this instance has run containers before; the config
  // file's image versions will need the engine soon anyway.
  bool images_in_config = false;
  for (const auto& a : cfg.apps)
    for (const auto& v : a.versions) images_in_config |= !v.image_ref.empty();
  if (images_in_config || store_.get("/nodes/" + instance_)) provider_->prepare();
}

coldstart::image_request image_service::request_for(const std::string& org, const routing::version_spec& v) const {
  coldstart::image_request request;
  request.image = v.image_ref;
  std::string why;
  if (auto ref = routing::parse_image_ref(v.image_ref, why)) request.registry = ref->registry;
  request.secret_ref = v.registry_secret_ref;
  if (!v.registry_secret_ref.empty()) request.credentials = plane_.credentials(org, v.registry_secret_ref);
  return request;
}

void image_service::pin(routing::config& cfg) {
  for (std::size_t a = 0; a < cfg.apps.size(); ++a) {
    auto& app = cfg.apps[a];
    for (std::size_t i = 0; i < app.versions.size(); ++i) {
      auto& v = app.versions[i];
      if (v.image_ref.empty()) continue;
      const auto path = "apps[" + std::to_string(a) + "].versions[" + std::to_string(i) + "]";
      auto request = request_for(app.org, v);
      if (!v.registry_secret_ref.empty() && !request.credentials)
        throw routing::config_error(path + ".registry_secret_ref", "no secret named \"" + v.registry_secret_ref +
                                                                       "\" in org " + app.org +
                                                                       "; create it with ignite secret create");
      if (v.image_digest.empty()) {
        const auto key = pin_key(app.org, app.name, v.version);
        if (auto kv = store_.get(key)) {
          auto doc = json::parse(kv->value, nullptr, false);
          if (doc.is_object() && doc.value("image_ref", "") == v.image_ref)
            v.image_digest = doc.value("image_digest", "");
        }
        if (v.image_digest.empty()) {
          try {
            v.image_digest = registry_->resolve_digest(request);
          } catch (const coldstart::registry_error& e) {
            throw routing::config_error(path + ".image_ref", e.what());
          }
          store_.txn({}, {{routing::operation::kind::put, key,
                           json{{"image_ref", v.image_ref}, {"image_digest", v.image_digest}}.dump()}});
          common::log_event("image_pinned", "\"app\":" + json_string(app.id()) + ",\"version\":" +
                                                std::to_string(v.version) + ",\"image\":" + json_string(pinned(v)));
        }
      }
      request.image = pinned(v);
      cache_->prefetch(request);
    }
  }
}

admin::image_check image_service::check(const routing::version_spec& v,
                                        const std::optional<coldstart::registry_credentials>& creds) {
  coldstart::image_request request;
  request.image = v.image_ref;
  std::string why;
  auto ref = routing::parse_image_ref(v.image_ref, why);
  if (!ref) throw admin::api_error(400, "invalid_argument", "image_ref: " + why);
  request.registry = ref->registry;
  request.secret_ref = v.registry_secret_ref;
  request.credentials = creds;
  admin::image_check out;
  try {
    out.digest = registry_->resolve_digest(request);
  } catch (const coldstart::registry_error& e) {
    throw admin::api_error(422, "image_unavailable", e.what());
  }
  ref->digest = out.digest;
  request.image = ref->pinned();
  cache_->prefetch(request);
  return out;
}

void image_service::set_file_config(const routing::config& cfg) {
  std::set<std::string> images;
  for (const auto& a : cfg.apps)
    for (const auto& v : a.versions)
      if (auto p = pinned(v); !p.empty()) images.insert(p);
  std::lock_guard lock(config_mutex_);
  file_images_ = std::move(images);
}

// Every version that exists, active or not (a rollback may need any of them), of the
// config file and of the API.
std::set<std::string> image_service::referenced() {
  std::set<std::string> out;
  {
    std::lock_guard lock(config_mutex_);
    out = file_images_;
  }
  for (const auto& kv : store_.range("/versions/")) {
    auto doc = json::parse(kv.value, nullptr, false);
    if (!doc.is_object() || !doc.contains("source") || !doc["source"].is_object()) continue;
    const auto& source = doc["source"];
    routing::version_spec v;
    v.image_ref = source.value("image_ref", "");
    v.image_digest = source.value("image_digest", "");
    if (auto p = pinned(v); !p.empty()) out.insert(p);
  }
  return out;
}

void image_service::tracked_changed(const std::string& image, bool tracked) {
  const auto key = "/images/" + instance_ + "/" + image;
  try {
    if (tracked)
      store_.txn({}, {{routing::operation::kind::put, key, json{{"image", image}}.dump()}});
    else
      store_.txn({}, {{routing::operation::kind::erase, key, {}}});
  } catch (const std::exception& e) {
    common::log_event("state_write_failed", "\"key\":" + json_string(key) + ",\"error\":" + json_string(e.what()));
  }
}

}  // namespace ignite::app
