#include "admin/control_plane.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <unordered_map>

#include "admin/api_input.hpp"
#include "common/executable.hpp"
#include "common/strings.hpp"
#include "routing/image_ref.hpp"

namespace ignite::admin {

using nlohmann::json;
using routing::compare;
using routing::operation;

namespace {

constexpr std::string_view k_token_prefix = "igt_";

api_error invalid(const std::string& message) { return api_error(400, "invalid_argument", message); }
api_error not_found(const std::string& what) { return api_error(404, "not_found", what + " not found"); }
api_error conflict(const std::string& message) { return api_error(409, "conflict", message); }
api_error denied(const std::string& message) { return api_error(403, "permission_denied", message); }

std::string now_text() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];  // room for any int: the compiler cannot tell a year has four digits
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return text;
}

std::string app_key(const std::string& org, const std::string& name) { return "/apps/" + org + "/" + name; }
std::string label_key(const std::string& org, const std::string& name) { return "/labels/" + name + "-" + org; }
std::string versions_prefix(const std::string& org, const std::string& name) {
  return "/versions/" + org + "/" + name + "/";
}
std::string version_key(const std::string& org, const std::string& name, unsigned n) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%010u", n);
  return versions_prefix(org, name) + digits;
}
std::string secret_key(const std::string& org, const std::string& name) { return "/secrets/" + org + "/" + name; }
std::string token_key(const std::string& id) { return "/tokens/" + id; }

// "org:name" → its parts, checked.
std::pair<std::string, std::string> split_id(const std::string& id) {
  auto colon = id.find(':');
  if (colon == std::string::npos) throw invalid("the app id must be org:name, got \"" + id + "\"");
  auto org = id.substr(0, colon);
  auto name = id.substr(colon + 1);
  if (!routing::check_name(org).empty() || !routing::check_name(name).empty()) throw not_found("app " + id);
  return {org, name};
}

json scaling_json(const routing::scaling& s) {
  return {{"reserved_capacity", s.reserved_capacity},
          {"max_replicas", s.max_replicas},
          {"container_concurrency", s.container_concurrency},
          {"idle_timeout_ms", s.idle_timeout.count()}};
}

json source_json(const routing::version_spec& v) {
  json out = json::object();
  if (!v.endpoints.empty()) {
    json list = json::array();
    for (const auto& e : v.endpoints) list.push_back(e.to_string());
    out["endpoints"] = list;
  } else if (!v.command.empty()) {
    out["command"] = v.command;
  } else {
    out["image_ref"] = v.image_ref;
    if (!v.image_digest.empty()) out["image_digest"] = v.image_digest;
    if (!v.registry_secret_ref.empty()) out["registry_secret_ref"] = v.registry_secret_ref;
    if (!v.network.empty()) out["network"] = v.network;
  }
  return out;
}

// What an image version runs, "registry/repo@sha256:…", beside its source (where the tag
// is kept for display); null for other sources and unpinned images.
json pinned_image(const json& source) {
  if (!source.contains("image_ref") || !source.contains("image_digest")) return nullptr;
  std::string why;
  auto ref = routing::parse_image_ref(source["image_ref"].get<std::string>(), why);
  if (!ref) return nullptr;
  ref->digest = source["image_digest"].get<std::string>();
  return ref->pinned();
}

// Parses `source` (a draft or a stored version) as the config file's rules do.
routing::version_spec parse_source(const json& source, const std::string& path) {
  try {
    return routing::parse_source(source, path);
  } catch (const routing::config_error& e) {
    throw invalid(e.what());
  }
}

unsigned version_of_key(const std::string& key) {
  auto slash = key.rfind('/');
  unsigned n = 0;
  std::from_chars(key.data() + slash + 1, key.data() + key.size(), n);
  return n;
}

}  // namespace

// ---- the app document --------------------------------------------------------------------

struct control_plane::app_doc {
  std::string org;
  std::string name;
  std::string description;
  std::string created_at;
  json scaling = json::object();  // as given; defaults apply on read
  unsigned active_version = 0;    // 0: none yet
  unsigned last_version = 0;
  json draft;                       // null: none
  unsigned draft_published_as = 0;  // the version the current draft was published as

  std::string id() const { return org + ":" + name; }

  json to_json() const {
    return {{"org", org},
            {"name", name},
            {"description", description},
            {"created_at", created_at},
            {"scaling", scaling},
            {"active_version", active_version},
            {"last_version", last_version},
            {"draft", draft},
            {"draft_published_as", draft_published_as}};
  }
  static app_doc from_json(const json& j) {
    app_doc d;
    d.org = j.value("org", "");
    d.name = j.value("name", "");
    d.description = j.value("description", "");
    d.created_at = j.value("created_at", "");
    d.scaling = j.value("scaling", json::object());
    d.active_version = j.value("active_version", 0u);
    d.last_version = j.value("last_version", 0u);
    d.draft = j.contains("draft") ? j["draft"] : json();
    d.draft_published_as = j.value("draft_published_as", 0u);
    return d;
  }
  routing::scaling parsed_scaling() const { return routing::parse_scaling(scaling, "scaling"); }
};

control_plane::control_plane(routing::state_store& store, secret_box box, options opts)
    : store_(store), box_(box), options_(std::move(opts)) {}

void control_plane::set_file_config(const routing::config& cfg) {
  std::lock_guard lock(mutex_);
  file_config_ = cfg;
}

void control_plane::set_http_port(std::uint16_t port) {
  std::lock_guard lock(mutex_);
  options_.http_port = port;
}

const routing::app_spec* control_plane::file_app(const std::string& org, const std::string& name) const {
  for (const auto& a : file_config_.apps)
    if (a.org == org && a.name == name) return &a;
  return nullptr;
}

std::optional<control_plane::app_doc> control_plane::load_app(const std::string& org, const std::string& name,
                                                              routing::revision* mod_revision) const {
  auto kv = store_.get(app_key(org, name));
  if (!kv) return std::nullopt;
  if (mod_revision) *mod_revision = kv->mod_revision;
  return app_doc::from_json(json::parse(kv->value));
}

std::vector<std::string> control_plane::public_urls(const std::string& org, const std::string& name) const {
  std::lock_guard lock(mutex_);
  std::string url = "http://" + name + "-" + org + "." + options_.domain;
  if (options_.http_port != 80) url += ":" + std::to_string(options_.http_port);
  return {url};
}

json control_plane::view(const app_doc& app) const {
  json versions = json::array();
  for (const auto& kv : store_.range(versions_prefix(app.org, app.name))) versions.push_back(version_of_key(kv.key));
  json scaling;
  try {
    scaling = scaling_json(app.parsed_scaling());
  } catch (const routing::config_error&) {
    scaling = app.scaling;
  }
  return {{"id", app.id()},
          {"org", app.org},
          {"name", app.name},
          {"description", app.description},
          {"active_version", app.active_version ? json(app.active_version) : json()},
          {"versions", versions},
          {"draft", app.draft},
          {"scaling", scaling},
          {"public_urls", public_urls(app.org, app.name)},
          {"managed_by", "api"},
          {"created_at", app.created_at}};
}

json control_plane::view(const routing::app_spec& a) const {
  json versions = json::array();
  for (const auto& v : a.versions) versions.push_back(v.version);
  return {{"id", a.id()},
          {"org", a.org},
          {"name", a.name},
          {"description", a.description},
          {"active_version", a.active_version},
          {"versions", versions},
          {"draft", json()},
          {"scaling", scaling_json(a.scaling)},
          {"public_urls", public_urls(a.org, a.name)},
          {"managed_by", "config"},
          {"created_at", json()}};
}

std::pair<std::string, std::string> control_plane::scoped(const principal& p, const std::string& id) const {
  auto [org, name] = split_id(id);
  if (!p.is_operator && org != p.org) throw not_found("app " + id);
  return {org, name};
}

control_plane::app_doc control_plane::writable_app(const principal& p, const std::string& id,
                                                   routing::revision& mod_revision) const {
  auto [org, name] = scoped(p, id);
  if (auto app = load_app(org, name, &mod_revision)) return *app;
  {
    std::lock_guard lock(mutex_);
    if (file_app(org, name))
      throw api_error(409, "managed_by_config",
                      "app " + id + " comes from the config file and is read-only here; change the file");
  }
  throw not_found("app " + id);
}

void control_plane::commit(const std::vector<compare>& compares, const std::vector<operation>& ops,
                           const std::string& conflict_message) {
  try {
    if (!store_.txn(compares, ops).succeeded) throw conflict(conflict_message);
  } catch (const routing::state_error& e) {
    throw api_error(503, "state_unavailable", std::string("the state store cannot be written: ") + e.what());
  }
}

// ---- tokens ------------------------------------------------------------------------------

std::optional<principal> control_plane::authenticate(std::string_view authorization) const {
  if (!common::istarts_with(authorization, "bearer ")) return std::nullopt;
  auto token = common::trim_ows(authorization.substr(7));
  if (token.empty()) return std::nullopt;
  const auto presented = sha256_hex(token);
  if (!options_.operator_token.empty() && constant_time_equal(presented, sha256_hex(options_.operator_token)))
    return principal{true, {}, {}};
  if (!token.starts_with(k_token_prefix)) return std::nullopt;
  auto rest = token.substr(k_token_prefix.size());
  auto underscore = rest.find('_');
  if (underscore == std::string_view::npos) return std::nullopt;
  std::string id(rest.substr(0, underscore));
  if (id.empty() || id.size() > 64) return std::nullopt;
  // A store that cannot be read throws state_error: 503, not a refused token.
  auto kv = store_.get(token_key(id));
  if (!kv) return std::nullopt;
  auto doc = json::parse(kv->value);
  if (!constant_time_equal(presented, doc.value("hash", ""))) return std::nullopt;
  return principal{false, doc.value("org", ""), id};
}

api_answer control_plane::create_token(const principal& p, const std::string& org) {
  if (!p.is_operator) throw denied("only the operator token may create org tokens");
  if (auto why = routing::check_name(org); !why.empty()) throw invalid("org: " + why);
  // The id is hex: the token is "igt_<id>_<secret>", and the secret (base64url) may hold
  // '_' but the id may not.
  const auto id = sha256_hex(random_token(16)).substr(0, 20);
  const auto token = std::string(k_token_prefix) + id + "_" + random_token(32);
  const auto created = now_text();
  json doc = {{"org", org}, {"hash", sha256_hex(token)}, {"created_at", created}};
  commit({compare{token_key(id), 0}}, {operation{operation::kind::put, token_key(id), doc.dump()}},
         "token id collision; try again");
  return {201, {{"id", id}, {"org", org}, {"token", token}, {"created_at", created}}};
}

api_answer control_plane::list_tokens(const principal& p, const std::string& org) const {
  if (!p.is_operator) throw denied("only the operator token may list org tokens");
  json tokens = json::array();
  for (const auto& kv : store_.range("/tokens/")) {
    auto doc = json::parse(kv.value);
    if (doc.value("org", "") != org) continue;
    tokens.push_back({{"id", kv.key.substr(8)}, {"org", org}, {"created_at", doc.value("created_at", "")}});
  }
  return {200, {{"tokens", tokens}}};
}

api_answer control_plane::revoke_token(const principal& p, const std::string& org, const std::string& id) {
  if (!p.is_operator) throw denied("only the operator token may revoke org tokens");
  auto kv = store_.get(token_key(id));
  if (!kv || json::parse(kv->value).value("org", "") != org) throw not_found("token " + id + " of org " + org);
  commit({compare{kv->key, kv->mod_revision}}, {operation{operation::kind::erase, kv->key, {}}},
         "the token changed meanwhile; try again");
  return {200, {{"revoked", id}}};
}

// ---- apps --------------------------------------------------------------------------------

api_answer control_plane::create_app(const principal& p, const json& body) {
  const auto [org, name] = parse_app_request(p, body);
  const auto id = org + ":" + name;
  // Which app holds a label is named to the operator only: an org token must not learn
  // of another org's apps.
  auto holder = [&](const std::string& other) {
    return p.is_operator ? " by " + other : std::string(" by another app");
  };
  {
    std::lock_guard lock(mutex_);
    for (const auto& a : file_config_.apps) {
      if (a.org == org && a.name == name)
        throw api_error(409, "managed_by_config", "app " + id + " comes from the config file");
      if (a.label() == name + "-" + org)
        throw conflict("the host label " + name + "-" + org + " is taken" + holder(a.id() + " (config file)"));
    }
  }
  app_doc app;
  app.org = org;
  app.name = name;
  app.description = string_field(body, "description", false);
  app.created_at = now_text();
  const auto label = label_key(org, name);
  if (auto taken = store_.get(label)) {
    if (taken->value == id) throw conflict("app " + id + " already exists");
    throw conflict("the host label " + name + "-" + org + " is taken" + holder(taken->value));
  }
  commit({compare{app_key(org, name), 0}, compare{label, 0}},
         {operation{operation::kind::put, app_key(org, name), app.to_json().dump()},
          operation{operation::kind::put, label, id}},
         "app " + id + " already exists");
  return {201, view(app)};
}

api_answer control_plane::get_app(const principal& p, const std::string& id) const {
  auto [org, name] = scoped(p, id);
  if (auto app = load_app(org, name)) return {200, view(*app)};
  std::optional<routing::app_spec> spec;
  {
    std::lock_guard lock(mutex_);  // not held by view(), which takes it for the port
    if (const auto* a = file_app(org, name)) spec = *a;
  }
  if (spec) return {200, view(*spec)};
  throw not_found("app " + id);
}

api_answer control_plane::list_apps(const principal& p) const {
  json apps = json::array();
  for (const auto& kv : store_.range(p.is_operator ? "/apps/" : "/apps/" + p.org + "/"))
    apps.push_back(view(app_doc::from_json(json::parse(kv.value))));
  std::vector<routing::app_spec> file_apps;
  {
    std::lock_guard lock(mutex_);
    for (const auto& a : file_config_.apps)
      if (p.is_operator || a.org == p.org) file_apps.push_back(a);
  }
  for (const auto& a : file_apps) apps.push_back(view(a));
  return {200, {{"apps", apps}}};
}

api_answer control_plane::delete_app(const principal& p, const std::string& id) {
  routing::revision rev = 0;
  auto app = writable_app(p, id, rev);
  std::vector<operation> ops{operation{operation::kind::erase, app_key(app.org, app.name), {}},
                             operation{operation::kind::erase, label_key(app.org, app.name), {}}};
  for (const auto& kv : store_.range(versions_prefix(app.org, app.name)))
    ops.push_back(operation{operation::kind::erase, kv.key, {}});
  commit({compare{app_key(app.org, app.name), rev}}, ops, "app " + id + " changed meanwhile; try again");
  return {200, {{"deleted", app.id()}}};
}

api_answer control_plane::save_draft(const principal& p, const std::string& id, const json& body) {
  check_draft_body(body);
  routing::revision rev = 0;
  auto app = writable_app(p, id, rev);
  auto spec = parse_draft_request(p, body);
  if (!spec.registry_secret_ref.empty() && !store_.get(secret_key(app.org, spec.registry_secret_ref)))
    throw invalid("registry_secret_ref: no secret named \"" + spec.registry_secret_ref + "\" in org " + app.org +
                  "; create it with secret create");
  app.draft = source_json(spec);
  app.draft_published_as = 0;
  commit({compare{app_key(app.org, app.name), rev}},
         {operation{operation::kind::put, app_key(app.org, app.name), app.to_json().dump()}},
         "app " + id + " changed meanwhile; try again");
  return {200, view(app)};
}

api_answer control_plane::publish(const principal& p, const std::string& id) {
  routing::revision rev = 0;
  auto app = writable_app(p, id, rev);
  if (app.draft.is_null()) throw conflict("app " + id + " has no draft to publish; save one with draft save");
  if (app.draft_published_as && store_.get(version_key(app.org, app.name, app.draft_published_as)))
    throw conflict("the draft is unchanged since it was published as version " +
                   std::to_string(app.draft_published_as) + "; save a new draft to publish again");
  auto spec = parse_source(app.draft, "draft");
  // What could make the version fail to run is checked now, not at its first request.
  if (!spec.command.empty()) {
    std::string why;
    if (common::find_executable(spec.command[0], why).empty())
      throw invalid("draft.command: \"" + spec.command[0] + "\" " + why);
  }
  if (!spec.image_ref.empty()) {
    std::optional<registry_credentials> creds;
    if (!spec.registry_secret_ref.empty()) {
      creds = credentials(app.org, spec.registry_secret_ref);
      if (!creds)
        throw invalid("registry_secret_ref: no secret named \"" + spec.registry_secret_ref + "\" in org " + app.org);
    }
    if (image_checker_) spec.image_digest = image_checker_(spec, creds).digest;
  }
  const unsigned n = app.last_version + 1;
  const auto created = now_text();
  json version = {{"version", n}, {"source", source_json(spec)}, {"created_at", created}};
  app.active_version = n;
  app.last_version = n;
  app.draft_published_as = n;
  commit({compare{app_key(app.org, app.name), rev}, compare{version_key(app.org, app.name, n), 0}},
         {operation{operation::kind::put, version_key(app.org, app.name, n), version.dump()},
          operation{operation::kind::put, app_key(app.org, app.name), app.to_json().dump()}},
         "app " + id + " changed meanwhile (another publish?); try again");
  return {201,
          {{"app", app.id()},
           {"version", n},
           {"source", version["source"]},
           {"image", pinned_image(version["source"])},
           {"created_at", created}}};
}

api_answer control_plane::list_versions(const principal& p, const std::string& id) const {
  auto [org, name] = scoped(p, id);
  json versions = json::array();
  if (auto app = load_app(org, name)) {
    for (const auto& kv : store_.range(versions_prefix(org, name))) {
      auto doc = json::parse(kv.value);
      doc["active"] = doc.value("version", 0u) == app->active_version;
      doc["image"] = pinned_image(doc["source"]);
      versions.push_back(doc);
    }
    return {200, {{"versions", versions}}};
  }
  std::lock_guard lock(mutex_);
  const auto* a = file_app(org, name);
  if (!a) throw not_found("app " + id);
  for (const auto& v : a->versions)
    versions.push_back({{"version", v.version},
                        {"source", source_json(v)},
                        {"created_at", json()},
                        {"active", v.version == a->active_version}});
  return {200, {{"versions", versions}}};
}

api_answer control_plane::rollback(const principal& p, const std::string& id, const std::string& version) {
  unsigned n = 0;
  auto [end, ec] = std::from_chars(version.data(), version.data() + version.size(), n);
  if (ec != std::errc{} || end != version.data() + version.size() || n == 0)
    throw invalid("version: must be a version number, got \"" + version + "\"");
  routing::revision rev = 0;
  auto app = writable_app(p, id, rev);
  auto kv = store_.get(version_key(app.org, app.name, n));
  if (!kv) throw not_found("version " + version + " of " + id);
  app.active_version = n;
  commit({compare{app_key(app.org, app.name), rev}, compare{kv->key, kv->mod_revision}},
         {operation{operation::kind::put, app_key(app.org, app.name), app.to_json().dump()}},
         "app " + id + " changed meanwhile; try again");
  return {200, view(app)};
}

api_answer control_plane::set_scaling(const principal& p, const std::string& id, const json& body) {
  object_body(body);
  routing::revision rev = 0;
  auto app = writable_app(p, id, rev);
  app.scaling = merge_scaling(app.scaling, body);
  commit({compare{app_key(app.org, app.name), rev}},
         {operation{operation::kind::put, app_key(app.org, app.name), app.to_json().dump()}},
         "app " + id + " changed meanwhile; try again");
  return {200, view(app)};
}

std::string control_plane::visible_app(const principal& p, const std::string& id) const {
  auto [org, name] = scoped(p, id);
  if (load_app(org, name)) return org + ":" + name;
  std::lock_guard lock(mutex_);
  if (file_app(org, name)) return org + ":" + name;
  throw not_found("app " + id);
}

// ---- secrets -----------------------------------------------------------------------------

api_answer control_plane::create_secret(const principal& p, const json& body) {
  const auto r = parse_secret_request(p, body);
  const auto& [org, name, type, server, username, password] = r;
  const auto id = org + ":" + name;
  const auto created = now_text();
  json doc = {{"type", type},
              {"server", server},
              {"username", username},
              {"password_sealed", box_.seal(password, id)},
              {"created_at", created}};
  commit({compare{secret_key(org, name), 0}}, {operation{operation::kind::put, secret_key(org, name), doc.dump()}},
         "secret " + id + " already exists; delete it first");
  return {201,
          {{"id", id},
           {"org", org},
           {"name", name},
           {"type", type},
           {"server", server},
           {"username", username},
           {"created_at", created}}};
}

api_answer control_plane::list_secrets(const principal& p) const {
  json secrets = json::array();
  for (const auto& kv : store_.range(p.is_operator ? "/secrets/" : "/secrets/" + p.org + "/")) {
    auto rest = kv.key.substr(9);  // "org/name"
    auto slash = rest.find('/');
    auto doc = json::parse(kv.value);
    secrets.push_back({{"id", rest.substr(0, slash) + ":" + rest.substr(slash + 1)},
                       {"org", rest.substr(0, slash)},
                       {"name", rest.substr(slash + 1)},
                       {"type", doc.value("type", "")},
                       {"server", doc.value("server", "")},
                       {"username", doc.value("username", "")},
                       {"created_at", doc.value("created_at", "")}});
  }
  return {200, {{"secrets", secrets}}};
}

api_answer control_plane::delete_secret(const principal& p, const std::string& name_or_id) {
  std::string org = p.org;
  std::string name = name_or_id;
  if (auto colon = name_or_id.find(':'); colon != std::string::npos) {
    org = name_or_id.substr(0, colon);
    name = name_or_id.substr(colon + 1);
  } else if (p.is_operator) {
    throw invalid("name: the operator names a secret as org:name");
  }
  const auto id = org + ":" + name;
  if (!p.is_operator && org != p.org) throw not_found("secret " + id);
  if (!routing::check_name(org).empty() || !routing::check_name(name).empty()) throw not_found("secret " + id);
  auto kv = store_.get(secret_key(org, name));
  if (!kv) throw not_found("secret " + id);
  // A version that runs with this secret must keep being able to pull its image.
  for (const auto& v : store_.range("/versions/" + org + "/")) {
    auto doc = json::parse(v.value);
    if (doc["source"].value("registry_secret_ref", "") != name) continue;
    auto rest = v.key.substr(10 + org.size() + 1);  // "<name>/<n>"
    throw conflict("secret " + id + " is used by " + org + ":" + rest.substr(0, rest.find('/')) + " version " +
                   std::to_string(doc.value("version", 0u)) + "; publish versions without it first");
  }
  commit({compare{kv->key, kv->mod_revision}}, {operation{operation::kind::erase, kv->key, {}}},
         "secret " + id + " changed meanwhile; try again");
  return {200, {{"deleted", id}}};
}

std::optional<registry_credentials> control_plane::credentials(const std::string& org, const std::string& name) const {
  auto kv = store_.get(secret_key(org, name));
  if (!kv) return std::nullopt;
  auto doc = json::parse(kv->value);
  auto password = box_.open(doc.value("password_sealed", ""), org + ":" + name);
  if (!password) return std::nullopt;
  return registry_credentials{doc.value("server", ""), doc.value("username", ""), *password};
}

// ---- for the data plane ------------------------------------------------------------------

std::optional<routing::app_spec> control_plane::read_app(const std::string& org, const std::string& name) const {
  auto app = load_app(org, name);
  if (!app || !app->active_version) return std::nullopt;
  routing::app_spec spec;
  spec.org = app->org;
  spec.name = app->name;
  spec.description = app->description;
  spec.active_version = app->active_version;
  try {
    spec.scaling = app->parsed_scaling();
  } catch (const routing::config_error&) {
    return std::nullopt;  // stored by an older rule; never served half-configured
  }
  for (const auto& kv : store_.range(versions_prefix(org, name))) {
    auto doc = json::parse(kv.value);
    auto version = parse_source(doc["source"], kv.key);
    version.version = doc.value("version", 0u);
    spec.versions.push_back(std::move(version));
  }
  if (!spec.active()) return std::nullopt;
  return spec;
}

std::vector<routing::app_spec> control_plane::api_apps() const {
  std::lock_guard lock(apps_mutex_);
  if (!apps_loaded_) {
    // Every version, grouped by app ("org/name"), then every app: two range reads.
    std::unordered_map<std::string, std::vector<routing::version_spec>> versions;
    for (const auto& kv : store_.range("/versions/")) {
      auto rest = std::string_view(kv.key).substr(10);  // "org/name/0000000001"
      auto doc = json::parse(kv.value);
      auto version = parse_source(doc["source"], kv.key);
      version.version = doc.value("version", 0u);
      versions[std::string(rest.substr(0, rest.rfind('/')))].push_back(std::move(version));
    }
    for (const auto& kv : store_.range("/apps/")) {
      auto app = app_doc::from_json(json::parse(kv.value));
      if (!app.active_version) continue;
      routing::app_spec spec;
      spec.org = app.org;
      spec.name = app.name;
      spec.description = app.description;
      spec.active_version = app.active_version;
      try {
        spec.scaling = app.parsed_scaling();
      } catch (const routing::config_error&) {
        continue;
      }
      const auto key = app.org + "/" + app.name;
      if (auto it = versions.find(key); it != versions.end()) spec.versions = std::move(it->second);
      if (spec.active()) apps_.emplace(key, std::move(spec));
    }
    apps_loaded_ = true;
    dirty_.clear();
  }
  for (const auto& key : dirty_) {
    auto slash = key.find('/');
    if (auto spec = read_app(key.substr(0, slash), key.substr(slash + 1)))
      apps_[key] = std::move(*spec);
    else
      apps_.erase(key);
  }
  dirty_.clear();
  std::vector<routing::app_spec> out;
  out.reserve(apps_.size());
  for (const auto& [key, spec] : apps_) out.push_back(spec);
  return out;
}

void control_plane::changed(const std::vector<routing::event>& events) {
  std::lock_guard lock(apps_mutex_);
  for (const auto& e : events) {
    std::string_view key = e.kv.key;
    std::string_view rest;
    if (key.starts_with("/apps/"))
      rest = key.substr(6);
    else if (key.starts_with("/versions/"))
      rest = key.substr(10);
    else
      continue;
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) continue;
    auto end = rest.find('/', slash + 1);
    dirty_.emplace(rest.substr(0, end));
  }
}

}  // namespace ignite::admin
