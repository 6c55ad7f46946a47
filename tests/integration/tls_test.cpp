// The HTTPS listener end to end: the real proxy with certificates from a CA made at test
// time, real TLS clients (OpenSSL through Asio), the fake pod behind. SNI choosing the
// certificate (exact, wildcard, default, refused), the protocol floor, AEAD-only
// ciphers, ALPN, ticket resumption and key rotation, the handshake timeout, Host ≠ SNI
// (421), certificates reloaded on SIGHUP, and a pod started by the ClientHello.
#include <openssl/ssl.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/proxy_fixture.hpp"
#include "support/raw_client.hpp"
#include "support/test_ca.hpp"
#include "support/tls_client.hpp"
#include "support/wait_until.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* k_wildcard = "*.ignite.dodil.cloud";
constexpr const char* k_other_host = "other-acme-corp.ignite.dodil.cloud";

json certificate(const test_ca::issued& c, bool is_default = false) {
  json j = {{"cert_file", c.cert_file}, {"key_file", c.key_file}};
  if (is_default) j["default"] = true;
  return j;
}

class tls_edge : public proxy_fixture {
 protected:
  // The greeter config served on http and https, `certificates` as tls.certificates,
  // `tls` merged into the tls section.
  json https_config(json certificates, json tls = json::object(), json limits = json::object()) const {
    auto cfg = greeter_config(std::move(limits));
    cfg["listen"]["https"] = "127.0.0.1:0";
    tls["certificates"] = std::move(certificates);
    cfg["tls"] = std::move(tls);
    return cfg;
  }
  // Starts the proxy and learns the https port.
  void start_https(const json& cfg) {
    start_proxy(cfg);
    auto port = proxy().wait_listener("https", k_cap);
    ASSERT_TRUE(port) << proxy().output();
    https_port_ = *port;
  }
  // SNI `name`, the test CA trusted, the name verified.
  tls_options verified(std::string name) const {
    tls_options o;
    o.server_name = std::move(name);
    o.ca_file = ca_.ca_file();
    return o;
  }
  std::unique_ptr<tls_client> tls(tls_options o) const {
    return std::make_unique<tls_client>(https_port_, std::move(o));
  }
  // A POST for `host` over `c`; its answer.
  static std::optional<raw_response> ask(tls_client& c, std::string_view host = k_host) {
    if (c.send(post(host, "{}"))) return std::nullopt;
    return c.read_response();
  }

  test_ca ca_;
  test_ca::issued exact_ = ca_.issue({std::string(k_host)}, "exact");
  test_ca::issued wildcard_ = ca_.issue({k_wildcard}, "wildcard");
  std::uint16_t https_port_ = 0;
};

TEST_F(tls_edge, sni_picks_the_exact_certificate_over_the_wildcard_and_serves_the_app) {
  start_https(https_config(json::array({certificate(wildcard_), certificate(exact_)})));
  auto c = tls(verified(std::string(k_host)));
  ASSERT_TRUE(c->ok()) << c->handshake_error().message();
  EXPECT_EQ(c->served_names(), std::vector<std::string>{std::string(k_host)});
  EXPECT_EQ(c->version(), "TLSv1.3");
  EXPECT_EQ(c->alpn(), "http/1.1");
  auto r = ask(*c);
  ASSERT_TRUE(r) << c->last_error().message();
  EXPECT_EQ(r->status, 200u);
  ASSERT_TRUE(pod_.wait_for_requests(1, k_cap));
  EXPECT_EQ(pod_.requests()[0].headers.get("x-forwarded-proto"), "https");

  // Another app's name falls to the wildcard.
  auto other = tls(verified(k_other_host));
  ASSERT_TRUE(other->ok()) << other->handshake_error().message();
  EXPECT_EQ(other->served_names(), std::vector<std::string>{k_wildcard});
  // Names are matched without regard to case.
  auto upper = tls(verified("GREETER-ACME-CORP.IGNITE.DODIL.CLOUD"));
  ASSERT_TRUE(upper->ok()) << upper->handshake_error().message();
  EXPECT_EQ(upper->served_names(), std::vector<std::string>{std::string(k_host)});
}

TEST_F(tls_edge, without_a_default_no_sni_and_an_unknown_name_get_a_handshake_alert) {
  start_https(https_config(json::array({certificate(wildcard_)})));
  tls_options none;
  none.server_name.reset();
  auto c = tls(none);
  EXPECT_FALSE(c->ok());
  EXPECT_EQ(c->handshake_reason(), SSL_R_TLSV1_UNRECOGNIZED_NAME) << c->handshake_error().message();

  tls_options unknown;
  unknown.server_name = "www.example.com";
  auto u = tls(unknown);
  EXPECT_FALSE(u->ok());
  EXPECT_EQ(u->handshake_reason(), SSL_R_TLSV1_UNRECOGNIZED_NAME) << u->handshake_error().message();
  // A wildcard covers one label only.
  tls_options deep;
  deep.server_name = "a.b.ignite.dodil.cloud";
  EXPECT_FALSE(tls(deep)->ok());
  EXPECT_EQ(pod_.request_count(), 0u);
  // The listener is still fine.
  EXPECT_TRUE(tls(verified(std::string(k_host)))->ok());
}

TEST_F(tls_edge, the_default_certificate_serves_no_sni_and_unknown_names) {
  auto fallback = ca_.issue({"fallback.example.net"}, "fallback");
  start_https(https_config(json::array({certificate(exact_), certificate(fallback, true)})));
  tls_options none;
  none.server_name.reset();
  auto c = tls(none);
  ASSERT_TRUE(c->ok()) << c->handshake_error().message();
  EXPECT_EQ(c->served_names(), std::vector<std::string>{"fallback.example.net"});
  // Without SNI there is nothing to check Host against: the app answers.
  auto r = ask(*c);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);

  tls_options unknown;
  unknown.server_name = "www.example.com";
  auto u = tls(unknown);
  ASSERT_TRUE(u->ok()) << u->handshake_error().message();
  EXPECT_EQ(u->served_names(), std::vector<std::string>{"fallback.example.net"});
}

TEST_F(tls_edge, tls_1_2_is_the_floor_and_only_aead_ciphers_are_offered) {
  start_https(https_config(json::array({certificate(exact_)})));
  auto old = verified(std::string(k_host));
  old.min_version = TLS1_VERSION;
  old.max_version = TLS1_1_VERSION;
  // OpenSSL's default security level refuses TLS 1.1 on the client too; lower it.
  old.ciphers = "DEFAULT:@SECLEVEL=0";
  EXPECT_FALSE(tls(old)->ok());

  auto v12 = verified(std::string(k_host));
  v12.max_version = TLS1_2_VERSION;
  auto c = tls(v12);
  ASSERT_TRUE(c->ok()) << c->handshake_error().message();
  EXPECT_EQ(c->version(), "TLSv1.2");
  const auto cipher = c->cipher();
  EXPECT_TRUE(cipher.find("GCM") != std::string::npos || cipher.find("CHACHA20") != std::string::npos) << cipher;
  auto r = ask(*c);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);

  // A TLS 1.2 client that offers only CBC suites finds nothing in common.
  auto cbc = verified(std::string(k_host));
  cbc.max_version = TLS1_2_VERSION;
  cbc.ciphers = "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:AES128-SHA";
  EXPECT_FALSE(tls(cbc)->ok());
}

TEST_F(tls_edge, alpn_selects_http_1_1_and_refuses_a_client_that_offers_only_others) {
  start_https(https_config(json::array({certificate(exact_)})));
  auto both = verified(std::string(k_host));
  both.alpn = {"h2", "http/1.1"};
  auto c = tls(both);
  ASSERT_TRUE(c->ok());
  EXPECT_EQ(c->alpn(), "http/1.1");

  auto h2 = verified(std::string(k_host));
  h2.alpn = {"h2"};
  auto refused = tls(h2);
  EXPECT_FALSE(refused->ok());
  EXPECT_EQ(refused->handshake_reason(), SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL)
      << refused->handshake_error().message();

  auto none = verified(std::string(k_host));
  none.alpn.clear();
  auto plain = tls(none);
  ASSERT_TRUE(plain->ok());
  EXPECT_EQ(plain->alpn(), "");
  auto r = ask(*plain);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
}

TEST_F(tls_edge, a_session_ticket_resumes_on_another_connection_in_1_3_and_1_2) {
  json cfg = https_config(json::array({certificate(exact_)}));
  cfg["threads"] = 2;  // any worker resumes any worker's ticket
  start_https(cfg);
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    SCOPED_TRACE(version == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2");
    auto o = verified(std::string(k_host));
    o.max_version = version;
    auto first = tls(o);
    ASSERT_TRUE(first->ok());
    EXPECT_FALSE(first->resumed());
    ASSERT_TRUE(ask(*first));  // a TLS 1.3 ticket comes after the handshake
    auto session = first->session();
    ASSERT_TRUE(session);
    for (int i = 0; i < 4; ++i) {
      o.resume = session;
      auto again = tls(o);
      ASSERT_TRUE(again->ok());
      EXPECT_TRUE(again->resumed()) << "connection " << i << " " << again->version();
      auto r = ask(*again);
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200u);
    }
  }
}

TEST_F(tls_edge, ticket_keys_rotate_and_a_ticket_outlives_its_key_by_one_period_only) {
  start_https(https_config(json::array({certificate(exact_)}), {{"ticket_key_rotation_ms", 1000}}));
  auto o = verified(std::string(k_host));
  auto first = tls(o);
  ASSERT_TRUE(first->ok());
  ASSERT_TRUE(ask(*first));
  o.resume = first->session();
  const auto issued = std::chrono::steady_clock::now();
  {
    auto again = tls(o);
    ASSERT_TRUE(again->ok());
    EXPECT_TRUE(again->resumed());
  }
  // The key that sealed it is forgotten after two periods: from then on a full handshake.
  bool refused = wait_until(
      [&] {
        auto c = tls(o);
        return c->ok() && !c->resumed();
      },
      6s);
  ASSERT_TRUE(refused) << "the ticket still resumed 6 s after it was issued";
  EXPECT_GE(std::chrono::steady_clock::now() - issued, 1000ms) << "the ticket stopped working within one period";
}

TEST_F(tls_edge, a_handshake_that_does_not_finish_in_time_is_closed_and_others_go_on) {
  start_https(https_config(json::array({certificate(exact_)}), json::object(), {{"tls_handshake_timeout_ms", 300}}));
  raw_client silent(https_port_);
  raw_client trickle(https_port_);
  // The first bytes of a ClientHello's record header, then nothing.
  ASSERT_FALSE(trickle.send(std::string("\x16\x03\x01", 3)));
  auto good = tls(verified(std::string(k_host)));
  ASSERT_TRUE(good->ok());
  EXPECT_TRUE(silent.read_until_closed().closed());
  EXPECT_TRUE(trickle.read_until_closed().closed());
  auto r = ask(*good);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
}

TEST_F(tls_edge, a_host_for_another_app_than_the_sni_gets_421) {
  fake_pod other_pod{"other-pod"};
  auto cfg = https_config(json::array({certificate(wildcard_)}));
  cfg["apps"].push_back(app("acme-corp", "other", {other_pod.endpoint()}));
  start_https(cfg);
  auto c = tls(verified(std::string(k_host)));
  ASSERT_TRUE(c->ok());
  auto r = ask(*c, k_other_host);
  expect_proxy_error(r, 421, "misdirected_request");
  EXPECT_EQ(other_pod.request_count(), 0u);
  // The same app, with a port and in upper case, is the same app.
  c = tls(verified(std::string(k_host)));
  ASSERT_TRUE(c->ok()) << c->handshake_error().message();
  auto same = ask(*c, "GREETER-ACME-CORP.ignite.dodil.cloud:443");
  ASSERT_TRUE(same) << c->last_error().message() << proxy().output();
  EXPECT_EQ(same->status, 200u);
  // Over plain HTTP there is no SNI to disagree with.
  auto plain = round_trip(post(k_other_host, "{}"));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200u);
}

TEST_F(tls_edge, sighup_swaps_certificates_keeps_connections_and_refuses_a_broken_file) {
  auto cfg = https_config(json::array({certificate(exact_)}));
  start_https(cfg);
  auto before = tls(verified(std::string(k_host)));
  ASSERT_TRUE(before->ok());
  ASSERT_TRUE(ask(*before));

  auto renewed = ca_.issue({std::string(k_host), "renewed.ignite.dodil.cloud"}, "renewed");
  auto from = proxy().reload(https_config(json::array({certificate(renewed)})));
  ASSERT_TRUE(proxy().wait_for_event("reloaded", k_cap, from)) << proxy().output();
  auto after = tls(verified(std::string(k_host)));
  ASSERT_TRUE(after->ok());
  EXPECT_EQ(after->served_names(), (std::vector<std::string>{std::string(k_host), "renewed.ignite.dodil.cloud"}));
  // The connection made before the reload goes on with its certificate.
  auto r = ask(*before);
  ASSERT_TRUE(r) << before->last_error().message();
  EXPECT_EQ(r->status, 200u);

  // A broken file is refused at reload, and the renewed certificate stays.
  auto broken = ca_.dir() / "broken.crt";
  { std::ofstream(broken) << "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"; }
  json bad = json::array({{{"cert_file", broken.string()}, {"key_file", renewed.key_file}}});
  from = proxy().reload(https_config(bad));
  auto failed = proxy().wait_for_event("reload_failed", k_cap, from);
  ASSERT_TRUE(failed) << proxy().output();
  EXPECT_NE(failed->dump().find("tls.certificates[0].cert_file"), std::string::npos) << failed->dump();
  auto still = tls(verified(std::string(k_host)));
  ASSERT_TRUE(still->ok());
  EXPECT_EQ(still->served_names(), (std::vector<std::string>{std::string(k_host), "renewed.ignite.dodil.cloud"}));
  // So is a key that belongs to another certificate.
  from = proxy().reload(https_config(json::array({{{"cert_file", renewed.cert_file}, {"key_file", exact_.key_file}}})));
  failed = proxy().wait_for_event("reload_failed", k_cap, from);
  ASSERT_TRUE(failed) << proxy().output();
  EXPECT_NE(failed->dump().find("does not match"), std::string::npos) << failed->dump();
}

TEST_F(tls_edge, a_broken_certificate_stops_start_up_with_one_line_naming_it) {
  auto cfg =
      https_config(json::array({{{"cert_file", (ca_.dir() / "missing.crt").string()}, {"key_file", exact_.key_file}}}));
  proxy_ = std::make_unique<proxy_process>(IGNITE_PROXY_BIN, cfg);
  auto exit = proxy_->wait_exit(k_cap);
  ASSERT_TRUE(exit) << proxy_->output();
  EXPECT_EQ(exit->code, 1);
  EXPECT_NE(proxy_->output().find("tls.certificates[0].cert_file"), std::string::npos) << proxy_->output();

  proxy_ = std::make_unique<proxy_process>(IGNITE_PROXY_BIN, cfg, std::vector<std::string>{"--check-config"});
  exit = proxy_->wait_exit(k_cap);
  ASSERT_TRUE(exit) << proxy_->output();
  EXPECT_EQ(exit->code, 1);
  EXPECT_NE(proxy_->output().find("tls.certificates[0].cert_file"), std::string::npos) << proxy_->output();

  // A certificate without subjectAltName is served by its common name.
  auto cn_only = ca_.issue_cn_only(std::string(k_host), "cn-only");
  start_https(https_config(json::array({certificate(cn_only)})));
  tls_options o;
  o.server_name = std::string(k_host);
  auto c = tls(o);
  ASSERT_TRUE(c->ok()) << c->handshake_error().message();
}

// A cold app: the greeter as a command version with no reserved pod.
json cold_greeter_config(const test_ca::issued& cert, bool prewarm) {
  json cfg = {
      {"domain", "ignite.dodil.cloud"},
      {"listen", {{"http", "127.0.0.1:0"}, {"https", "127.0.0.1:0"}}},
      {"threads", 1},
      {"limits", {{"drain_timeout_ms", 2000}}},
      {"tls", {{"certificates", json::array({certificate(cert)})}, {"prewarm_on_sni", prewarm}}},
      {"apps",
       json::array({{{"org", "acme-corp"},
                     {"name", "greeter"},
                     {"active_version", 1},
                     {"versions", json::array({{{"version", 1}, {"command", json::array({IGNITE_GREETER_BIN})}}})}}})}};
  return cfg;
}

TEST_F(tls_edge, a_client_hello_naming_a_cold_app_starts_its_pod_before_the_request) {
  start_https(cold_greeter_config(exact_, true));
  auto c = tls(verified(std::string(k_host)));
  ASSERT_TRUE(c->ok());
  // No request yet: the ClientHello alone started the pod.
  ASSERT_TRUE(proxy().wait_for_event("pod_ready", k_cap)) << proxy().output();
  auto r = ask(*c);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->headers.get("x-ignite-cold-start"), "false");
}

TEST_F(tls_edge, with_prewarm_off_the_pod_starts_with_the_request) {
  start_https(cold_greeter_config(exact_, false));
  auto c = tls(verified(std::string(k_host)));
  ASSERT_TRUE(c->ok());
  auto r = ask(*c);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->headers.get("x-ignite-cold-start"), "true");
}

}  // namespace
}  // namespace ignite::test
