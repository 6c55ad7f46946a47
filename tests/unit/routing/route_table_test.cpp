// The route table: host label -> app -> active version, built once from a parsed config.
#include <memory>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "routing/config.hpp"
#include "routing/host.hpp"
#include "routing/route_table.hpp"

namespace ignite::routing {
namespace {

std::vector<std::string> texts(const std::vector<common::host_port>& list) {
  std::vector<std::string> out;
  for (const auto& e : list) out.push_back(e.to_string());
  return out;
}

using json = nlohmann::json;

json version(unsigned n, const std::string& endpoint) { return {{"version", n}, {"endpoints", {endpoint}}}; }

config two_apps() {
  return parse_config(
      json{{"apps", json::array({
                        {{"org", "acme-corp"},
                         {"name", "greeter"},
                         {"active_version", 2},
                         {"versions", json::array({version(1, "127.0.0.1:9001"), version(2, "127.0.0.1:9002"),
                                                   version(3, "127.0.0.1:9003")})}},
                        // Hyphens on both sides: keyed by the whole label "a-b-c".
                        {{"org", "c"}, {"name", "a-b"}, {"versions", json::array({version(7, "127.0.0.1:9007")})}},
                    })}});
}

TEST(route_table, finds_an_app_by_its_label) {
  route_table table(two_apps());
  const auto* app = table.find("greeter-acme-corp");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->id, "acme-corp:greeter");
  EXPECT_EQ(app->spec.org, "acme-corp");
  EXPECT_EQ(app->spec.name, "greeter");
}

TEST(route_table, active_is_the_configured_active_version) {
  route_table table(two_apps());
  const auto* app = table.find("greeter-acme-corp");
  ASSERT_NE(app, nullptr);
  ASSERT_NE(app->active, nullptr);
  ASSERT_NE(app->active->spec, nullptr);
  EXPECT_EQ(app->active->spec->version, 2u);
  EXPECT_EQ(app->active->version_text, "2");
  ASSERT_EQ(app->active->spec->endpoints.size(), 1u);
  EXPECT_EQ(app->active->spec->endpoints[0].to_string(), "127.0.0.1:9002");
  EXPECT_EQ(app->active->app, &app->spec);
}

TEST(route_table, active_defaults_to_the_highest_version) {
  route_table table(two_apps());
  const auto* app = table.find("a-b-c");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->id, "c:a-b");
  ASSERT_NE(app->active, nullptr);
  EXPECT_EQ(app->active->version_text, "7");
  EXPECT_EQ(texts(app->active->spec->endpoints), (std::vector<std::string>{"127.0.0.1:9007"}));
}

TEST(route_table, unknown_labels_find_nothing) {
  route_table table(two_apps());
  EXPECT_EQ(table.find(""), nullptr);
  EXPECT_EQ(table.find("greeter"), nullptr);
  EXPECT_EQ(table.find("acme-corp"), nullptr);
  EXPECT_EQ(table.find("greeter-acme"), nullptr);
  EXPECT_EQ(table.find("a-b"), nullptr);
  EXPECT_EQ(table.find("b-c"), nullptr);
  EXPECT_EQ(table.find("greeter-acme-corp.ignite.dodil.cloud"), nullptr);
  // Keys are lowercase; callers lowercase through label_of_host.
  EXPECT_EQ(table.find("Greeter-acme-corp"), nullptr);
}

TEST(route_table, versions_are_all_listed_with_dense_slots) {
  route_table table(two_apps());
  EXPECT_EQ(table.version_count(), 4u);
  std::set<std::size_t> slots;
  for (const auto& app : table.apps())
    for (const auto& v : app->versions) {
      EXPECT_EQ(v.app, &app->spec);
      ASSERT_NE(v.spec, nullptr);
      EXPECT_EQ(v.version_text, std::to_string(v.spec->version));
      slots.insert(v.slot);
    }
  EXPECT_EQ(slots, (std::set<std::size_t>{0, 1, 2, 3}));

  const auto* greeter = table.find("greeter-acme-corp");
  ASSERT_NE(greeter, nullptr);
  ASSERT_EQ(greeter->versions.size(), 3u);
  EXPECT_EQ(greeter->versions[0].version_text, "1");
  EXPECT_EQ(greeter->versions[2].version_text, "3");
}

TEST(route_table, does_not_depend_on_the_config_it_was_built_from) {
  std::unique_ptr<route_table> table;
  {
    auto cfg = two_apps();
    table = std::make_unique<route_table>(cfg);
  }  // the config is gone; the table keeps its own copy
  const auto* app = table->find("greeter-acme-corp");
  ASSERT_NE(app, nullptr);
  ASSERT_NE(app->active, nullptr);
  ASSERT_EQ(app->active->spec->endpoints.size(), 1u);
  EXPECT_EQ(app->active->spec->endpoints[0].to_string(), "127.0.0.1:9002");
  EXPECT_EQ(app->active->app->id(), "acme-corp:greeter");
}

TEST(route_table, keeps_the_domain) {
  auto doc = json{{"domain", "Example.Test"}};
  route_table table(parse_config(doc));
  EXPECT_EQ(table.domain(), "example.test");
  EXPECT_EQ(table.version_count(), 0u);
  EXPECT_TRUE(table.apps().empty());
  EXPECT_EQ(table.find("anything"), nullptr);
}

TEST(route_table, host_to_app_through_label_of_host) {
  route_table table(two_apps());
  auto label = label_of_host("Greeter-Acme-Corp.IGNITE.dodil.cloud.:8080", table.domain());
  ASSERT_TRUE(label);
  const auto* app = table.find(label->view());
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->id, "acme-corp:greeter");

  label = label_of_host("A-B-C.ignite.dodil.cloud", table.domain());
  ASSERT_TRUE(label);
  app = table.find(label->view());
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->id, "c:a-b");
}

}  // namespace
}  // namespace ignite::routing
