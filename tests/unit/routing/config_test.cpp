// Config parsing and validation (DESIGN.md "Config file" and "Hosts"): defaults, and
// every refusal names the JSON path of the culprit.
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "routing/config.hpp"

namespace ignite::routing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

json version(unsigned n) { return {{"version", n}, {"endpoints", {"127.0.0.1:9001"}}}; }

json app(const std::string& org, const std::string& name) {
  return {{"org", org}, {"name", name}, {"versions", json::array({version(1)})}};
}

json minimal() { return {{"apps", json::array({app("acme-corp", "greeter")})}}; }

// The field a refused config names; fails the test if it is accepted.
std::string field_of(const json& document) {
  try {
    parse_config(document);
  } catch (const config_error& e) {
    return e.field();
  }
  ADD_FAILURE() << "accepted: " << document.dump();
  return "<accepted>";
}

TEST(parse_config, minimal_config_is_accepted) {
  auto c = parse_config(minimal());
  ASSERT_EQ(c.apps.size(), 1u);
  const auto& a = c.apps[0];
  EXPECT_EQ(a.org, "acme-corp");
  EXPECT_EQ(a.name, "greeter");
  EXPECT_EQ(a.id(), "acme-corp:greeter");
  EXPECT_EQ(a.label(), "greeter-acme-corp");
  ASSERT_EQ(a.versions.size(), 1u);
  EXPECT_EQ(a.versions[0].version, 1u);
  ASSERT_EQ(a.versions[0].endpoints.size(), 1u);
  EXPECT_EQ(a.versions[0].endpoints[0].to_string(), "127.0.0.1:9001");
  EXPECT_EQ(a.active_version, 1u);
  ASSERT_NE(a.active(), nullptr);
  EXPECT_EQ(a.active()->version, 1u);
}

TEST(parse_config, empty_object_gives_every_default_of_the_design) {
  auto c = parse_config(json::object());
  EXPECT_EQ(c.domain, "ignite.dodil.cloud");
  EXPECT_EQ(c.listen.http.to_string(), "127.0.0.1:8080");
  EXPECT_FALSE(c.listen.https.has_value());
  EXPECT_EQ(c.listen.admin.to_string(), "127.0.0.1:9090");
  EXPECT_EQ(c.threads, 0u);
  EXPECT_TRUE(c.tls.certificates.empty());
  EXPECT_EQ(c.admin_token_env, "IGNITE_ADMIN_TOKEN");
  EXPECT_EQ(c.state_file, "var/state.db");
  EXPECT_TRUE(c.apps.empty());
}

TEST(parse_config, limit_defaults_equal_the_design) {
  auto c = parse_config(minimal());
  const auto& l = c.limits;
  EXPECT_EQ(l.max_header_bytes, 16384u);
  EXPECT_EQ(l.max_body_bytes, 6291456u);
  EXPECT_EQ(l.client_header_timeout, 10000ms);
  EXPECT_EQ(l.client_idle_timeout, 60000ms);
  EXPECT_EQ(l.upstream_connect_timeout, 2000ms);
  EXPECT_EQ(l.request_timeout, 300000ms);
  EXPECT_EQ(l.cold_start_timeout, 30000ms);
  EXPECT_EQ(l.max_held_requests, 1000u);
  EXPECT_EQ(l.max_connections, 10000u);
  EXPECT_EQ(l.drain_timeout, 30000ms);
  EXPECT_EQ(l.client_body_min_rate, 500u);
  EXPECT_EQ(l.client_send_timeout, 60000ms);

  // An empty limits object changes nothing either.
  auto doc = minimal();
  doc["limits"] = json::object();
  auto d = parse_config(doc).limits;
  EXPECT_EQ(d.max_header_bytes, 16384u);
  EXPECT_EQ(d.max_body_bytes, 6291456u);
  EXPECT_EQ(d.drain_timeout, 30000ms);
}

TEST(parse_config, scaling_defaults_equal_the_design) {
  auto s = parse_config(minimal()).apps[0].scaling;
  EXPECT_EQ(s.reserved_capacity, 0u);
  EXPECT_EQ(s.max_replicas, 4u);
  EXPECT_EQ(s.container_concurrency, 0u);
  EXPECT_EQ(s.idle_timeout, 300000ms);
}

TEST(parse_config, the_design_example_is_accepted_as_written) {
  auto doc = json::parse(R"({
    "domain": "ignite.dodil.cloud",
    "listen": { "http": "127.0.0.1:8080", "https": "127.0.0.1:8443", "admin": "127.0.0.1:9090" },
    "threads": 0,
    "tls": { "certificates": [ { "cert_file": "c.pem", "key_file": "k.pem" } ] },
    "admin_token_env": "IGNITE_ADMIN_TOKEN",
    "state_file": "var/state.json",
    "limits": { "max_header_bytes": 16384, "max_body_bytes": 6291456,
                "client_header_timeout_ms": 10000, "client_idle_timeout_ms": 60000,
                "upstream_connect_timeout_ms": 2000, "request_timeout_ms": 300000,
                "cold_start_timeout_ms": 30000, "max_held_requests": 1000,
                "max_connections": 10000, "drain_timeout_ms": 30000 },
    "apps": [
      { "org": "acme-corp", "name": "greeter", "active_version": 1,
        "versions": [ { "version": 1, "endpoints": ["127.0.0.1:9001"] } ],
        "scaling": { "reserved_capacity": 0, "max_replicas": 4,
                     "container_concurrency": 0, "idle_timeout_ms": 300000 } } ]
  })");
  auto c = parse_config(doc);
  EXPECT_EQ(c.listen.https.value_or(common::host_port{}).to_string(), "127.0.0.1:8443");
  ASSERT_EQ(c.tls.certificates.size(), 1u);
  EXPECT_EQ(c.tls.certificates[0].cert_file, "c.pem");
  EXPECT_EQ(c.tls.certificates[0].key_file, "k.pem");
  ASSERT_EQ(c.apps.size(), 1u);
  EXPECT_EQ(c.apps[0].active_version, 1u);
}

TEST(parse_config, limits_are_read) {
  auto doc = minimal();
  doc["limits"] = {{"max_header_bytes", 8192},
                   {"max_body_bytes", 0},
                   {"client_header_timeout_ms", 5},
                   {"client_idle_timeout_ms", 6},
                   {"upstream_connect_timeout_ms", 7},
                   {"request_timeout_ms", 8},
                   {"cold_start_timeout_ms", 9},
                   {"max_held_requests", 0},
                   {"max_connections", 3},
                   {"drain_timeout_ms", 0},
                   {"client_body_min_rate_bytes_per_s", 0},
                   {"client_send_timeout_ms", 10}};
  auto l = parse_config(doc).limits;
  EXPECT_EQ(l.max_header_bytes, 8192u);
  EXPECT_EQ(l.max_body_bytes, 0u);
  EXPECT_EQ(l.client_header_timeout, 5ms);
  EXPECT_EQ(l.client_idle_timeout, 6ms);
  EXPECT_EQ(l.upstream_connect_timeout, 7ms);
  EXPECT_EQ(l.request_timeout, 8ms);
  EXPECT_EQ(l.cold_start_timeout, 9ms);
  EXPECT_EQ(l.max_held_requests, 0u);
  EXPECT_EQ(l.max_connections, 3u);
  EXPECT_EQ(l.drain_timeout, 0ms);
  EXPECT_EQ(l.client_body_min_rate, 0u);
  EXPECT_EQ(l.client_send_timeout, 10ms);
}

TEST(parse_config, domain_takes_any_dns_name) {
  for (const std::string& d :
       std::vector<std::string>{"localhost", "a.b", "ignite-1.dodil.cloud", std::string(63, 'x') + ".cloud"}) {
    auto doc = minimal();
    doc["domain"] = d;
    EXPECT_EQ(parse_config(doc).domain, d);
  }
  auto doc = minimal();
  doc["domain"] = std::string(64, 'x') + ".cloud";
  EXPECT_EQ(field_of(doc), "domain");
}

TEST(parse_config, domain_is_lowercased) {
  auto doc = minimal();
  doc["domain"] = "Example.TEST";
  EXPECT_EQ(parse_config(doc).domain, "example.test");
}

TEST(parse_config, bad_domain_is_named) {
  // A port or a character no Host can carry left every app unreachable (found by
  // tests/fuzz/config_fuzz: "ignite.dodil.cloud:8080" was accepted).
  for (const char* d :
       {"", ".ignite.dodil.cloud", "ignite.dodil.cloud.", "ignite.dodil.cloud:8080", "ignite..cloud",
        "ignite dodil.cloud", "-ignite.cloud", "ignite-.cloud", "ignite.dodil/cloud", "ignite_x.cloud"}) {
    auto doc = minimal();
    doc["domain"] = d;
    EXPECT_EQ(field_of(doc), "domain") << d;
  }
}

TEST(parse_config, config_error_message_starts_with_the_field) {
  auto doc = minimal();
  doc["apps"][0].erase("org");
  try {
    parse_config(doc);
    FAIL() << "accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.field(), "apps[0].org");
    EXPECT_EQ(std::string(e.what()).rfind("apps[0].org: ", 0), 0u) << e.what();
  }
}

TEST(parse_config, non_object_document_is_refused) {
  EXPECT_EQ(field_of(json::array()), "");
  EXPECT_EQ(field_of(json("text")), "");
}

TEST(parse_config, missing_org_is_named) {
  auto doc = minimal();
  doc["apps"][0].erase("org");
  EXPECT_EQ(field_of(doc), "apps[0].org");
}

TEST(parse_config, missing_name_is_named) {
  auto doc = minimal();
  doc["apps"][0].erase("name");
  EXPECT_EQ(field_of(doc), "apps[0].name");
}

TEST(parse_config, missing_versions_is_named) {
  auto doc = minimal();
  doc["apps"][0].erase("versions");
  EXPECT_EQ(field_of(doc), "apps[0].versions");
  doc["apps"][0]["versions"] = json::array();
  EXPECT_EQ(field_of(doc), "apps[0].versions");
}

TEST(parse_config, missing_org_in_the_second_app_names_its_index) {
  auto doc = minimal();
  auto second = app("beta", "svc");
  second.erase("org");
  doc["apps"].push_back(second);
  EXPECT_EQ(field_of(doc), "apps[1].org");
}

TEST(parse_config, name_with_bad_characters_is_named) {
  for (const char* bad : {"Greeter", "greeter_x", "greeter.x", "greeter x", "gr\xc3\xa9\x65ter", "greeter/x"}) {
    auto doc = minimal();
    doc["apps"].push_back(app("beta", bad));
    EXPECT_EQ(field_of(doc), "apps[1].name") << bad;
  }
}

TEST(parse_config, org_with_bad_characters_is_named) {
  auto doc = minimal();
  doc["apps"].push_back(app("Beta", "svc"));
  EXPECT_EQ(field_of(doc), "apps[1].org");
}

TEST(parse_config, name_starting_with_a_digit_or_hyphen_is_named) {
  for (const char* bad : {"1greeter", "-greeter", "9"}) {
    auto doc = json{{"apps", json::array({app("acme-corp", bad)})}};
    EXPECT_EQ(field_of(doc), "apps[0].name") << bad;
  }
  auto doc = json{{"apps", json::array({app("1acme", "greeter")})}};
  EXPECT_EQ(field_of(doc), "apps[0].org");
}

TEST(parse_config, empty_name_or_org_is_named) {
  EXPECT_EQ(field_of(json{{"apps", json::array({app("acme", "")})}}), "apps[0].name");
  EXPECT_EQ(field_of(json{{"apps", json::array({app("", "greeter")})}}), "apps[0].org");
}

TEST(parse_config, non_string_name_is_named) {
  auto doc = minimal();
  doc["apps"][0]["name"] = 7;
  EXPECT_EQ(field_of(doc), "apps[0].name");
}

TEST(parse_config, label_of_63_characters_is_accepted_and_64_refused) {
  // label = name + "-" + org
  const std::string name(40, 'n');
  auto ok = json{{"apps", json::array({app(std::string(22, 'o'), name)})}};
  auto c = parse_config(ok);
  EXPECT_EQ(c.apps[0].label().size(), 63u);

  auto too_long = json{{"apps", json::array({app(std::string(23, 'o'), name)})}};
  EXPECT_EQ(field_of(too_long), "apps[0].name");
}

TEST(parse_config, hyphens_are_allowed_in_name_and_org) {
  auto doc = json{{"apps", json::array({app("acme-corp-eu", "my-greeter-2")})}};
  auto c = parse_config(doc);
  EXPECT_EQ(c.apps[0].label(), "my-greeter-2-acme-corp-eu");
}

TEST(parse_config, name_ending_with_hyphen_is_named) {
  EXPECT_EQ(field_of(json{{"apps", json::array({app("acme", "greeter-")})}}), "apps[0].name");
}

TEST(parse_config, version_with_two_sources_is_named) {
  auto doc = minimal();
  doc["apps"][0]["versions"][0]["command"] = {"./server"};
  EXPECT_EQ(field_of(doc), "apps[0].versions[0]");

  doc = minimal();
  doc["apps"][0]["versions"][0]["image_ref"] = "ghcr.io/acme/greeter:1";
  EXPECT_EQ(field_of(doc), "apps[0].versions[0]");

  doc = minimal();
  doc["apps"][0]["versions"] =
      json::array({version(1), {{"version", 2}, {"command", {"./server"}}, {"image_ref", "ghcr.io/acme/greeter:1"}}});
  EXPECT_EQ(field_of(doc), "apps[0].versions[1]");
}

TEST(parse_config, version_without_a_source_is_named) {
  auto doc = minimal();
  doc["apps"][0]["versions"][0].erase("endpoints");
  EXPECT_EQ(field_of(doc), "apps[0].versions[0]");
}

TEST(parse_config, each_single_source_is_accepted) {
  auto doc = minimal();
  doc["apps"][0]["versions"] =
      json::array({version(1),
                   {{"version", 2}, {"command", {"./server", "--port"}}},
                   {{"version", 3}, {"image_ref", "ghcr.io/acme/greeter:1"}, {"registry_secret_ref", "ghcr"}}});
  auto c = parse_config(doc);
  const auto& v = c.apps[0].versions;
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[1].command, (std::vector<std::string>{"./server", "--port"}));
  EXPECT_EQ(v[2].image_ref, "ghcr.io/acme/greeter:1");
  EXPECT_EQ(v[2].registry_secret_ref, "ghcr");
}

TEST(parse_config, registry_secret_without_image_is_named) {
  auto doc = minimal();
  doc["apps"][0]["versions"][0]["registry_secret_ref"] = "ghcr";
  EXPECT_EQ(field_of(doc), "apps[0].versions[0].registry_secret_ref");
}

TEST(parse_config, containers_default_to_a_private_network_and_an_hour_of_image_grace) {
  auto c = parse_config(minimal());
  EXPECT_EQ(c.containers.network, "private");
  EXPECT_TRUE(c.containers.insecure_registries.empty());
  EXPECT_EQ(c.containers.image_gc_grace, 3600000ms);
}

TEST(parse_config, containers_settings_are_read_and_checked) {
  auto doc = minimal();
  doc["containers"] = {
      {"network", "host"}, {"insecure_registries", {"127.0.0.1:5000", "registry.local"}}, {"image_gc_grace_ms", 0}};
  auto c = parse_config(doc);
  EXPECT_EQ(c.containers.network, "host");
  EXPECT_EQ(c.containers.insecure_registries, (std::vector<std::string>{"127.0.0.1:5000", "registry.local"}));
  EXPECT_EQ(c.containers.image_gc_grace, 0ms);

  doc["containers"] = {{"network", "bridge"}};
  EXPECT_EQ(field_of(doc), "containers.network");
  for (const char* bad : {"", "http://127.0.0.1:5000", "127.0.0.1:5000/acme", "a b"}) {
    doc["containers"] = {{"insecure_registries", {"127.0.0.1:5000", bad}}};
    EXPECT_EQ(field_of(doc), "containers.insecure_registries[1]") << bad;
  }
  doc["containers"] = {{"image_gc_grace_ms", -1}};
  EXPECT_EQ(field_of(doc), "containers.image_gc_grace_ms");
  doc["containers"] = {{"colour", "red"}};
  EXPECT_EQ(field_of(doc), "containers.colour");
}

TEST(parse_config, the_access_log_goes_to_stderr_alone_by_default) {
  auto c = parse_config(minimal());
  EXPECT_TRUE(c.log.access_file.empty());
  EXPECT_TRUE(c.log.access_stderr);
}

TEST(parse_config, log_settings_are_read_and_checked) {
  auto doc = minimal();
  doc["log"] = {{"access_file", "var/access.log"}, {"access_stderr", false}};
  auto c = parse_config(doc);
  EXPECT_EQ(c.log.access_file, "var/access.log");
  EXPECT_FALSE(c.log.access_stderr);

  doc["log"] = {{"access_file", ""}};
  EXPECT_EQ(field_of(doc), "log.access_file");
  doc["log"] = {{"access_file", 3}};
  EXPECT_EQ(field_of(doc), "log.access_file");
  doc["log"] = {{"access_stderr", "no"}};
  EXPECT_EQ(field_of(doc), "log.access_stderr");
  doc["log"] = {{"acess_file", "x.log"}};
  EXPECT_EQ(field_of(doc), "log.acess_file");
  doc["log"] = "x.log";
  EXPECT_EQ(field_of(doc), "log");
}

TEST(parse_config, a_version_network_is_for_images_only) {
  auto doc = minimal();
  doc["apps"][0]["versions"] =
      json::array({{{"version", 1}, {"image_ref", "ghcr.io/acme/greeter:1"}, {"network", "host"}}});
  EXPECT_EQ(parse_config(doc).apps[0].versions[0].network, "host");
  doc["apps"][0]["versions"][0]["network"] = "none";
  EXPECT_EQ(field_of(doc), "apps[0].versions[0].network");
  doc = minimal();
  doc["apps"][0]["versions"][0]["network"] = "host";
  EXPECT_EQ(field_of(doc), "apps[0].versions[0].network");
}

TEST(check_versions_unchanged, a_changed_network_is_a_changed_version) {
  auto doc = minimal();
  doc["apps"][0]["versions"] = json::array({{{"version", 1}, {"image_ref", "ghcr.io/acme/greeter:1"}}});
  auto before = parse_config(doc);
  doc["apps"][0]["versions"][0]["network"] = "host";
  auto after = parse_config(doc);
  EXPECT_THROW(check_versions_unchanged(before, after), config_error);
}

TEST(parse_config, bad_endpoint_is_named) {
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", ":9001", "127.0.0.1:x", "127.0.0.1:0", "127.0.0.1:65536"}) {
    auto doc = minimal();
    doc["apps"][0]["versions"][0]["endpoints"] = {"127.0.0.1:9001", bad};
    EXPECT_EQ(field_of(doc), "apps[0].versions[0].endpoints[1]") << bad;
  }
  auto doc = minimal();
  doc["apps"][0]["versions"][0]["endpoints"] = json::array();
  EXPECT_EQ(field_of(doc), "apps[0].versions[0].endpoints");
}

TEST(parse_config, missing_version_number_is_named) {
  auto doc = minimal();
  doc["apps"][0]["versions"][0].erase("version");
  EXPECT_EQ(field_of(doc), "apps[0].versions[0].version");
  doc["apps"][0]["versions"][0]["version"] = 0;
  EXPECT_EQ(field_of(doc), "apps[0].versions[0].version");
}

TEST(parse_config, duplicate_version_numbers_are_named) {
  auto doc = minimal();
  doc["apps"][0]["versions"] = json::array({version(1), version(2), version(1)});
  EXPECT_EQ(field_of(doc), "apps[0].versions[2].version");
}

TEST(parse_config, active_version_not_in_versions_is_named) {
  auto doc = minimal();
  doc["apps"][0]["versions"] = json::array({version(1), version(2)});
  doc["apps"][0]["active_version"] = 3;
  EXPECT_EQ(field_of(doc), "apps[0].active_version");
}

TEST(parse_config, active_version_defaults_to_the_highest) {
  auto doc = minimal();
  doc["apps"][0]["versions"] = json::array({version(2), version(5), version(3)});
  auto c = parse_config(doc);
  EXPECT_EQ(c.apps[0].active_version, 5u);
  ASSERT_NE(c.apps[0].active(), nullptr);
  EXPECT_EQ(c.apps[0].active()->version, 5u);
}

TEST(parse_config, explicit_active_version_is_kept) {
  auto doc = minimal();
  doc["apps"][0]["versions"] = json::array({version(2), version(5), version(3)});
  doc["apps"][0]["active_version"] = 3;
  auto c = parse_config(doc);
  EXPECT_EQ(c.apps[0].active_version, 3u);
  ASSERT_NE(c.apps[0].active(), nullptr);
  EXPECT_EQ(c.apps[0].active()->version, 3u);
}

TEST(parse_config, unknown_keys_are_named) {
  auto doc = minimal();
  doc["limits"] = {{"max_body", 10}};
  EXPECT_EQ(field_of(doc), "limits.max_body");

  doc = minimal();
  doc["listne"] = json::object();
  EXPECT_EQ(field_of(doc), "listne");

  doc = minimal();
  doc["listen"] = {{"htp", "127.0.0.1:1"}};
  EXPECT_EQ(field_of(doc), "listen.htp");

  doc = minimal();
  doc["apps"][0]["nmae"] = "x";
  EXPECT_EQ(field_of(doc), "apps[0].nmae");

  doc = minimal();
  doc["apps"][0]["versions"][0]["endpoint"] = {"127.0.0.1:1"};
  EXPECT_EQ(field_of(doc), "apps[0].versions[0].endpoint");

  doc = minimal();
  doc["apps"][0]["scaling"] = {{"max_replica", 2}};
  EXPECT_EQ(field_of(doc), "apps[0].scaling.max_replica");

  doc = minimal();
  doc["apps"][0]["build_args"] = json::object();
  EXPECT_EQ(field_of(doc), "apps[0].build_args");
}

TEST(parse_config, negative_limits_are_named) {
  for (const char* key :
       {"max_body_bytes", "max_header_bytes", "request_timeout_ms", "drain_timeout_ms", "max_held_requests",
        "max_connections", "client_body_min_rate_bytes_per_s", "client_send_timeout_ms"}) {
    auto doc = minimal();
    doc["limits"] = {{key, -1}};
    EXPECT_EQ(field_of(doc), std::string("limits.") + key) << key;
  }
}

TEST(parse_config, non_integer_limits_are_named) {
  for (const json& value : {json(1.5), json(1000.0), json("1000"), json(true), json(nullptr), json::array({1})}) {
    auto doc = minimal();
    doc["limits"] = {{"max_body_bytes", value}};
    EXPECT_EQ(field_of(doc), "limits.max_body_bytes") << value.dump();
  }
}

TEST(parse_config, out_of_range_limits_are_named) {
  auto doc = minimal();
  doc["limits"] = {{"max_header_bytes", 100}};
  EXPECT_EQ(field_of(doc), "limits.max_header_bytes");
  doc["limits"] = {{"request_timeout_ms", 0}};
  EXPECT_EQ(field_of(doc), "limits.request_timeout_ms");
  doc["limits"] = {{"max_connections", 0}};
  EXPECT_EQ(field_of(doc), "limits.max_connections");
  doc["limits"] = {{"client_send_timeout_ms", 0}};
  EXPECT_EQ(field_of(doc), "limits.client_send_timeout_ms");
  doc["limits"] = {{"client_body_min_rate_bytes_per_s", (1ull << 30) + 1}};
  EXPECT_EQ(field_of(doc), "limits.client_body_min_rate_bytes_per_s");
}

TEST(parse_config, limits_must_be_an_object) {
  auto doc = minimal();
  doc["limits"] = json::array();
  EXPECT_EQ(field_of(doc), "limits");
}

TEST(parse_config, bad_scaling_is_named) {
  auto doc = minimal();
  doc["apps"][0]["scaling"] = {{"max_replicas", -2}};
  EXPECT_EQ(field_of(doc), "apps[0].scaling.max_replicas");
  doc["apps"][0]["scaling"] = {{"reserved_capacity", 5}, {"max_replicas", 2}};
  EXPECT_EQ(field_of(doc), "apps[0].scaling.reserved_capacity");
}

TEST(parse_config, colliding_labels_name_the_second_app) {
  // "a-b" + "c" and "a" + "b-c" both make the host label "a-b-c".
  auto doc = json{{"apps", json::array({app("c", "a-b"), app("b-c", "a")})}};
  EXPECT_EQ(field_of(doc), "apps[1]");
}

TEST(parse_config, the_same_app_twice_names_the_second) {
  auto doc = json{{"apps", json::array({app("acme", "greeter"), app("beta", "x"), app("acme", "greeter")})}};
  EXPECT_EQ(field_of(doc), "apps[2]");
}

TEST(parse_config, apps_with_distinct_labels_are_accepted) {
  auto doc = json{{"apps", json::array({app("c", "a-b"), app("b-c", "x")})}};
  auto c = parse_config(doc);
  ASSERT_EQ(c.apps.size(), 2u);
  EXPECT_EQ(c.apps[0].label(), "a-b-c");
  EXPECT_EQ(c.apps[1].label(), "x-b-c");
}

TEST(parse_config, https_without_certificates_is_named) {
  auto doc = minimal();
  doc["listen"] = {{"https", "127.0.0.1:8443"}};
  EXPECT_EQ(field_of(doc), "tls.certificates");

  doc["tls"] = {{"certificates", json::array()}};
  EXPECT_EQ(field_of(doc), "tls.certificates");

  doc["tls"] = {{"certificates", json::array({{{"cert_file", "c.pem"}, {"key_file", "k.pem"}}})}};
  auto c = parse_config(doc);
  EXPECT_EQ(c.listen.https.value_or(common::host_port{}).to_string(), "127.0.0.1:8443");
  ASSERT_EQ(c.tls.certificates.size(), 1u);
}

TEST(parse_config, certificate_without_key_is_named) {
  auto doc = minimal();
  doc["tls"] = {{"certificates", json::array({{{"cert_file", "c.pem"}}})}};
  EXPECT_EQ(field_of(doc), "tls.certificates[0].key_file");
}

TEST(parse_config, tls_options_are_read_and_checked) {
  auto doc = minimal();
  auto c = parse_config(doc);
  EXPECT_EQ(c.tls.ticket_key_rotation, std::chrono::milliseconds(43200000));
  EXPECT_TRUE(c.tls.prewarm_on_sni);
  EXPECT_EQ(c.limits.tls_handshake_timeout, std::chrono::milliseconds(10000));

  doc["tls"] = {{"certificates", json::array({{{"cert_file", "a.pem"}, {"key_file", "a.key"}},
                                              {{"cert_file", "b.pem"}, {"key_file", "b.key"}, {"default", true}}})},
                {"ticket_key_rotation_ms", 60000},
                {"prewarm_on_sni", false}};
  doc["limits"] = {{"tls_handshake_timeout_ms", 2500}};
  c = parse_config(doc);
  ASSERT_EQ(c.tls.certificates.size(), 2u);
  EXPECT_FALSE(c.tls.certificates[0].is_default);
  EXPECT_TRUE(c.tls.certificates[1].is_default);
  EXPECT_EQ(c.tls.ticket_key_rotation, std::chrono::milliseconds(60000));
  EXPECT_FALSE(c.tls.prewarm_on_sni);
  EXPECT_EQ(c.limits.tls_handshake_timeout, std::chrono::milliseconds(2500));

  auto two_defaults = doc;
  two_defaults["tls"]["certificates"][0]["default"] = true;
  EXPECT_EQ(field_of(two_defaults), "tls.certificates[1].default");
  auto not_bool = doc;
  not_bool["tls"]["certificates"][0]["default"] = "yes";
  EXPECT_EQ(field_of(not_bool), "tls.certificates[0].default");
  auto too_fast = doc;
  too_fast["tls"]["ticket_key_rotation_ms"] = 10;
  EXPECT_EQ(field_of(too_fast), "tls.ticket_key_rotation_ms");
  auto prewarm = doc;
  prewarm["tls"]["prewarm_on_sni"] = 1;
  EXPECT_EQ(field_of(prewarm), "tls.prewarm_on_sni");
  auto unknown = doc;
  unknown["tls"]["session_cache"] = true;
  EXPECT_EQ(field_of(unknown), "tls.session_cache");
  auto zero = doc;
  zero["limits"]["tls_handshake_timeout_ms"] = 0;
  EXPECT_EQ(field_of(zero), "limits.tls_handshake_timeout_ms");
}

TEST(parse_config, state_etcd_is_read_and_checked) {
  auto doc = minimal();
  EXPECT_FALSE(parse_config(doc).state.etcd);
  doc["secrets_key_file"] = "/etc/ignite/secrets.key";
  doc["state"] = {{"etcd",
                   {{"endpoints", {"http://127.0.0.2:2379", "127.0.0.3:2379"}},
                    {"prefix", "/prod"},
                    {"request_timeout_ms", 2000}}}};
  auto c = parse_config(doc);
  ASSERT_TRUE(c.state.etcd);
  ASSERT_EQ(c.state.etcd->endpoints.size(), 2u);
  EXPECT_EQ(c.state.etcd->endpoints[0].to_string(), "127.0.0.2:2379");
  EXPECT_EQ(c.state.etcd->endpoints[1].to_string(), "127.0.0.3:2379");
  EXPECT_EQ(c.state.etcd->prefix, "/prod");
  EXPECT_EQ(c.state.etcd->request_timeout, std::chrono::milliseconds(2000));

  auto no_key = doc;
  no_key.erase("secrets_key_file");
  EXPECT_EQ(field_of(no_key), "secrets_key_file");
  auto empty = doc;
  empty["state"]["etcd"]["endpoints"] = json::array();
  EXPECT_EQ(field_of(empty), "state.etcd.endpoints");
  auto tls = doc;
  tls["state"]["etcd"]["endpoints"] = {"https://127.0.0.2:2379"};
  EXPECT_EQ(field_of(tls), "state.etcd.tls.ca_file");
  auto no_port = doc;
  no_port["state"]["etcd"]["endpoints"] = {"127.0.0.2"};
  EXPECT_EQ(field_of(no_port), "state.etcd.endpoints[0]");
  auto prefix = doc;
  prefix["state"]["etcd"]["prefix"] = "prod/";
  EXPECT_EQ(field_of(prefix), "state.etcd.prefix");
  auto unknown = doc;
  unknown["state"]["etcd"]["password"] = "x";
  EXPECT_EQ(field_of(unknown), "state.etcd.password");
  EXPECT_EQ(c.state.etcd->lease_ttl, std::chrono::milliseconds(10000));
  EXPECT_EQ(c.state.etcd->node_name, "");
  EXPECT_EQ(c.state.etcd->advertise_host, "");
  auto node = doc;
  node["state"]["etcd"]["lease_ttl_ms"] = 3000;
  node["state"]["etcd"]["node_name"] = "ingress-a";
  node["state"]["etcd"]["advertise_host"] = "10.0.0.7";
  auto n = parse_config(node);
  EXPECT_EQ(n.state.etcd->lease_ttl, std::chrono::milliseconds(3000));
  EXPECT_EQ(n.state.etcd->node_name, "ingress-a");
  EXPECT_EQ(n.state.etcd->advertise_host, "10.0.0.7");
  auto short_lease = doc;
  short_lease["state"]["etcd"]["lease_ttl_ms"] = 1999;
  EXPECT_EQ(field_of(short_lease), "state.etcd.lease_ttl_ms");
  auto bad_name = doc;
  bad_name["state"]["etcd"]["node_name"] = "a/b";
  EXPECT_EQ(field_of(bad_name), "state.etcd.node_name");
  auto bad_host = doc;
  bad_host["state"]["etcd"]["advertise_host"] = "node-a.internal";
  EXPECT_EQ(field_of(bad_host), "state.etcd.advertise_host");
  auto other = doc;
  other["state"]["consul"] = json::object();
  EXPECT_EQ(field_of(other), "state.consul");
}

TEST(parse_config, state_etcd_tls_needs_https_and_a_ca_and_a_client_certificate_comes_with_its_key) {
  auto doc = minimal();
  doc["secrets_key_file"] = "/etc/ignite/secrets.key";
  doc["state"] = {{"etcd",
                   {{"endpoints", {"https://127.0.0.2:2379", "https://etcd-b.internal:2379"}},
                    {"tls", {{"ca_file", "/etc/ignite/etcd-ca.crt"}}}}}};
  auto c = parse_config(doc);
  ASSERT_TRUE(c.state.etcd->tls);
  EXPECT_EQ(c.state.etcd->tls->ca_file, "/etc/ignite/etcd-ca.crt");
  EXPECT_EQ(c.state.etcd->tls->cert_file, "");
  EXPECT_EQ(c.state.etcd->endpoints[0].to_string(), "127.0.0.2:2379");
  EXPECT_EQ(c.state.etcd->endpoints[1].to_string(), "etcd-b.internal:2379");
  EXPECT_FALSE(parse_config(minimal()).state.etcd);

  auto client = doc;
  client["state"]["etcd"]["tls"]["cert_file"] = "/etc/ignite/etcd-client.crt";
  client["state"]["etcd"]["tls"]["key_file"] = "/etc/ignite/etcd-client.key";
  auto cc = parse_config(client);
  EXPECT_EQ(cc.state.etcd->tls->cert_file, "/etc/ignite/etcd-client.crt");
  EXPECT_EQ(cc.state.etcd->tls->key_file, "/etc/ignite/etcd-client.key");

  auto cert_alone = doc;
  cert_alone["state"]["etcd"]["tls"]["cert_file"] = "/etc/ignite/etcd-client.crt";
  EXPECT_EQ(field_of(cert_alone), "state.etcd.tls.key_file");
  auto key_alone = doc;
  key_alone["state"]["etcd"]["tls"]["key_file"] = "/etc/ignite/etcd-client.key";
  EXPECT_EQ(field_of(key_alone), "state.etcd.tls.cert_file");
  auto no_ca = doc;
  no_ca["state"]["etcd"]["tls"] = json::object();
  EXPECT_EQ(field_of(no_ca), "state.etcd.tls.ca_file");
  auto mixed = doc;
  mixed["state"]["etcd"]["endpoints"] = {"https://127.0.0.2:2379", "http://127.0.0.3:2379"};
  EXPECT_EQ(field_of(mixed), "state.etcd.endpoints[1]");
  auto mixed_bare = doc;
  mixed_bare["state"]["etcd"]["endpoints"] = {"https://127.0.0.2:2379", "127.0.0.3:2379"};
  EXPECT_EQ(field_of(mixed_bare), "state.etcd.endpoints[1]");
  auto plain = doc;
  plain["state"]["etcd"]["endpoints"] = {"http://127.0.0.2:2379"};
  EXPECT_EQ(field_of(plain), "state.etcd.tls");
  auto unknown = doc;
  unknown["state"]["etcd"]["tls"]["insecure"] = true;
  EXPECT_EQ(field_of(unknown), "state.etcd.tls.insecure");
  auto not_object = doc;
  not_object["state"]["etcd"]["tls"] = "/etc/ignite/etcd-ca.crt";
  EXPECT_EQ(field_of(not_object), "state.etcd.tls");
}

TEST(parse_config, state_etcd_auth_reads_the_password_from_the_named_variable_only) {
  auto doc = minimal();
  doc["secrets_key_file"] = "/etc/ignite/secrets.key";
  doc["state"] = {
      {"etcd",
       {{"endpoints", {"127.0.0.2:2379"}}, {"username", "ingress"}, {"password_env", "IGNITE_TEST_ETCD_PASSWORD"}}}};
  ::unsetenv("IGNITE_TEST_ETCD_PASSWORD");
  try {
    parse_config(doc);
    ADD_FAILURE() << "accepted without the variable";
  } catch (const config_error& e) {
    EXPECT_EQ(e.field(), "state.etcd.password_env");
    EXPECT_NE(std::string(e.what()).find("IGNITE_TEST_ETCD_PASSWORD"), std::string::npos) << e.what();
  }
  ::setenv("IGNITE_TEST_ETCD_PASSWORD", "", 1);
  EXPECT_EQ(field_of(doc), "state.etcd.password_env");
  ::setenv("IGNITE_TEST_ETCD_PASSWORD", "s3cret pass", 1);
  auto c = parse_config(doc);
  EXPECT_EQ(c.state.etcd->username, "ingress");
  EXPECT_EQ(c.state.etcd->password_env, "IGNITE_TEST_ETCD_PASSWORD");
  EXPECT_EQ(c.state.etcd->password, "s3cret pass");
  EXPECT_FALSE(c.state.etcd->tls);

  auto user_alone = doc;
  user_alone["state"]["etcd"].erase("password_env");
  EXPECT_EQ(field_of(user_alone), "state.etcd.password_env");
  auto env_alone = doc;
  env_alone["state"]["etcd"].erase("username");
  EXPECT_EQ(field_of(env_alone), "state.etcd.username");
  auto empty_user = doc;
  empty_user["state"]["etcd"]["username"] = "";
  EXPECT_EQ(field_of(empty_user), "state.etcd.username");
  // A password written into the file is refused, not silently ignored.
  auto inline_password = doc;
  inline_password["state"]["etcd"]["password"] = "s3cret pass";
  EXPECT_EQ(field_of(inline_password), "state.etcd.password");
  ::unsetenv("IGNITE_TEST_ETCD_PASSWORD");
  auto none = parse_config(minimal());
  EXPECT_FALSE(none.state.etcd);
}

TEST(parse_config, bad_listen_address_is_named) {
  auto doc = minimal();
  doc["listen"] = {{"http", "localhost"}};
  EXPECT_EQ(field_of(doc), "listen.http");
  doc["listen"] = {{"admin", "127.0.0.1:99999"}};
  EXPECT_EQ(field_of(doc), "listen.admin");
  // Port 0 is fine for listeners: tests bind to it.
  doc["listen"] = {{"http", "127.0.0.1:0"}, {"admin", "127.0.0.1:0"}};
  auto c = parse_config(doc);
  EXPECT_EQ(c.listen.http.to_string(), "127.0.0.1:0");
}

TEST(parse_config, threads_out_of_range_is_named) {
  auto doc = minimal();
  doc["threads"] = -1;
  EXPECT_EQ(field_of(doc), "threads");
  doc["threads"] = 4;
  EXPECT_EQ(parse_config(doc).threads, 4u);
}

TEST(check_name, accepts_lowercase_letters_digits_and_inner_hyphens) {
  EXPECT_EQ(check_name("a"), "");
  EXPECT_EQ(check_name("greeter"), "");
  EXPECT_EQ(check_name("acme-corp"), "");
  EXPECT_EQ(check_name("app2-v3"), "");
}

TEST(check_name, refuses_everything_else_with_a_reason) {
  for (const char* bad : {"", "1app", "-app", "app-", "App", "app_x", "app.x", "app x", "ap\xc3\xa9"})
    EXPECT_NE(check_name(bad), "") << bad;
}

class load_config_file_test : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove(path_); }

  std::filesystem::path write(const std::string& text) {
    std::ofstream(path_) << text;
    return path_;
  }

  std::filesystem::path path_ =
      std::filesystem::temp_directory_path() / ("ignite_config_test_" + std::to_string(::getpid()) + ".json");
};

TEST_F(load_config_file_test, reads_a_valid_file) {
  auto c = load_config_file(write(minimal().dump()));
  ASSERT_EQ(c.apps.size(), 1u);
  EXPECT_EQ(c.apps[0].id(), "acme-corp:greeter");
}

TEST_F(load_config_file_test, invalid_json_has_an_empty_field) {
  try {
    load_config_file(write("{ \"apps\": [ "));
    FAIL() << "accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.field(), "");
  }
}

TEST_F(load_config_file_test, missing_file_has_an_empty_field) {
  try {
    load_config_file(path_.string() + ".does-not-exist");
    FAIL() << "accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.field(), "");
  }
}

TEST_F(load_config_file_test, validation_errors_still_name_the_field) {
  try {
    load_config_file(write(R"({"limits": {"max_body": 1}})"));
    FAIL() << "accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.field(), "limits.max_body");
  }
}

TEST_F(load_config_file_test, invalid_json_says_where) {
  for (auto [text, where] : {std::pair<std::string, std::string>{"{\n  \"threads\": ,\n}", ":2:14:"},
                             {"{ \"apps\": [ ", ":1:13:"},
                             {"{}\n\n  x", ":3:3:"}}) {
    try {
      load_config_file(write(text));
      FAIL() << "accepted: " << text;
    } catch (const config_error& e) {
      EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("invalid JSON"), std::string::npos) << e.what();
    }
  }
}

// Well-formed JSON whose number does not fit a double makes nlohmann throw out_of_range,
// not parse_error; it escaped as an uncaught exception (found by tests/fuzz/config_fuzz).
TEST_F(load_config_file_test, a_number_too_large_is_invalid_json) {
  for (const char* text : {R"({"limits": {"max_body_bytes": 1e999}})", R"({"threads": -1e400})"}) {
    try {
      load_config_file(write(text));
      FAIL() << "accepted: " << text;
    } catch (const config_error& e) {
      EXPECT_EQ(e.field(), "");
      EXPECT_NE(std::string(e.what()).find("invalid JSON"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(path_.string()), std::string::npos) << e.what();
    }
  }
}

// Copying a value this deep overflowed the stack in parse_config (found by
// tests/fuzz/config_fuzz), at start-up or on SIGHUP in a running proxy.
TEST_F(load_config_file_test, nesting_deeper_than_64_levels_is_refused) {
  const std::string version = R"({"version": 1, "endpoints": ["127.0.0.1:1"], "x": )" + std::string(100000, '[') +
                              std::string(100000, ']') + "}";
  try {
    load_config_file(write(R"({"apps": [{"org": "o", "name": "n", "versions": [)" + version + "]}]}"));
    FAIL() << "accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.field(), "");
    EXPECT_NE(std::string(e.what()).find("nests deeper than 64 levels"), std::string::npos) << e.what();
  }
}

// ---- check_commands --------------------------------------------------------------------

TEST(check_commands, names_the_version_whose_command_cannot_run) {
  auto doc = minimal();
  doc["apps"][0]["versions"] =
      json::array({{{"version", 1}, {"command", {"/bin/sh"}}}, {{"version", 2}, {"command", {"/nonexistent/app"}}}});
  auto c = parse_config(doc);
  try {
    check_commands(c);
    FAIL() << "accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.field(), "apps[0].versions[1].command");
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
}

TEST(check_commands, accepts_names_in_path_and_versions_without_commands) {
  auto doc = minimal();
  doc["apps"][0]["versions"].push_back({{"version", 2}, {"command", {"sh", "-c", "true"}}});
  EXPECT_NO_THROW(check_commands(parse_config(doc)));
}

// ---- versions are immutable --------------------------------------------------------------

TEST(check_versions_unchanged, a_changed_source_of_an_existing_version_is_refused) {
  auto before = parse_config(minimal());
  auto doc = minimal();
  doc["apps"][0]["versions"][0]["endpoints"] = {"127.0.0.1:9999"};
  try {
    check_versions_unchanged(before, parse_config(doc));
    FAIL() << "accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.field(), "apps[0].versions[0]");
    EXPECT_NE(std::string(e.what()).find("immutable"), std::string::npos) << e.what();
  }
  doc = minimal();
  doc["apps"][0]["versions"][0].erase("endpoints");
  doc["apps"][0]["versions"][0]["command"] = {"/bin/sh"};
  EXPECT_THROW(check_versions_unchanged(before, parse_config(doc)), config_error) << "another kind of source";
}

TEST(check_versions_unchanged, new_versions_new_apps_and_other_settings_may_change) {
  auto before = parse_config(minimal());
  auto doc = minimal();
  doc["apps"][0]["versions"].push_back({{"version", 2}, {"endpoints", {"127.0.0.1:9002"}}});
  doc["apps"][0]["active_version"] = 2;
  doc["apps"][0]["scaling"] = {{"max_replicas", 9}};
  doc["apps"][0]["description"] = "changed";
  doc["apps"].push_back({{"org", "other"},
                         {"name", "app"},
                         {"versions", json::array({{{"version", 1}, {"endpoints", {"127.0.0.1:9009"}}}})}});
  EXPECT_NO_THROW(check_versions_unchanged(before, parse_config(doc)));
  auto removed = minimal();
  removed["apps"] = json::array();
  EXPECT_NO_THROW(check_versions_unchanged(before, parse_config(removed))) << "an app may go away";
}

}  // namespace
}  // namespace ignite::routing
