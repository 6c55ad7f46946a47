// /metrics on the admin listener of the real proxy: counters move with real requests
// (by code, rejections, pod starts, reloads), gauges follow pods and held requests, and
// no label value ever comes from a client; a removed app's series go away. Every limit
// a hostile client trips shows, and so do failed TLS handshakes, by reason.
#include <openssl/ssl.h>

#include <cmath>
#include <csignal>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/proxy_fixture.hpp"
#include "support/test_ca.hpp"
#include "support/tls_client.hpp"
#include "support/wait_until.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using labels = std::map<std::string, std::string>;

// One sample line of the text format: name{a="x",b="y"} value.
struct sample {
  std::string name;
  labels tags;
  double value = 0;
};

std::vector<sample> parse_exposition(const std::string& text) {
  std::vector<sample> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    sample s;
    auto brace = line.find('{');
    auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    s.name = line.substr(0, std::min(brace, space));
    if (brace != std::string::npos && brace < space) {
      auto body = line.substr(brace + 1, line.rfind('}') - brace - 1);
      std::size_t i = 0;
      while (i < body.size()) {
        auto eq = body.find('=', i);
        auto close = body.find('"', eq + 2);
        s.tags[body.substr(i, eq - i)] = body.substr(eq + 2, close - eq - 2);
        i = close + 2;  // past '",'
      }
    }
    s.value = std::stod(line.substr(space + 1));
    out.push_back(std::move(s));
  }
  return out;
}

class metrics_test : public proxy_fixture {
 protected:
  void start_with_admin(const json& config) {
    start_proxy(config);
    auto admin = proxy().wait_admin_listening(k_cap);
    ASSERT_TRUE(admin) << proxy().output();
    admin_port_ = *admin;
  }

  // GET /metrics with no token: the text, or "" if the answer was not a 200.
  std::string scrape() {
    raw_client c(admin_port_);
    c.send("GET /metrics HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n");
    auto r = c.read_response();
    if (!r || r->status != 200) return {};
    last_content_type_ = r->headers.get("content-type").value_or("");
    return r->body;
  }

  // The value of the series `name` whose labels include `want`; nullopt if none.
  std::optional<double> value(const std::string& text, std::string_view name, const labels& want) {
    for (const auto& s : parse_exposition(text)) {
      if (s.name != name) continue;
      bool match = true;
      for (const auto& [k, v] : want) match = match && s.tags.contains(k) && s.tags.at(k) == v;
      if (match) return s.value;
    }
    return std::nullopt;
  }

  // Scrapes until the series has `expected` (counters move after the answer is sent).
  bool wait_value(std::string_view name, const labels& want, double expected) {
    return wait_until(
        [&] {
          last_ = scrape();
          return value(last_, name, want) == expected;
        },
        k_cap);
  }

  std::uint16_t admin_port_ = 0;
  std::string last_;
  std::string last_content_type_;
};

const labels k_greeter = {{"app", "acme-corp:greeter"}, {"version", "1"}};

labels with(labels base, std::string k, std::string v) {
  base[std::move(k)] = std::move(v);
  return base;
}

TEST_F(metrics_test, requests_are_counted_by_code_and_refusals_by_reason) {
  start_with_admin(greeter_config({{"max_body_bytes", 64}}));
  auto before = scrape();
  ASSERT_FALSE(before.empty());
  EXPECT_NE(last_content_type_.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_EQ(value(before, "ignite_requests_total", with(k_greeter, "code", "200")), std::nullopt);

  ASSERT_EQ(round_trip(post(k_host, "{}"))->status, 200u);
  ASSERT_EQ(round_trip(post(k_host, "{}"))->status, 200u);
  ASSERT_EQ(round_trip(post("evil-label-injection.ignite.dodil.cloud", "{}"))->status, 404u);
  ASSERT_EQ(round_trip("BREW / HTTP/1.1\r\nHost: " + std::string(k_host) + "\r\n\r\n")->status, 405u);
  ASSERT_EQ(round_trip(post(k_host, std::string(100, 'x')))->status, 413u);

  ASSERT_TRUE(wait_value("ignite_requests_total", with(k_greeter, "code", "200"), 2)) << last_;
  ASSERT_TRUE(wait_value("ignite_rejected_total", {{"reason", "payload_too_large"}}, 1)) << last_;
  EXPECT_EQ(value(last_, "ignite_requests_total", with(k_greeter, "code", "405")), 1);
  EXPECT_EQ(value(last_, "ignite_requests_total", with(k_greeter, "code", "413")), 1);
  EXPECT_EQ(value(last_, "ignite_requests_total", {{"app", "unmatched"}, {"code", "404"}}), 1);
  EXPECT_EQ(value(last_, "ignite_rejected_total", {{"reason", "app_not_found"}}), 1);
  EXPECT_EQ(value(last_, "ignite_rejected_total", {{"reason", "method_not_allowed"}}), 1);
  EXPECT_EQ(value(last_, "ignite_rejected_total", {{"reason", "overloaded"}}), 0);
  // Every answered request of the app is in its duration histogram; only the two that
  // reached the pod in the upstream one.
  EXPECT_EQ(value(last_, "ignite_request_duration_seconds_count", {{"app", "acme-corp:greeter"}}), 4);
  EXPECT_EQ(value(last_, "ignite_upstream_duration_seconds_count", {{"app", "acme-corp:greeter"}}), 2);
  EXPECT_EQ(value(last_, "ignite_request_duration_seconds_bucket", {{"app", "acme-corp:greeter"}, {"le", "+Inf"}}), 4);
  EXPECT_EQ(value(last_, "ignite_connections_active", {{"listener", "http"}}), 0);
  EXPECT_EQ(value(last_, "ignite_pods", with(k_greeter, "state", "ready")), 1);
  // What the client wrote is never a label value.
  EXPECT_EQ(last_.find("evil"), std::string::npos) << last_;
  EXPECT_EQ(last_.find("BREW"), std::string::npos) << last_;
}

TEST_F(metrics_test, open_connections_are_a_gauge) {
  start_with_admin(greeter_config());
  auto a = connect();
  auto b = connect();
  ASSERT_TRUE(wait_value("ignite_connections_active", {{"listener", "http"}}, 2)) << last_;
  a->close();
  b->close();
  ASSERT_TRUE(wait_value("ignite_connections_active", {{"listener", "http"}}, 0)) << last_;
}

// The workers share one listening socket, so whichever is awake accepts; each accepted
// connection still goes to the worker with the fewest, and a pool of keep-alive
// connections ends up spread evenly over them.
TEST_F(metrics_test, connections_are_spread_evenly_over_the_workers) {
  auto cfg = greeter_config();
  cfg["threads"] = 2;
  start_with_admin(cfg);
  constexpr int k_connections = 20;
  std::vector<std::unique_ptr<raw_client>> clients;
  for (int i = 0; i < k_connections; ++i) {
    clients.push_back(connect());
    ASSERT_FALSE(clients.back()->send(post(k_host, "{}")));
    const auto r = clients.back()->read_response();
    ASSERT_TRUE(r) << i << ": " << clients.back()->last_error().message();
    ASSERT_EQ(r->status, 200u);
  }
  ASSERT_TRUE(wait_value("ignite_connections_active", {{"listener", "http"}}, k_connections)) << last_;
  std::optional<double> first, second;
  ASSERT_TRUE(wait_until(
      [&] {
        last_ = scrape();
        first = value(last_, "ignite_worker_connections", {{"worker", "0"}});
        second = value(last_, "ignite_worker_connections", {{"worker", "1"}});
        return first && second && *first + *second == k_connections;
      },
      k_cap))
      << last_;
  EXPECT_LE(std::abs(*first - *second), 1) << "worker 0 holds " << *first << ", worker 1 " << *second;
}

TEST_F(metrics_test, a_removed_apps_series_vanish_and_reloads_are_counted) {
  fake_pod other("other-pod");
  auto two = config(
      json::array({app("acme-corp", "greeter", {pod_.endpoint()}), app("acme-corp", "other", {other.endpoint()})}));
  start_with_admin(two);
  ASSERT_EQ(round_trip(post(k_host, "{}"))->status, 200u);
  ASSERT_EQ(round_trip(post("other-acme-corp.ignite.dodil.cloud", "{}"))->status, 200u);
  ASSERT_TRUE(wait_value("ignite_requests_total", {{"app", "acme-corp:other"}, {"code", "200"}}, 1)) << last_;
  EXPECT_EQ(value(last_, "ignite_config_reloads_total", {{"outcome", "success"}}), 0);

  auto from = proxy().reload(greeter_config());
  ASSERT_TRUE(proxy().wait_for_event("reloaded", k_cap, from)) << proxy().output();
  ASSERT_TRUE(wait_value("ignite_config_reloads_total", {{"outcome", "success"}}, 1)) << last_;
  EXPECT_EQ(last_.find("acme-corp:other"), std::string::npos) << last_;
  // The app that stayed keeps its counts.
  EXPECT_EQ(value(last_, "ignite_requests_total", with(k_greeter, "code", "200")), 1);

  auto bad = greeter_config();
  bad["limits"]["max_body_bytes"] = "lots";
  from = proxy().reload(bad);
  ASSERT_TRUE(proxy().wait_for_event("reload_failed", k_cap, from)) << proxy().output();
  ASSERT_TRUE(wait_value("ignite_config_reloads_total", {{"outcome", "failure"}}, 1)) << last_;
  EXPECT_EQ(value(last_, "ignite_config_reloads_total", {{"outcome", "success"}}), 1);
}

// A command version: the greeter started on demand is a pod start that ended "ready";
// one that exits before listening is "failed".
TEST_F(metrics_test, pod_starts_and_pods_are_counted) {
  auto greeter = app("acme-corp", "greeter", {});
  greeter["versions"] = json::array({{{"version", 1}, {"command", {IGNITE_GREETER_BIN}}}});
  auto broken = app("acme-corp", "broken", {});
  broken["versions"] = json::array({{{"version", 1}, {"command", {"/bin/false"}}}});
  start_with_admin(config(json::array({greeter, broken})));

  ASSERT_EQ(round_trip(post(k_host, R"({"name":"ada"})"))->status, 200u);
  ASSERT_TRUE(wait_value("ignite_cold_starts_total", with(k_greeter, "outcome", "ready"), 1)) << last_;
  EXPECT_EQ(value(last_, "ignite_cold_starts_total", with(k_greeter, "outcome", "failed")), 0);
  EXPECT_EQ(value(last_, "ignite_cold_start_duration_seconds_count", {{"app", "acme-corp:greeter"}}), 1);
  EXPECT_EQ(value(last_, "ignite_pods", with(k_greeter, "state", "ready")), 1);
  EXPECT_EQ(value(last_, "ignite_held_requests", {{"app", "acme-corp:greeter"}}), 0);

  const labels broken_v1 = {{"app", "acme-corp:broken"}, {"version", "1"}};
  expect_proxy_error(round_trip(post("broken-acme-corp.ignite.dodil.cloud", "{}")), 503, "pod_start_failed");
  ASSERT_TRUE(wait_value("ignite_cold_starts_total", with(broken_v1, "outcome", "failed"), 1)) << last_;
  // The pod's failure is counted when it happens; the request when its answer is written,
  // which the client may see first.
  EXPECT_TRUE(wait_value("ignite_requests_total", with(broken_v1, "code", "503"), 1)) << last_;
}

// A pod that never listens: the request waits (held), and leaves the gauge when its
// client goes.
TEST_F(metrics_test, held_requests_and_starting_pods_are_gauges) {
  auto slow = app("acme-corp", "greeter", {});
  slow["versions"] = json::array({{{"version", 1}, {"command", {"/bin/sleep", "30"}}}});
  start_with_admin(config(json::array({slow}), {{"cold_start_timeout_ms", 20000}}));
  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, "{}")));
  ASSERT_TRUE(wait_value("ignite_held_requests", {{"app", "acme-corp:greeter"}}, 1)) << last_;
  EXPECT_EQ(value(last_, "ignite_pods", with(k_greeter, "state", "starting")), 1);
  client->close();
  ASSERT_TRUE(wait_value("ignite_held_requests", {{"app", "acme-corp:greeter"}}, 0)) << last_;
}

// --- hostile clients: each limit that trips has a series ------------------------------

// A body under the minimum rate and a body that stops: two 408s, told apart by the
// limit that tripped.
TEST_F(metrics_test, a_slow_body_counts_as_client_body_min_rate_and_a_stalled_one_as_request_timeout) {
  start_with_admin(greeter_config({{"client_header_timeout_ms", 300}, {"client_body_min_rate_bytes_per_s", 100}}));
  const std::string h(k_host);
  auto slow = connect();
  ASSERT_FALSE(slow->send("POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 200\r\n\r\n"));
  // 25 bytes a second, each read well within 300 ms of the last: only the rate stops it.
  // The gap paces the client; it synchronises nothing.
  for (int i = 0; i < 200 && !slow->send("b"); ++i) std::this_thread::sleep_for(40ms);
  expect_proxy_error(slow->read_response(), 408, "request_timeout");

  auto stalled = connect();
  ASSERT_FALSE(stalled->send("POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 10\r\n\r\nabc"));
  expect_proxy_error(stalled->read_response(), 408, "request_timeout");

  ASSERT_TRUE(wait_value("ignite_rejected_total", {{"reason", "request_timeout"}}, 1)) << last_;
  ASSERT_TRUE(wait_value("ignite_rejected_total", {{"reason", "client_body_min_rate"}}, 1)) << last_;
  EXPECT_EQ(value(last_, "ignite_requests_total", with(k_greeter, "code", "408")), 2);
  EXPECT_EQ(pod_.request_count(), 0u);
}

TEST_F(metrics_test, a_client_that_stops_reading_counts_as_client_send_timeout) {
  pod_.reply_with(pod_reply::text(std::string(32 << 20, 'z')));
  start_with_admin(greeter_config({{"client_send_timeout_ms", 300}}));
  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, "give me a lot")));
  // Nothing is read: the proxy's writes stall until the send timeout cuts the answer.
  ASSERT_TRUE(wait_value("ignite_rejected_total", {{"reason", "client_send_timeout"}}, 1)) << last_;
  EXPECT_EQ(value(last_, "ignite_rejected_total", {{"reason", "request_timeout"}}), 0);
  EXPECT_TRUE(client->read_until_closed().closed());
}

TEST_F(metrics_test, header_fields_with_underscores_are_counted_as_dropped) {
  start_with_admin(greeter_config());
  ASSERT_TRUE(wait_value("ignite_header_fields_dropped_total", {{"reason", "underscore"}}, 0)) << last_;
  const auto r = round_trip(post(k_host, "hi", "X_Ignite_Org: evil\r\nTransfer_Encoding: chunked\r\nX-Kept: 1\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  ASSERT_TRUE(wait_value("ignite_header_fields_dropped_total", {{"reason", "underscore"}}, 2)) << last_;
}

// The overload manager: an idle connection closed to make room (an eviction), then,
// with every slot busy, the state on and a new connection refused at accept.
TEST_F(metrics_test, the_overload_manager_shows_evictions_refusals_and_its_state) {
  auto hold = std::make_shared<gate>();
  pod_reply held = pod_reply::text("released");
  held.hold = hold;
  pod_.reply_with(held);
  start_with_admin(greeter_config({{"max_connections", 3}}));
  ASSERT_TRUE(wait_value("ignite_overload_active", {}, 0)) << last_;

  // Two idle connections, then a third reaches 90%: the oldest idle one makes room.
  auto idle1 = connect();
  auto idle2 = connect();
  ASSERT_TRUE(wait_value("ignite_connections_active", {{"listener", "http"}}, 2)) << last_;
  auto idle3 = connect();
  EXPECT_TRUE(idle1->read_until_closed().closed());
  ASSERT_TRUE(wait_value("ignite_connections_evicted_total", {}, 1)) << last_;
  EXPECT_EQ(value(last_, "ignite_overload_episodes_total", {}), 1);
  idle2->close();
  idle3->close();
  ASSERT_TRUE(wait_value("ignite_connections_active", {{"listener", "http"}}, 0)) << last_;
  EXPECT_EQ(value(last_, "ignite_overload_active", {}), 0);

  // Every slot holds a request in progress: nothing to evict.
  std::vector<std::unique_ptr<raw_client>> busy;
  for (std::size_t i = 0; i < 3; ++i) {
    busy.push_back(connect());
    ASSERT_FALSE(busy.back()->send(post(k_host, "busy")));
    ASSERT_TRUE(pod_.wait_for_requests(i + 1, k_cap));
  }
  ASSERT_TRUE(wait_value("ignite_overload_active", {}, 1)) << last_;
  EXPECT_EQ(value(last_, "ignite_overload_episodes_total", {}), 2);
  auto extra = connect();
  extra->send(post(k_host, "one too many"));  // may race the proxy's close
  expect_proxy_error(extra->read_response(), 503, "overloaded");
  ASSERT_TRUE(wait_value("ignite_rejected_total", {{"reason", "max_connections"}}, 1)) << last_;
  EXPECT_EQ(value(last_, "ignite_rejected_total", {{"reason", "overloaded"}}), 0) << "not the hold queue's 503";

  hold->open();
  for (auto& c : busy) ASSERT_TRUE(c->read_response()) << c->last_error().message();
  busy.clear();
  ASSERT_TRUE(wait_value("ignite_overload_active", {}, 0)) << last_;
  EXPECT_EQ(value(last_, "ignite_connections_evicted_total", {}), 1);
}

// --- TLS handshakes that fail, by reason -------------------------------------------------

TEST_F(metrics_test, failed_tls_handshakes_are_counted_by_reason) {
  test_ca ca;
  const auto wildcard = ca.issue({"*.ignite.dodil.cloud"}, "wildcard");
  auto cfg = greeter_config({{"tls_handshake_timeout_ms", 300}});
  cfg["listen"]["https"] = "127.0.0.1:0";
  // No default certificate: a ClientHello without SNI, or with an unknown name, is refused.
  cfg["tls"] = {{"certificates", json::array({{{"cert_file", wildcard.cert_file}, {"key_file", wildcard.key_file}}})}};
  start_with_admin(cfg);
  const auto https = proxy().wait_listener("https", k_cap);
  ASSERT_TRUE(https) << proxy().output();
  ASSERT_TRUE(wait_value("ignite_tls_handshake_failures_total", {{"reason", "no_sni"}}, 0)) << last_;

  tls_options no_sni;
  no_sni.server_name.reset();
  EXPECT_FALSE(tls_client(*https, no_sni).ok());
  ASSERT_TRUE(wait_value("ignite_tls_handshake_failures_total", {{"reason", "no_sni"}}, 1)) << last_;

  tls_options unknown;
  unknown.server_name = "www.example.com";
  EXPECT_FALSE(tls_client(*https, unknown).ok());
  ASSERT_TRUE(wait_value("ignite_tls_handshake_failures_total", {{"reason", "unknown_sni"}}, 1)) << last_;

  // A TLS 1.2 client offering only CBC suites: nothing in common.
  tls_options cbc;
  cbc.server_name = std::string(k_host);
  cbc.max_version = TLS1_2_VERSION;
  cbc.ciphers = "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:AES128-SHA";
  EXPECT_FALSE(tls_client(*https, cbc).ok());
  ASSERT_TRUE(wait_value("ignite_tls_handshake_failures_total", {{"reason", "protocol"}}, 1)) << last_;

  // Connected, and never a ClientHello: closed at tls_handshake_timeout_ms.
  raw_client silent(*https);
  EXPECT_TRUE(silent.read_until_closed().closed());
  ASSERT_TRUE(wait_value("ignite_tls_handshake_failures_total", {{"reason", "timeout"}}, 1)) << last_;

  // A good handshake counts nowhere here; each reason moved once.
  tls_options good;
  good.server_name = std::string(k_host);
  good.ca_file = ca.ca_file();
  tls_client ok(*https, good);
  ASSERT_TRUE(ok.ok()) << ok.handshake_error().message();
  ASSERT_FALSE(ok.send(post(k_host, "{}")));
  const auto r = ok.read_response();
  ASSERT_TRUE(r) << ok.last_error().message();
  EXPECT_EQ(r->status, 200u);
  ASSERT_TRUE(wait_value("ignite_connections_active", {{"listener", "https"}}, 1)) << last_;
  for (const char* reason : {"no_sni", "unknown_sni", "protocol", "timeout"})
    EXPECT_EQ(value(last_, "ignite_tls_handshake_failures_total", {{"reason", reason}}), 1) << reason;
  EXPECT_EQ(value(last_, "ignite_tls_handshake_failures_total", {{"reason", "other"}}), 0);
}

TEST_F(metrics_test, metrics_need_no_token_and_only_get) {
  start_with_admin(greeter_config());
  EXPECT_FALSE(scrape().empty());
  raw_client c(admin_port_);
  c.send("POST /metrics HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405u);
}

}  // namespace
}  // namespace ignite::test
