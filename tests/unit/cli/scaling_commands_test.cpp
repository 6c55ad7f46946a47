#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"
#include "sample_answers.hpp"

namespace ignite::test {
namespace {

using json = nlohmann::json;

class scaling_commands : public cli_fixture {};

TEST_F(scaling_commands, set_sends_only_the_given_keys) {
  auto app = json::parse(k_app_json);
  app["scaling"]["reserved_capacity"] = 1;
  answer(200, app.dump());
  auto r = run({"scaling", "set", "acme-corp:greeter", "--reserved-capacity", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto req = only_request();
  EXPECT_EQ(req.method, "PUT");
  EXPECT_EQ(req.target, "/v1/apps/acme-corp:greeter/scaling");
  EXPECT_EQ(json::parse(req.body), (json{{"reserved_capacity", 1}}));
  EXPECT_EQ(r.out,
            "scaling of acme-corp:greeter: reserved_capacity=1 max_replicas=4 container_concurrency=0 "
            "idle_timeout_ms=300000\n");
}

TEST_F(scaling_commands, set_sends_every_given_key) {
  auto r = run({"scaling", "set", "acme-corp:greeter", "--max-replicas", "8", "--container-concurrency", "2",
                "--idle-timeout-ms", "60000", "--reserved-capacity", "0", "-o", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(
      json::parse(only_request().body),
      (json{{"reserved_capacity", 0}, {"max_replicas", 8}, {"container_concurrency", 2}, {"idle_timeout_ms", 60000}}));
  EXPECT_EQ(r.out, "{}\n");
}

TEST_F(scaling_commands, set_without_a_setting_is_a_usage_error) {
  auto r = run({"scaling", "set", "acme-corp:greeter"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("needs at least one of"), std::string::npos) << r.err;
  EXPECT_EQ(api_.request_count(), 0u);
}

TEST_F(scaling_commands, values_must_be_non_negative_numbers) {
  EXPECT_EQ(run({"scaling", "set", "acme-corp:greeter", "--max-replicas", "-1"}).code, 2);
  EXPECT_EQ(run({"scaling", "set", "acme-corp:greeter", "--max-replicas", "many"}).code, 2);
  EXPECT_EQ(api_.request_count(), 0u);
}

TEST_F(scaling_commands, the_servers_validation_is_reported) {
  answer(400, R"({"error":{"code":"invalid_argument","message":"scaling.max_replicas must be at least 1"}})");
  auto r = run({"scaling", "set", "acme-corp:greeter", "--max-replicas", "0"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "ignite: invalid_argument: scaling.max_replicas must be at least 1\n");
}

}  // namespace
}  // namespace ignite::test
