#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"
#include "sample_answers.hpp"

namespace ignite::test {
namespace {

using json = nlohmann::json;

class app_commands : public cli_fixture {};

TEST_F(app_commands, create_posts_name_and_description_with_the_token) {
  answer(201, k_new_app_json);
  auto r = run({"app", "create", "greeter", "--description", "Prebuilt greeter image"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto req = only_request();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/v1/apps");
  EXPECT_EQ(req.headers.get("Authorization"), std::string("Bearer ") + k_token);
  EXPECT_EQ(req.headers.get("Content-Type"), "application/json");
  EXPECT_EQ(req.headers.get("User-Agent"), "ignite/0.4.0");
  // No --org: the body has no org at all (an org token implies its org).
  EXPECT_EQ(json::parse(req.body), (json{{"name", "greeter"}, {"description", "Prebuilt greeter image"}}));
  EXPECT_EQ(r.out,
            "created app acme-corp:greeter\n"
            "next: ignite draft save acme-corp:greeter --image-ref <image>\n");
}

TEST_F(app_commands, create_sends_the_org_when_given) {
  answer(201, k_new_app_json);
  auto r = run({"app", "create", "greeter", "--org", "acme-corp"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(only_request().body), (json{{"org", "acme-corp"}, {"name", "greeter"}, {"description", ""}}));
}

TEST_F(app_commands, create_refuses_runtime_because_images_are_prebuilt) {
  auto r = run({"app", "create", "greeter", "--runtime", "python3.12"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--runtime: this proxy runs prebuilt images only"), std::string::npos) << r.err;
  EXPECT_EQ(api_.request_count(), 0u);
}

TEST_F(app_commands, get_prints_the_app_on_a_few_lines) {
  answer(200, k_app_json);
  auto r = run({"app", "get", "acme-corp:greeter"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto req = only_request();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/v1/apps/acme-corp:greeter");
  EXPECT_EQ(req.body, "");
  EXPECT_EQ(r.out,
            "id:              acme-corp:greeter\n"
            "description:     Prebuilt greeter image\n"
            "active version:  2\n"
            "versions:        1,2\n"
            "draft:           image ghcr.io/acme-corp/greeter:1.0.1 (registry secret greeter-registry)\n"
            "public urls:     http://greeter-acme-corp.ignite.dodil.cloud:8080\n"
            "scaling:         reserved_capacity=0 max_replicas=4 container_concurrency=0 idle_timeout_ms=300000\n");
}

TEST_F(app_commands, get_with_o_json_prints_the_answer_as_is) {
  answer(200, k_app_json);
  auto r = run({"app", "get", "acme-corp:greeter", "-o", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(k_app_json) + "\n");
  // Before the subcommand works too.
  r = run({"-o", "json", "app", "get", "acme-corp:greeter"});
  EXPECT_EQ(r.out, std::string(k_app_json) + "\n");
}

TEST_F(app_commands, get_marks_apps_from_the_config_file) {
  json app = json::parse(k_app_json);
  app["managed_by"] = "config";
  answer(200, app.dump());
  auto r = run({"app", "get", "acme-corp:greeter"});
  EXPECT_NE(r.out.find("managed by:      the proxy's config file (read-only here)"), std::string::npos) << r.out;
}

TEST_F(app_commands, get_of_a_missing_app_prints_the_servers_message_and_exits_1) {
  answer(404, k_not_found_json);
  auto r = run({"app", "get", "acme-corp:nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "ignite: not_found: app acme-corp:nope does not exist\n");
  // Under -o json too: an error is a message on stderr, nothing on stdout.
  r = run({"app", "get", "acme-corp:nope", "-o", "json"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "ignite: not_found: app acme-corp:nope does not exist\n");
}

TEST_F(app_commands, an_id_without_org_is_a_usage_error_and_sends_nothing) {
  for (const char* id : {"greeter", ":greeter", "acme-corp:", "a:b:c"}) {
    auto r = run({"app", "get", id});
    EXPECT_EQ(r.code, 2) << id;
    EXPECT_NE(r.err.find("write ORG:NAME"), std::string::npos) << r.err;
  }
  EXPECT_EQ(api_.request_count(), 0u);
}

TEST_F(app_commands, ids_are_percent_encoded_in_the_path) {
  answer(404, k_not_found_json);
  run({"app", "get", "acme corp:a/b?c"});
  EXPECT_EQ(only_request().target, "/v1/apps/acme%20corp:a%2Fb%3Fc");
}

TEST_F(app_commands, list_prints_a_table) {
  json second = json::parse(k_new_app_json);
  second["id"] = "acme-corp:worker";
  answer(200, json{{"apps", {json::parse(k_app_json), second}}}.dump());
  auto r = run({"app", "list"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(only_request().target, "/v1/apps");
  EXPECT_EQ(r.out,
            "ID                 ACTIVE  VERSIONS  URL\n"
            "acme-corp:greeter  2       1,2       http://greeter-acme-corp.ignite.dodil.cloud:8080\n"
            "acme-corp:worker   -       -         -\n");
}

TEST_F(app_commands, list_says_when_there_is_no_app) {
  answer(200, R"({"apps":[]})");
  auto r = run({"app", "list"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "no apps yet: ignite app create NAME\n");
  r = run({"app", "list", "-o", "json"});
  EXPECT_EQ(r.out, "{\"apps\":[]}\n");
}

TEST_F(app_commands, delete_sends_delete_and_confirms) {
  answer(200, R"({"deleted":"acme-corp:greeter"})");
  auto r = run({"app", "delete", "acme-corp:greeter"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto req = only_request();
  EXPECT_EQ(req.method, "DELETE");
  EXPECT_EQ(req.target, "/v1/apps/acme-corp:greeter");
  EXPECT_EQ(r.out, "deleted app acme-corp:greeter\n");
}

TEST_F(app_commands, delete_of_a_config_app_is_refused_by_the_server) {
  answer(409, R"({"error":{"code":"managed_by_config","message":"acme-corp:greeter comes from the config file"}})");
  auto r = run({"app", "delete", "acme-corp:greeter"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "ignite: managed_by_config: acme-corp:greeter comes from the config file\n");
}

}  // namespace
}  // namespace ignite::test
