#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"
#include "sample_answers.hpp"

namespace ignite::test {
namespace {

using json = nlohmann::json;

constexpr const char* k_build_refusal =
    "ignite: --build-arg/--dockerfile-path: a prebuilt image (--image-ref) has no build step; bake them into the "
    "image before you push it, or use the build-from-code path\n";

class draft_commands : public cli_fixture {
 protected:
  json saved_body() {
    auto req = only_request();
    EXPECT_EQ(req.method, "PUT");
    EXPECT_EQ(req.target, "/v1/apps/acme-corp:greeter/draft");
    EXPECT_EQ(req.headers.get("Authorization"), std::string("Bearer ") + k_token);
    return json::parse(req.body, nullptr, false);
  }
};

TEST_F(draft_commands, save_a_public_image) {
  answer(200, k_app_json);
  auto r = run({"draft", "save", "acme-corp:greeter", "--image-ref", "ghcr.io/acme-corp/greeter:1.0.0"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(saved_body(), (json{{"image_ref", "ghcr.io/acme-corp/greeter:1.0.0"}}));
  // The human text describes the draft the server now holds.
  EXPECT_EQ(r.out,
            "saved the draft of acme-corp:greeter: image ghcr.io/acme-corp/greeter:1.0.1 (registry secret "
            "greeter-registry)\n"
            "next: ignite draft publish acme-corp:greeter\n");
}

TEST_F(draft_commands, save_a_private_image_with_its_registry_secret) {
  answer(200, k_app_json);
  auto r = run({"draft", "save", "acme-corp:greeter", "--image-ref", "ghcr.io/acme-corp/greeter-private:1.0.0",
                "--registry-secret-ref", "greeter-registry"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(saved_body(), (json{{"image_ref", "ghcr.io/acme-corp/greeter-private:1.0.0"},
                                {"registry_secret_ref", "greeter-registry"}}));
}

TEST_F(draft_commands, save_with_o_json_prints_the_app_as_is) {
  answer(200, k_app_json);
  auto r = run({"draft", "save", "acme-corp:greeter", "--image-ref", "x/y:1", "-o", "json"});
  EXPECT_EQ(r.out, std::string(k_app_json) + "\n");
}

TEST_F(draft_commands, command_takes_the_rest_of_the_command_line) {
  auto r = run({"draft", "save", "acme-corp:greeter", "--command", "./server", "--port", "0", "-o", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  // Everything after --command is the program's argv, options included.
  EXPECT_EQ(saved_body(), (json{{"command", {"./server", "--port", "0", "-o", "json"}}}));
}

TEST_F(draft_commands, command_after_a_double_dash) {
  auto r = run({"-o", "json", "draft", "save", "acme-corp:greeter", "--command", "--", "prog", "--flag"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(saved_body(), (json{{"command", {"prog", "--flag"}}}));
  EXPECT_EQ(r.out, "{}\n");
}

TEST_F(draft_commands, command_with_an_equals_sign) {
  auto r = run({"draft", "save", "acme-corp:greeter", "--command=./server", "--port", "0"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(saved_body(), (json{{"command", {"./server", "--port", "0"}}}));
}

TEST_F(draft_commands, command_without_a_program_is_a_usage_error) {
  auto r = run({"draft", "save", "acme-corp:greeter", "--command"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--command needs the program to run"), std::string::npos) << r.err;
  EXPECT_EQ(api_.request_count(), 0u);
}

TEST_F(draft_commands, endpoints_are_repeatable) {
  auto r = run({"draft", "save", "acme-corp:greeter", "--endpoint", "127.0.0.1:9001", "--endpoint", "[::1]:9002"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(saved_body(), (json{{"endpoints", {"127.0.0.1:9001", "[::1]:9002"}}}));
}

TEST_F(draft_commands, a_malformed_endpoint_is_a_usage_error) {
  auto r = run({"draft", "save", "acme-corp:greeter", "--endpoint", "127.0.0.1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "ignite: --endpoint \"127.0.0.1\": must be host:port\n");
  EXPECT_EQ(api_.request_count(), 0u);
}

TEST_F(draft_commands, exactly_one_source) {
  auto none = run({"draft", "save", "acme-corp:greeter"});
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("draft save needs a source"), std::string::npos) << none.err;
  auto two = run({"draft", "save", "acme-corp:greeter", "--image-ref", "a/b:1", "--endpoint", "127.0.0.1:9001"});
  EXPECT_EQ(two.code, 2);
  EXPECT_NE(two.err.find("the source flags are exclusive"), std::string::npos) << two.err;
  auto secret_alone =
      run({"draft", "save", "acme-corp:greeter", "--endpoint", "127.0.0.1:9001", "--registry-secret-ref", "s"});
  EXPECT_EQ(secret_alone.code, 2);
  EXPECT_NE(secret_alone.err.find("--registry-secret-ref goes with --image-ref"), std::string::npos);
  EXPECT_EQ(api_.request_count(), 0u);
}

TEST_F(draft_commands, build_arg_and_dockerfile_path_are_refused_with_the_seeds_explanation) {
  auto r = run({"draft", "save", "acme-corp:greeter", "--image-ref", "ghcr.io/acme-corp/greeter:1.0.0", "--build-arg",
                "VERSION=1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, k_build_refusal);
  r = run({"draft", "save", "acme-corp:greeter", "--image-ref", "a/b:1", "--dockerfile-path", "Dockerfile"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, k_build_refusal);
  // Repeated, or without a value, it is still the same explanation.
  r = run({"draft", "save", "acme-corp:greeter", "--build-arg", "A=1", "--build-arg", "B=2", "--image-ref", "a/b:1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, k_build_refusal);
  r = run({"draft", "save", "acme-corp:greeter", "--image-ref", "a/b:1", "--dockerfile-path"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, k_build_refusal);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(api_.request_count(), 0u);
}

TEST_F(draft_commands, build_from_code_flags_are_refused) {
  for (const char* flag : {"--code", "--git-url", "--runtime"}) {
    auto r = run({"draft", "save", "acme-corp:greeter", flag, "x"});
    EXPECT_EQ(r.code, 2) << flag;
    EXPECT_EQ(r.err.find(std::string("ignite: ") + flag + ": this proxy runs prebuilt images only"), 0u) << r.err;
  }
  EXPECT_EQ(api_.request_count(), 0u);
}

TEST_F(draft_commands, publish_prints_the_new_version) {
  answer(201, R"({"app":"acme-corp:greeter","version":3,"source":{"image_ref":"ghcr.io/acme-corp/greeter:1.0.0",)"
              R"("image_digest":"sha256:abc"},"created_at":"2026-01-02T03:04:05Z"})");
  auto r = run({"draft", "publish", "acme-corp:greeter"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto req = only_request();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/v1/apps/acme-corp:greeter/draft/publish");
  EXPECT_EQ(req.headers.get("Authorization"), std::string("Bearer ") + k_token);
  EXPECT_EQ(r.out,
            "published acme-corp:greeter version 3\n"
            "source: image ghcr.io/acme-corp/greeter:1.0.0 (sha256:abc)\n");
}

TEST_F(draft_commands, publish_of_an_unpullable_image_exits_1_with_the_servers_message) {
  answer(
      422,
      R"({"error":{"code":"image_unavailable","message":"pull ghcr.io/x/y:1: unauthorized; check registry_secret_ref"}})");
  auto r = run({"draft", "publish", "acme-corp:greeter"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "ignite: image_unavailable: pull ghcr.io/x/y:1: unauthorized; check registry_secret_ref\n");
}

}  // namespace
}  // namespace ignite::test
