// /metrics on the admin listener of the real proxy: counters move with real requests
// (by code, rejections, pod starts, reloads), gauges follow pods and held requests, and
// no label value ever comes from a client; a removed app's series go away.
#include <csignal>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/proxy_fixture.hpp"
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
  EXPECT_EQ(value(last_, "ignite_requests_total", with(broken_v1, "code", "503")), 1);
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
