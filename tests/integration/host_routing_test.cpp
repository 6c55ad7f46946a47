// Host -> app resolution (DESIGN.md "Hosts") and config validation of app labels.
#include <gtest/gtest.h>

#include "proxy_fixture.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;

class host_routing : public proxy_fixture {
 protected:
  // Sends one POST with `host` and expects it to reach pod_ with that Host untouched.
  void expect_routed(const std::string& host) {
    const auto before = pod_.request_count();
    const auto r = round_trip(post(host, "hi"));
    ASSERT_TRUE(r) << host;
    EXPECT_EQ(r->status, 200u) << host << "\n" << r->body;
    ASSERT_EQ(pod_.request_count(), before + 1) << host;
    EXPECT_EQ(pod_.requests().back().headers.get("Host").value_or(""), host);
  }
};

TEST_F(host_routing, host_is_matched_case_insensitively) {
  start_proxy();
  expect_routed("GREETER-Acme-Corp.IGNITE.dodil.CLOUD");
}

TEST_F(host_routing, host_port_is_ignored) {
  start_proxy();
  expect_routed(std::string(k_host) + ":8080");
}

TEST_F(host_routing, one_trailing_dot_is_ignored) {
  start_proxy();
  expect_routed(std::string(k_host) + ".");
  expect_routed(std::string(k_host) + ".:80");
}

TEST_F(host_routing, absolute_form_target_wins_over_host) {
  start_proxy();
  const auto r = round_trip("POST http://" + std::string(k_host) +
                            "/?q=1 HTTP/1.1\r\nHost: unknown.example.com\r\nContent-Length: 2\r\n\r\nhi");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u) << r->body;
  ASSERT_EQ(pod_.request_count(), 1u);
  EXPECT_EQ(pod_.requests()[0].target, "/?q=1");
}

TEST_F(host_routing, absolute_form_with_unknown_host_is_404_despite_valid_host) {
  start_proxy();
  expect_proxy_error(round_trip("POST http://unknown-acme-corp.ignite.dodil.cloud/ HTTP/1.1\r\nHost: " +
                                std::string(k_host) + "\r\nContent-Length: 2\r\n\r\nhi"),
                     404, "app_not_found");
  EXPECT_EQ(pod_.request_count(), 0u);
}

TEST_F(host_routing, hyphenated_names_and_orgs_route_to_their_own_app) {
  // Labels a-b-c-d, a-b-c and a-b-c-x: prefixes of each other, none colliding.
  fake_pod ab_cd("pod-ab-cd"), a_bc("pod-a-bc"), abc_x("pod-abc-x");
  start_proxy(config(json::array({app("c-d", "a-b", {ab_cd.endpoint()}), app("b-c", "a", {a_bc.endpoint()}),
                                  app("x", "a-b-c", {abc_x.endpoint()})})));
  struct routed {
    std::string host;
    fake_pod* pod;
    std::string app_id;
  };
  for (const auto& c :
       {routed{"a-b-c-d.ignite.dodil.cloud", &ab_cd, "c-d:a-b"}, routed{"a-b-c.ignite.dodil.cloud", &a_bc, "b-c:a"},
        routed{"a-b-c-x.ignite.dodil.cloud", &abc_x, "x:a-b-c"}}) {
    const auto r = round_trip(post(c.host, "hi"));
    ASSERT_TRUE(r) << c.host;
    EXPECT_EQ(r->status, 200u) << c.host;
    EXPECT_EQ(r->body, c.pod->name()) << c.host;
    ASSERT_EQ(c.pod->request_count(), 1u) << c.host;
    EXPECT_EQ(c.pod->requests()[0].headers.get("x-ignite-app-id").value_or(""), c.app_id);
  }
  expect_proxy_error(round_trip(post("a-b.ignite.dodil.cloud", "hi")), 404, "app_not_found");
}

// ---- --check-config

class check_config : public proxy_fixture {
 protected:
  // Runs `ignite-proxy --config <cfg> --check-config` to completion.
  std::pair<process_exit, std::string> run_check(const json& cfg) {
    proxy_process p(IGNITE_PROXY_BIN, cfg, {"--check-config"});
    const auto e = p.wait_exit(k_cap);
    EXPECT_TRUE(e) << "--check-config did not exit";
    return {e.value_or(process_exit{}), p.output()};
  }
};

TEST_F(check_config, valid_config_exits_0) {
  const auto [e, out] = run_check(
      config(json::array({app("acme-corp", "greeter", {pod_.endpoint()}), app("b-c", "a", {pod_.endpoint()})})));
  EXPECT_TRUE(e.succeeded()) << "code " << e.code << " signal " << e.signal << "\n" << out;
}

TEST_F(check_config, colliding_labels_are_refused_naming_the_field) {
  // "a-b" + "c" and "a" + "b-c" are both a-b-c.ignite.dodil.cloud.
  const auto [e, out] =
      run_check(config(json::array({app("c", "a-b", {pod_.endpoint()}), app("b-c", "a", {pod_.endpoint()})})));
  EXPECT_TRUE(e.exited_normally());
  EXPECT_EQ(e.code, 1) << out;
  EXPECT_NE(out.find("apps["), std::string::npos) << "message does not name the field:\n" << out;
}

TEST_F(check_config, invalid_app_name_is_refused_naming_the_field) {
  const auto [e, out] = run_check(config(json::array({app("acme-corp", "Greeter_1", {pod_.endpoint()})})));
  EXPECT_EQ(e.code, 1) << out;
  EXPECT_NE(out.find("apps[0].name"), std::string::npos) << out;
}

TEST_F(check_config, invalid_limit_is_refused_naming_the_field) {
  const auto [e, out] =
      run_check(config(json::array({app("acme-corp", "greeter", {pod_.endpoint()})}), {{"max_body_bytes", -1}}));
  EXPECT_EQ(e.code, 1) << out;
  EXPECT_NE(out.find("limits.max_body_bytes"), std::string::npos) << out;
}

}  // namespace
}  // namespace ignite::test
