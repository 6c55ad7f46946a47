#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"
#include "sample_answers.hpp"

namespace ignite::test {
namespace {

class version_commands : public cli_fixture {};

constexpr const char* k_versions_json =
    R"({"versions":[{"version":1,"source":{"image_ref":"ghcr.io/acme-corp/greeter:1.0.0"},)"
    R"("created_at":"2026-01-01T00:00:00Z","active":false},)"
    R"({"version":2,"source":{"endpoints":["127.0.0.1:9001"]},"created_at":"2026-01-02T00:00:00Z","active":true}]})";

TEST_F(version_commands, list_prints_a_table_marking_the_active_version) {
  answer(200, k_versions_json);
  auto r = run({"version", "list", "acme-corp:greeter"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto req = only_request();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/v1/apps/acme-corp:greeter/versions");
  EXPECT_EQ(req.headers.get("Authorization"), std::string("Bearer ") + k_token);
  EXPECT_EQ(r.out,
            "VERSION  ACTIVE  SOURCE                                 CREATED\n"
            "1                image ghcr.io/acme-corp/greeter:1.0.0  2026-01-01T00:00:00Z\n"
            "2        *       endpoints 127.0.0.1:9001               2026-01-02T00:00:00Z\n");
}

TEST_F(version_commands, list_with_o_json_prints_the_answer_as_is) {
  answer(200, k_versions_json);
  auto r = run({"version", "list", "acme-corp:greeter", "-o", "json"});
  EXPECT_EQ(r.out, std::string(k_versions_json) + "\n");
}

TEST_F(version_commands, rollback_posts_to_the_version) {
  auto app = nlohmann::json::parse(k_app_json);
  app["active_version"] = 1;
  answer(200, app.dump());
  auto r = run({"version", "rollback", "acme-corp:greeter", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto req = only_request();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/v1/apps/acme-corp:greeter/versions/1/rollback");
  EXPECT_EQ(r.out, "acme-corp:greeter now serves version 1\n");
}

TEST_F(version_commands, rollback_to_a_version_that_does_not_exist) {
  answer(404, R"({"error":{"code":"not_found","message":"acme-corp:greeter has no version 9"}})");
  auto r = run({"version", "rollback", "acme-corp:greeter", "9"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "ignite: not_found: acme-corp:greeter has no version 9\n");
}

TEST_F(version_commands, rollback_needs_a_positive_version_number) {
  for (const char* n : {"0", "-1", "two", "1.5"}) {
    auto r = run({"version", "rollback", "acme-corp:greeter", n});
    EXPECT_EQ(r.code, 2) << n << ": " << r.err;
  }
  EXPECT_EQ(run({"version", "rollback", "acme-corp:greeter"}).code, 2);
  EXPECT_EQ(api_.request_count(), 0u);
}

}  // namespace
}  // namespace ignite::test
