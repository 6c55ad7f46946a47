#include "routing/config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/executable.hpp"
#include "common/json_depth.hpp"
#include "routing/image_ref.hpp"

namespace ignite::routing {

namespace {

using json = nlohmann::json;

std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

std::string index(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

// Unknown keys are refused: a typo in a limit must not silently leave the default.
void only_keys(const json& object, const std::string& path, std::initializer_list<const char*> allowed) {
  for (const auto& item : object.items()) {
    bool known = false;
    for (const char* key : allowed) known = known || item.key() == key;
    if (!known) throw config_error(join(path, item.key()), "unknown key");
  }
}

const json& object_at(const json& parent, const std::string& path) {
  if (!parent.is_object()) throw config_error(path, "must be an object");
  return parent;
}

std::string string_at(const json& value, const std::string& path) {
  if (!value.is_string()) throw config_error(path, "must be a string");
  return value.get<std::string>();
}

std::uint64_t unsigned_at(const json& value, const std::string& path, std::uint64_t min, std::uint64_t max) {
  if (!value.is_number_integer() && !value.is_number_unsigned()) throw config_error(path, "must be a whole number");
  if (value.is_number_integer() && value.get<std::int64_t>() < 0) throw config_error(path, "must not be negative");
  auto v = value.get<std::uint64_t>();
  if (v < min || v > max)
    throw config_error(path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  return v;
}

std::vector<std::string> strings_at(const json& value, const std::string& path) {
  if (!value.is_array()) throw config_error(path, "must be an array of strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < value.size(); ++i) out.push_back(string_at(value[i], index(path, i)));
  return out;
}

// A pod's "host:port": the host may be a name, resolved once when its pod starts.
common::host_port endpoint_at(const json& value, const std::string& path) {
  auto text = string_at(value, path);
  std::string why;
  auto address = common::parse_host_port(text, false, why);
  if (!address) throw config_error(path, why + ", got \"" + text + "\"");
  return *address;
}

// A listener's "ip:port": an IP literal, so that --check-config accepts exactly what
// start-up can bind; port 0 binds any free port (tests use it).
common::host_port listen_at(const json& value, const std::string& path) {
  auto text = string_at(value, path);
  std::string why;
  auto address = common::parse_host_port(text, true, why);
  if (!address) throw config_error(path, why + ", got \"" + text + "\"");
  if (!common::is_ip_literal(address->host))
    throw config_error(path, "must be an IP address and port, like 127.0.0.1:8080, got \"" + text + "\"");
  return *address;
}

milliseconds ms_at(const json& value, const std::string& path, std::uint64_t min = 1) {
  return milliseconds(unsigned_at(value, path, min, 24ull * 3600 * 1000));
}

// Labels of letters, digits and '-' (not at either end), 1 to 63 bytes each, 253 in
// all: what a Host can name. Anything else (a port, a space, a '/') would be accepted and
// never match a request (label_of_host), leaving every app unreachable.
bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  for (;;) {
    const auto dot = name.find('.');
    const auto label = name.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char ch : label)
      if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) return false;
    if (dot == std::string_view::npos) return true;
    name.remove_prefix(dot + 1);
  }
}

limits parse_limits(const json& j, const std::string& path) {
  object_at(j, path);
  only_keys(j, path,
            {"max_header_bytes", "max_body_bytes", "client_header_timeout_ms", "client_idle_timeout_ms",
             "upstream_connect_timeout_ms", "request_timeout_ms", "cold_start_timeout_ms", "max_held_requests",
             "max_connections", "drain_timeout_ms", "tls_handshake_timeout_ms", "client_body_min_rate_bytes_per_s",
             "client_send_timeout_ms"});
  limits l;
  auto size = [&](const char* key, std::size_t& out, std::uint64_t min, std::uint64_t max) {
    if (j.contains(key)) out = unsigned_at(j[key], join(path, key), min, max);
  };
  auto duration = [&](const char* key, milliseconds& out, std::uint64_t min = 1) {
    if (j.contains(key)) out = ms_at(j[key], join(path, key), min);
  };
  size("max_header_bytes", l.max_header_bytes, 1024, 1 << 20);
  size("max_body_bytes", l.max_body_bytes, 0, 1ull << 32);
  duration("client_header_timeout_ms", l.client_header_timeout);
  duration("client_idle_timeout_ms", l.client_idle_timeout);
  duration("upstream_connect_timeout_ms", l.upstream_connect_timeout);
  duration("request_timeout_ms", l.request_timeout);
  duration("cold_start_timeout_ms", l.cold_start_timeout);
  size("max_held_requests", l.max_held_requests, 0, 1 << 24);
  size("max_connections", l.max_connections, 1, 1 << 24);
  duration("drain_timeout_ms", l.drain_timeout, 0);
  size("client_body_min_rate_bytes_per_s", l.client_body_min_rate, 0, 1ull << 30);
  duration("client_send_timeout_ms", l.client_send_timeout);
  duration("tls_handshake_timeout_ms", l.tls_handshake_timeout);
  return l;
}

std::string network_at(const json& value, const std::string& path) {
  auto network = string_at(value, path);
  if (network != "private" && network != "host")
    throw config_error(
        path, "must be \"private\" (the container's own network namespace) or \"host\", got \"" + network + "\"");
  return network;
}

containers_spec parse_containers(const json& j, const std::string& path) {
  object_at(j, path);
  only_keys(j, path, {"network", "insecure_registries", "image_gc_grace_ms"});
  containers_spec c;
  if (j.contains("network")) c.network = network_at(j["network"], join(path, "network"));
  if (j.contains("insecure_registries")) {
    c.insecure_registries = strings_at(j["insecure_registries"], join(path, "insecure_registries"));
    for (std::size_t i = 0; i < c.insecure_registries.size(); ++i) {
      const auto& r = c.insecure_registries[i];
      if (r.empty() || r.find_first_of("/@ \t") != std::string::npos)
        throw config_error(
            index(join(path, "insecure_registries"), i),
            "must be a registry host, with its port if it has one (\"127.0.0.1:5000\"), got \"" + r + "\"");
    }
  }
  if (j.contains("image_gc_grace_ms"))
    c.image_gc_grace = ms_at(j["image_gc_grace_ms"], join(path, "image_gc_grace_ms"), 0);
  return c;
}

scaling parse_scaling_at(const json& j, const std::string& path) {
  object_at(j, path);
  only_keys(j, path, {"reserved_capacity", "max_replicas", "container_concurrency", "idle_timeout_ms"});
  scaling s;
  if (j.contains("reserved_capacity"))
    s.reserved_capacity = unsigned_at(j["reserved_capacity"], join(path, "reserved_capacity"), 0, 1000);
  if (j.contains("max_replicas")) s.max_replicas = unsigned_at(j["max_replicas"], join(path, "max_replicas"), 1, 1000);
  if (j.contains("container_concurrency"))
    s.container_concurrency = unsigned_at(j["container_concurrency"], join(path, "container_concurrency"), 0, 100000);
  if (j.contains("idle_timeout_ms")) s.idle_timeout = ms_at(j["idle_timeout_ms"], join(path, "idle_timeout_ms"));
  if (s.reserved_capacity > s.max_replicas)
    throw config_error(join(path, "reserved_capacity"), "must not exceed max_replicas");
  return s;
}

version_spec parse_version(const json& j, const std::string& path) {
  object_at(j, path);
  if (!j.contains("version")) throw config_error(join(path, "version"), "is required");
  auto source = j;
  source.erase("version");
  version_spec v = parse_source(source, path);
  v.version = unsigned_at(j["version"], join(path, "version"), 1, 1u << 30);
  return v;
}

app_spec parse_app(const json& j, const std::string& path) {
  object_at(j, path);
  only_keys(j, path, {"org", "name", "description", "active_version", "versions", "scaling"});
  app_spec app;
  for (const char* key : {"org", "name"}) {
    if (!j.contains(key)) throw config_error(join(path, key), "is required");
    auto value = string_at(j[key], join(path, key));
    if (auto why = check_name(value); !why.empty()) throw config_error(join(path, key), why);
    (std::string(key) == "org" ? app.org : app.name) = value;
  }
  if (app.label().size() > 63)
    throw config_error(join(path, "name"), "host label \"" + app.label() + "\" is longer than 63 characters");
  if (j.contains("description")) app.description = string_at(j["description"], join(path, "description"));
  if (!j.contains("versions")) throw config_error(join(path, "versions"), "is required");
  const auto& versions = j["versions"];
  if (!versions.is_array() || versions.empty()) throw config_error(join(path, "versions"), "must be a non-empty array");
  std::set<unsigned> seen;
  for (std::size_t i = 0; i < versions.size(); ++i) {
    auto v = parse_version(versions[i], index(join(path, "versions"), i));
    if (!seen.insert(v.version).second)
      throw config_error(index(join(path, "versions"), i) + ".version",
                         "version " + std::to_string(v.version) + " is listed twice");
    app.versions.push_back(std::move(v));
  }
  // Without active_version the newest version serves.
  app.active_version = *seen.rbegin();
  if (j.contains("active_version")) {
    app.active_version = unsigned_at(j["active_version"], join(path, "active_version"), 1, 1u << 30);
    if (!seen.contains(app.active_version))
      throw config_error(join(path, "active_version"),
                         "version " + std::to_string(app.active_version) + " is not in versions");
  }
  if (j.contains("scaling")) app.scaling = parse_scaling_at(j["scaling"], join(path, "scaling"));
  return app;
}

}  // namespace

version_spec parse_source(const json& j, const std::string& path) {
  object_at(j, path);
  only_keys(j, path, {"endpoints", "command", "image_ref", "image_digest", "registry_secret_ref", "network"});
  version_spec v;
  int sources = 0;
  if (j.contains("endpoints")) {
    ++sources;
    const auto& list = j["endpoints"];
    if (!list.is_array()) throw config_error(join(path, "endpoints"), "must be an array of strings");
    if (list.empty()) throw config_error(join(path, "endpoints"), "must list at least one host:port");
    for (std::size_t i = 0; i < list.size(); ++i)
      v.endpoints.push_back(endpoint_at(list[i], index(join(path, "endpoints"), i)));
  }
  if (j.contains("command")) {
    ++sources;
    v.command = strings_at(j["command"], join(path, "command"));
    if (v.command.empty() || v.command[0].empty())
      throw config_error(join(path, "command"), "must be a non-empty argv");
  }
  if (j.contains("image_ref")) {
    ++sources;
    v.image_ref = string_at(j["image_ref"], join(path, "image_ref"));
    std::string why;
    if (!parse_image_ref(v.image_ref, why)) throw config_error(join(path, "image_ref"), why);
  }
  if (j.contains("image_digest")) {
    if (v.image_ref.empty()) throw config_error(join(path, "image_digest"), "is only valid with image_ref");
    v.image_digest = string_at(j["image_digest"], join(path, "image_digest"));
    std::string why;
    if (!parse_image_ref("localhost/x@" + v.image_digest, why))
      throw config_error(join(path, "image_digest"), "must be sha256: and 64 lowercase hex digits");
  }
  if (j.contains("registry_secret_ref")) {
    if (v.image_ref.empty()) throw config_error(join(path, "registry_secret_ref"), "is only valid with image_ref");
    v.registry_secret_ref = string_at(j["registry_secret_ref"], join(path, "registry_secret_ref"));
    if (auto why = check_name(v.registry_secret_ref); !why.empty())
      throw config_error(join(path, "registry_secret_ref"), why);
  }
  if (j.contains("network")) {
    if (v.image_ref.empty()) throw config_error(join(path, "network"), "is only valid with image_ref");
    v.network = network_at(j["network"], join(path, "network"));
  }
  if (sources != 1) throw config_error(path, "needs exactly one source: endpoints, command or image_ref");
  return v;
}

scaling parse_scaling(const json& j, const std::string& path) { return parse_scaling_at(j, path); }

config_error::config_error(std::string field, const std::string& message)
    : std::runtime_error(field.empty() ? message : field + ": " + message), field_(std::move(field)) {}

const version_spec* app_spec::active() const {
  for (const auto& v : versions)
    if (v.version == active_version) return &v;
  return nullptr;
}

std::string check_name(const std::string& name) {
  if (name.empty()) return "must not be empty";
  if (name[0] < 'a' || name[0] > 'z') return "must start with a lowercase letter";
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return "may contain only lowercase letters, digits and '-'";
  if (name.back() == '-') return "must not end with '-'";
  return {};
}

config parse_config(const json& j) {
  if (!j.is_object()) throw config_error("", "the config must be a JSON object");
  only_keys(j, "",
            {"domain", "listen", "threads", "tls", "admin_token_env", "state_file", "state", "secrets_key_file",
             "limits", "containers", "log", "apps"});
  config c;
  if (j.contains("domain")) {
    c.domain = string_at(j["domain"], "domain");
    for (auto& ch : c.domain) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (!is_dns_name(c.domain)) throw config_error("domain", "must be a DNS name like ignite.dodil.cloud");
  }
  if (j.contains("listen")) {
    const auto& l = object_at(j["listen"], "listen");
    only_keys(l, "listen", {"http", "https", "admin"});
    if (l.contains("http")) c.listen.http = listen_at(l["http"], "listen.http");
    if (l.contains("https")) c.listen.https = listen_at(l["https"], "listen.https");
    if (l.contains("admin")) c.listen.admin = listen_at(l["admin"], "listen.admin");
  }
  if (j.contains("threads")) c.threads = unsigned_at(j["threads"], "threads", 0, 256);
  if (j.contains("tls")) {
    const auto& t = object_at(j["tls"], "tls");
    only_keys(t, "tls", {"certificates", "ticket_key_rotation_ms", "prewarm_on_sni"});
    if (t.contains("certificates")) {
      const auto& certs = t["certificates"];
      if (!certs.is_array()) throw config_error("tls.certificates", "must be an array");
      bool have_default = false;
      for (std::size_t i = 0; i < certs.size(); ++i) {
        auto path = index("tls.certificates", i);
        object_at(certs[i], path);
        only_keys(certs[i], path, {"cert_file", "key_file", "default"});
        tls_certificate cert;
        for (const char* key : {"cert_file", "key_file"}) {
          if (!certs[i].contains(key)) throw config_error(join(path, key), "is required");
          (std::string(key) == "cert_file" ? cert.cert_file : cert.key_file) =
              string_at(certs[i][key], join(path, key));
        }
        if (certs[i].contains("default")) {
          if (!certs[i]["default"].is_boolean()) throw config_error(join(path, "default"), "must be true or false");
          cert.is_default = certs[i]["default"].get<bool>();
          if (cert.is_default && have_default)
            throw config_error(join(path, "default"), "only one certificate may be the default");
          have_default |= cert.is_default;
        }
        c.tls.certificates.push_back(std::move(cert));
      }
    }
    if (t.contains("ticket_key_rotation_ms"))
      c.tls.ticket_key_rotation = ms_at(t["ticket_key_rotation_ms"], "tls.ticket_key_rotation_ms", 1000);
    if (t.contains("prewarm_on_sni")) {
      if (!t["prewarm_on_sni"].is_boolean()) throw config_error("tls.prewarm_on_sni", "must be true or false");
      c.tls.prewarm_on_sni = t["prewarm_on_sni"].get<bool>();
    }
  }
  if (c.listen.https && c.tls.certificates.empty())
    throw config_error("tls.certificates", "listen.https needs at least one certificate");
  if (j.contains("admin_token_env")) c.admin_token_env = string_at(j["admin_token_env"], "admin_token_env");
  if (j.contains("state_file")) c.state_file = string_at(j["state_file"], "state_file");
  if (c.state_file.empty()) throw config_error("state_file", "must not be empty");
  if (j.contains("state")) {
    const auto& st = object_at(j["state"], "state");
    only_keys(st, "state", {"etcd"});
    if (st.contains("etcd")) {
      const auto& e = object_at(st["etcd"], "state.etcd");
      only_keys(e, "state.etcd",
                {"endpoints", "prefix", "request_timeout_ms", "lease_ttl_ms", "node_name", "advertise_host", "tls",
                 "username", "password_env"});
      etcd_spec spec;
      if (!e.contains("endpoints")) throw config_error("state.etcd.endpoints", "is required");
      const auto& eps = e["endpoints"];
      if (!eps.is_array() || eps.empty()) throw config_error("state.etcd.endpoints", "must be a non-empty array");
      bool https = false;
      for (std::size_t i = 0; i < eps.size(); ++i) {
        const auto path = index("state.etcd.endpoints", i);
        std::string text = string_at(eps[i], path);
        // One scheme for all: a connection that fails over must not fall back to plain text.
        const bool this_https = text.starts_with("https://");
        if (i > 0 && this_https != https)
          throw config_error(path, "every endpoint must use the same scheme, all http:// or all https://");
        https = this_https;
        if (text.starts_with("https://"))
          text = text.substr(8);
        else if (text.starts_with("http://"))
          text = text.substr(7);
        std::string why;
        auto hp = common::parse_host_port(text, false, why);
        if (!hp) throw config_error(path, why);
        spec.endpoints.push_back(std::move(*hp));
      }
      if (e.contains("prefix")) {
        spec.prefix = string_at(e["prefix"], "state.etcd.prefix");
        if (!spec.prefix.starts_with("/") || spec.prefix.ends_with("/"))
          throw config_error("state.etcd.prefix", "must start with / and not end with one, like /ignite");
      }
      if (e.contains("request_timeout_ms"))
        spec.request_timeout = ms_at(e["request_timeout_ms"], "state.etcd.request_timeout_ms");
      // etcd counts leases in whole seconds and raises a TTL under its own minimum
      // (1.5 election timeouts): under 2 s a lease could not be kept alive reliably.
      if (e.contains("lease_ttl_ms")) spec.lease_ttl = ms_at(e["lease_ttl_ms"], "state.etcd.lease_ttl_ms", 2000);
      if (e.contains("node_name")) {
        spec.node_name = string_at(e["node_name"], "state.etcd.node_name");
        if (auto why = check_name(spec.node_name); !why.empty()) throw config_error("state.etcd.node_name", why);
      }
      if (e.contains("advertise_host")) {
        spec.advertise_host = string_at(e["advertise_host"], "state.etcd.advertise_host");
        unsigned char bytes[sizeof(in6_addr)];
        if (::inet_pton(AF_INET, spec.advertise_host.c_str(), bytes) != 1 &&
            ::inet_pton(AF_INET6, spec.advertise_host.c_str(), bytes) != 1)
          throw config_error("state.etcd.advertise_host", "must be an IP address, like 10.0.0.7");
      }
      if (e.contains("tls")) {
        const auto& t = object_at(e["tls"], "state.etcd.tls");
        only_keys(t, "state.etcd.tls", {"ca_file", "cert_file", "key_file"});
        if (!https) throw config_error("state.etcd.tls", "needs https:// endpoints");
        etcd_tls_spec tls;
        if (t.contains("ca_file")) tls.ca_file = string_at(t["ca_file"], "state.etcd.tls.ca_file");
        if (t.contains("cert_file")) tls.cert_file = string_at(t["cert_file"], "state.etcd.tls.cert_file");
        if (t.contains("key_file")) tls.key_file = string_at(t["key_file"], "state.etcd.tls.key_file");
        if (tls.cert_file.empty() != tls.key_file.empty())
          throw config_error(tls.cert_file.empty() ? "state.etcd.tls.cert_file" : "state.etcd.tls.key_file",
                             "cert_file and key_file go together (a client certificate and its key)");
        spec.tls = std::move(tls);
      }
      // etcd's certificate is always checked: against this CA, not the system's.
      if (https && (!spec.tls || spec.tls->ca_file.empty()))
        throw config_error("state.etcd.tls.ca_file", "is required with https:// endpoints");
      if (e.contains("username")) {
        spec.username = string_at(e["username"], "state.etcd.username");
        if (spec.username.empty()) throw config_error("state.etcd.username", "must not be empty (omit it for no auth)");
      }
      if (e.contains("password_env")) {
        spec.password_env = string_at(e["password_env"], "state.etcd.password_env");
        if (spec.password_env.empty()) throw config_error("state.etcd.password_env", "must not be empty");
      }
      if (spec.username.empty() != spec.password_env.empty())
        throw config_error(spec.username.empty() ? "state.etcd.username" : "state.etcd.password_env",
                           "username and password_env go together");
      if (!spec.password_env.empty()) {
        // The password stays out of the config file: only the variable's name is there.
        const char* password = std::getenv(spec.password_env.c_str());
        if (!password || !*password)
          throw config_error("state.etcd.password_env",
                             "the environment variable " + spec.password_env + " is not set or empty");
        spec.password = password;
      }
      c.state.etcd = std::move(spec);
      // Secrets are sealed with this key and opened by any node: each needs the same file.
      if (!j.contains("secrets_key_file"))
        throw config_error("secrets_key_file", "is required with state.etcd: every node needs the same key file");
    }
  }
  if (j.contains("secrets_key_file")) c.secrets_key_file = string_at(j["secrets_key_file"], "secrets_key_file");
  if (j.contains("limits")) c.limits = parse_limits(j["limits"], "limits");
  if (j.contains("containers")) c.containers = parse_containers(j["containers"], "containers");
  if (j.contains("log")) {
    const auto& l = object_at(j["log"], "log");
    only_keys(l, "log", {"access_file", "access_stderr"});
    if (l.contains("access_file")) {
      c.log.access_file = string_at(l["access_file"], "log.access_file");
      if (c.log.access_file.empty()) throw config_error("log.access_file", "must not be empty (omit it for no file)");
    }
    if (l.contains("access_stderr")) {
      if (!l["access_stderr"].is_boolean()) throw config_error("log.access_stderr", "must be true or false");
      c.log.access_stderr = l["access_stderr"].get<bool>();
    }
  }
  if (j.contains("apps")) {
    const auto& apps = j["apps"];
    if (!apps.is_array()) throw config_error("apps", "must be an array");
    // Labels are the route-table keys; two apps may never share one (no guessing).
    std::unordered_map<std::string, std::size_t> labels;
    for (std::size_t i = 0; i < apps.size(); ++i) {
      auto app = parse_app(apps[i], index("apps", i));
      auto [it, inserted] = labels.emplace(app.label(), i);
      if (!inserted)
        throw config_error(index("apps", i), "host label \"" + app.label() + "\" collides with apps[" +
                                                 std::to_string(it->second) + "] (" + c.apps[it->second].id() + ")");
      c.apps.push_back(std::move(app));
    }
  }
  return c;
}

config load_config_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw config_error("", "cannot read config file " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return parse_config_text(text.str(), path.string());
}

config parse_config_text(std::string_view content, const std::string& source) {
  // Parsing is iterative but copying a value is not: a value nested deep enough would
  // overflow the stack in parse_config (at start-up, or on SIGHUP in a running proxy).
  constexpr std::size_t k_max_depth = 64;
  if (common::json_nests_deeper(content, k_max_depth))
    throw config_error("", source + ": nests deeper than " + std::to_string(k_max_depth) + " levels");
  json document;
  try {
    document = json::parse(content);
  } catch (const json::parse_error& e) {
    // nlohmann reports a byte offset (one past the culprit); people read lines.
    std::size_t line = 1;
    std::size_t column = 1;
    const auto end = std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, content.size());
    for (std::size_t i = 0; i < end; ++i) {
      if (content[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string why = e.what();
    // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..."
    if (auto colon = why.find(": "); colon != std::string::npos) why = why.substr(colon + 2);
    throw config_error("",
                       source + ":" + std::to_string(line) + ":" + std::to_string(column) + ": invalid JSON: " + why);
  } catch (const json::exception& e) {
    // Well-formed but unrepresentable, like 1e999 (out_of_range.406): no position to give.
    std::string why = e.what();
    if (auto bracket = why.find("] "); bracket != std::string::npos) why = why.substr(bracket + 2);
    throw config_error("", source + ": invalid JSON: " + why);
  }
  return parse_config(document);
}

void check_commands(const config& c) {
  for (std::size_t a = 0; a < c.apps.size(); ++a) {
    const auto& app = c.apps[a];
    for (std::size_t v = 0; v < app.versions.size(); ++v) {
      const auto& command = app.versions[v].command;
      if (command.empty()) continue;
      std::string why;
      if (common::find_executable(command[0], why).empty())
        throw config_error(index(join(index("apps", a), "versions"), v) + ".command",
                           "\"" + command[0] + "\" " + why +
                               " (a relative path starts from the proxy's working "
                               "directory, a bare name is looked up in PATH)");
    }
  }
}

bool same_source(const version_spec& a, const version_spec& b) {
  return a.endpoints == b.endpoints && a.command == b.command && a.image_ref == b.image_ref &&
         a.image_digest == b.image_digest && a.registry_secret_ref == b.registry_secret_ref && a.network == b.network;
}

void check_versions_unchanged(const config& before, const config& after) {
  // By id, not by a search per app: a reload of 100,000 apps is linear.
  std::unordered_map<std::string, const app_spec*> old_apps;
  old_apps.reserve(before.apps.size());
  for (const auto& o : before.apps) old_apps.emplace(o.id(), &o);
  for (std::size_t a = 0; a < after.apps.size(); ++a) {
    const auto& app = after.apps[a];
    auto found = old_apps.find(app.id());
    if (found == old_apps.end()) continue;
    const auto* old = found->second;
    for (std::size_t v = 0; v < app.versions.size(); ++v) {
      const auto& version = app.versions[v];
      for (const auto& was : old->versions) {
        if (was.version != version.version || same_source(was, version)) continue;
        throw config_error(index(join(index("apps", a), "versions"), v),
                           "version " + std::to_string(version.version) + " of " + app.id() +
                               " is immutable and its source changed; publish the change as a new version");
      }
    }
  }
}

}  // namespace ignite::routing
