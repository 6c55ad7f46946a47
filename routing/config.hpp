#pragma once
// The proxy's configuration: what `--config FILE` holds, parsed and validated once.
// Parsing throws `config_error` naming the offending field; nothing on the request path
// ever parses configuration.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/host_port.hpp"

namespace ignite::routing {

using milliseconds = std::chrono::milliseconds;

struct limits {
  std::size_t max_header_bytes = 16384;
  std::size_t max_body_bytes = 6291456;
  milliseconds client_header_timeout{10000};
  milliseconds client_idle_timeout{60000};
  milliseconds upstream_connect_timeout{2000};
  milliseconds request_timeout{300000};
  milliseconds cold_start_timeout{30000};
  std::size_t max_held_requests = 1000;
  std::size_t max_connections = 10000;
  milliseconds drain_timeout{30000};
  // A request body must arrive at this average rate once client_header_timeout has
  // passed since the head (Apache mod_reqtimeout's MinRate); 0: no minimum rate.
  std::size_t client_body_min_rate = 500;  // bytes per second
  // Each write of an answer to the client must complete within this (nginx's
  // send_timeout): a client that stops reading frees its connection and the pod's.
  milliseconds client_send_timeout{60000};
  milliseconds tls_handshake_timeout{10000};
};

// How image versions run (podman).
struct containers_spec {
  // "private": each container has its own network namespace and only its port,
  // published on loopback; "host": the host's network (trusted single-tenant machines).
  std::string network = "private";
  // Registries reached over plain HTTP or without verifying their certificate.
  std::vector<std::string> insecure_registries;
  // How long an image that no version references any more is kept before removal.
  milliseconds image_gc_grace{3600000};
};

struct scaling {
  unsigned reserved_capacity = 0;
  unsigned max_replicas = 4;
  unsigned container_concurrency = 0;  // 0 = no limit per pod
  milliseconds idle_timeout{300000};
};

// Exactly one source is set: endpoints, command or image_ref.
struct version_spec {
  unsigned version = 0;
  std::vector<common::host_port> endpoints;
  std::vector<std::string> command;  // argv
  std::string image_ref;             // as given: "ghcr.io/acme-corp/greeter:1.0.0"
  std::string image_digest;          // "sha256:…": what the version runs, once resolved
  std::string registry_secret_ref;
  std::string network;  // images only: "host" or "private"; empty: containers.network
};

struct app_spec {
  std::string org;
  std::string name;
  std::string description;
  unsigned active_version = 0;
  std::vector<version_spec> versions;
  routing::scaling scaling;

  std::string id() const { return org + ":" + name; }
  std::string label() const { return name + "-" + org; }
  const version_spec* active() const;
};

// Listener addresses are IP literals: what the config accepts is what start-up can bind.
struct listen_spec {
  common::host_port http{"127.0.0.1", 8080};
  std::optional<common::host_port> https;  // none: no https listener
  common::host_port admin{"127.0.0.1", 9090};
};

struct tls_certificate {
  std::string cert_file;    // PEM: the certificate, then its chain
  std::string key_file;     // PEM private key
  bool is_default = false;  // served to a ClientHello without SNI or with an unknown name
};

struct tls_spec {
  std::vector<tls_certificate> certificates;
  // A session ticket key encrypts tickets for this long, then decrypts for as long again.
  milliseconds ticket_key_rotation{43200000};
  // Start a cold app's pod when a ClientHello's SNI names it, before the request comes.
  bool prewarm_on_sni = true;
};

// TLS to etcd (state.etcd.tls), with https:// endpoints.
struct etcd_tls_spec {
  std::string ca_file;    // PEM: the CA(s) etcd's certificate must chain to; its name or IP is checked too
  std::string cert_file;  // PEM: a client certificate, for etcd's --client-cert-auth; empty: none
  std::string key_file;   // PEM: its private key
};

// The shared state store of a cluster (state.etcd): when set, apps, versions, secrets and
// tokens live in etcd under `prefix` instead of in state_file.
struct etcd_spec {
  std::vector<common::host_port> endpoints;  // etcd's client URLs, tried in order
  std::string prefix = "/ignite";            // every key of this platform lives under it
  milliseconds request_timeout{5000};        // one etcd request, connect included
  // This node's registration and its pods' live under a lease of this TTL, kept alive
  // at a third of it: a node that dies leaves every route table after it.
  milliseconds lease_ttl{10000};
  std::string node_name;             // empty: a fresh ULID at each start
  std::string advertise_host;        // how other nodes reach this node's pods; empty: their ready address
  std::optional<etcd_tls_spec> tls;  // set exactly when the endpoints are https://
  // etcd's own users (auth enabled): every connection authenticates as `username`.
  std::string username;      // empty: no auth
  std::string password_env;  // the environment variable the password was read from
  std::string password;      // read from password_env while parsing, never from the file
};

struct state_spec {
  std::optional<etcd_spec> etcd;
};

// Where the access log (one JSON line per request) goes. Lifecycle events always go to
// stderr.
struct log_spec {
  std::string access_file;    // empty: no file; reopened on SIGUSR1 (logrotate)
  bool access_stderr = true;  // request lines on stderr too
};

struct config {
  std::string domain = "ignite.dodil.cloud";
  listen_spec listen;
  unsigned threads = 0;  // 0: one per core
  tls_spec tls;
  std::string admin_token_env = "IGNITE_ADMIN_TOKEN";
  std::string state_file = "var/state.db";  // SQLite: apps, versions, secrets, tokens
  state_spec state;                         // state.etcd: a cluster's store instead
  std::string secrets_key_file;             // empty: secrets.key beside state_file
  routing::limits limits;
  containers_spec containers;
  log_spec log;
  std::vector<app_spec> apps;
};

// A config that cannot be used; field() is the JSON path of the culprit ("apps[0].name").
class config_error : public std::runtime_error {
 public:
  config_error(std::string field, const std::string& message);
  const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

// Parses and validates a whole config (names, sources, host-label collisions).
config parse_config(const nlohmann::json& document);

// Reads `path`, then parse_config_text. Throws config_error (field "" for an unreadable
// file).
config load_config_file(const std::filesystem::path& path);

// Parses a config file's content (`source` names it in messages), then parse_config.
// Throws config_error only: invalid JSON has an empty field and says where (line and
// column) when the parser knows.
config parse_config_text(std::string_view content, const std::string& source);

// Every `command` version can run: its argv[0] is an executable file (a path, relative to
// the working directory, or a name in PATH). Throws config_error naming the version's
// command ("apps[0].versions[1].command").
void check_commands(const config& c);

// Versions are immutable: a version number that exists in both `before` and `after` must
// have the same source (endpoints, command, or image and secret). Throws config_error
// naming the changed version; a change means a new version.
void check_versions_unchanged(const config& before, const config& after);

// The same source: a version's endpoints, command or image_ref and registry_secret_ref.
bool same_source(const version_spec& a, const version_spec& b);

// Validates app/org names against the host rules; returns an empty string or the reason.
std::string check_name(const std::string& name);

// A version's source, as the config file and the control API write it: exactly one of
// endpoints, command or image_ref (with image_digest and registry_secret_ref). Throws
// config_error naming the field under `path`.
version_spec parse_source(const nlohmann::json& source, const std::string& path);

// An app's scaling object (only the keys given; the rest default). Throws config_error.
scaling parse_scaling(const nlohmann::json& j, const std::string& path);

}  // namespace ignite::routing
