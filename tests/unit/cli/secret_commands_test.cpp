#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"

namespace ignite::test {
namespace {

using json = nlohmann::json;

constexpr const char* k_password = "s3cr3t-registry-pass";
constexpr const char* k_secret_json =
    R"({"id":"acme-corp:greeter-registry","org":"acme-corp","name":"greeter-registry","type":"registry",)"
    R"("server":"ghcr.io","username":"robot","created_at":"2026-01-02T03:04:05Z"})";

class secret_commands : public cli_fixture {
 protected:
  std::vector<std::string> create_args(std::vector<std::string> more) {
    std::vector<std::string> args = {"secret",   "create",  "greeter-registry", "--type", "registry",
                                     "--server", "ghcr.io", "--username",       "robot"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }
  void expect_no_password(const cli_result& r) {
    EXPECT_EQ(r.out.find(k_password), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find(k_password), std::string::npos) << r.err;
  }
};

TEST_F(secret_commands, create_reads_the_password_from_stdin_and_never_prints_it) {
  answer(201, k_secret_json);
  auto r = run(create_args({"--password-stdin"}), std::string(k_password) + "\n");
  EXPECT_EQ(r.code, 0) << r.err;
  auto req = only_request();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/v1/secrets");
  EXPECT_EQ(req.headers.get("Authorization"), std::string("Bearer ") + k_token);
  // The trailing newline of `echo "$PASS" |` is not part of the password.
  EXPECT_EQ(json::parse(req.body), (json{{"name", "greeter-registry"},
                                         {"type", "registry"},
                                         {"server", "ghcr.io"},
                                         {"username", "robot"},
                                         {"password", k_password}}));
  EXPECT_EQ(r.out,
            "created secret acme-corp:greeter-registry (registry, ghcr.io, user robot)\n"
            "use it with: ignite draft save ORG:NAME --image-ref <image> --registry-secret-ref greeter-registry\n");
  EXPECT_EQ(r.err, "");
  expect_no_password(r);
}

TEST_F(secret_commands, create_sends_the_org_when_given) {
  answer(201, k_secret_json);
  auto r = run(create_args({"--password-stdin", "--org", "acme-corp"}), k_password);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(only_request().body)["org"], "acme-corp");
}

TEST_F(secret_commands, without_a_password_flag_a_piped_stdin_is_read) {
  answer(201, k_secret_json);
  auto r = run(create_args({}), std::string(k_password) + "\r\n");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(only_request().body)["password"], k_password);
  expect_no_password(r);
}

TEST_F(secret_commands, password_flag_works_with_a_warning) {
  answer(201, k_secret_json);
  auto r = run(create_args({"--password", k_password}));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(only_request().body)["password"], k_password);
  EXPECT_EQ(r.err,
            "ignite: warning: --password shows the password in the process list and the shell history; prefer "
            "--password-stdin\n");
  expect_no_password(r);
}

TEST_F(secret_commands, an_error_that_echoes_the_password_is_scrubbed) {
  answer(
      400,
      json{{"error", {{"code", "invalid_argument"}, {"message", std::string("bad password ") + k_password}}}}.dump());
  auto r = run(create_args({"--password-stdin"}), k_password);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "ignite: invalid_argument: bad password ****\n");
  expect_no_password(r);
  // And under -o json, whatever the server answers.
  answer(201, json{{"id", "acme-corp:x"}, {"echo", k_password}}.dump());
  r = run(create_args({"--password-stdin", "-o", "json"}), k_password);
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, R"({"echo":"****","id":"acme-corp:x"})"
                   "\n");
  expect_no_password(r);
}

TEST_F(secret_commands, an_empty_password_is_refused) {
  auto r = run(create_args({"--password-stdin"}), "\n");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "ignite: the password is empty\n");
  EXPECT_EQ(api_.request_count(), 0u);
}

TEST_F(secret_commands, password_and_password_stdin_exclude_each_other) {
  auto r = run(create_args({"--password", k_password, "--password-stdin"}));
  EXPECT_EQ(r.code, 2);
  expect_no_password(r);
  EXPECT_EQ(api_.request_count(), 0u);
}

TEST_F(secret_commands, type_server_and_username_are_required) {
  EXPECT_EQ(run({"secret", "create", "x", "--server", "ghcr.io", "--username", "u", "--password-stdin"}, "p").code, 2);
  EXPECT_EQ(run({"secret", "create", "x", "--type", "registry", "--username", "u", "--password-stdin"}, "p").code, 2);
  EXPECT_EQ(run({"secret", "create", "x", "--type", "registry", "--server", "s", "--password-stdin"}, "p").code, 2);
  EXPECT_EQ(api_.request_count(), 0u);
}

TEST_F(secret_commands, list_prints_a_table_without_passwords) {
  answer(200, std::string(R"({"secrets":[)") + k_secret_json + "]}");
  auto r = run({"secret", "list"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto req = only_request();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/v1/secrets");
  EXPECT_EQ(r.out,
            "ID                          TYPE      SERVER   USERNAME  CREATED\n"
            "acme-corp:greeter-registry  registry  ghcr.io  robot     2026-01-02T03:04:05Z\n");
}

TEST_F(secret_commands, delete_takes_a_name_or_org_name) {
  answer(200, R"({"deleted":"acme-corp:ghcr"})");
  auto r = run({"secret", "delete", "acme-corp:ghcr"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto req = only_request();
  EXPECT_EQ(req.method, "DELETE");
  EXPECT_EQ(req.target, "/v1/secrets/acme-corp:ghcr");
  EXPECT_EQ(r.out, "deleted secret acme-corp:ghcr\n");
  r = run({"secret", "delete", "ghcr"});
  EXPECT_EQ(api_.requests().back().target, "/v1/secrets/ghcr");
}

TEST_F(secret_commands, delete_of_a_secret_in_use_is_refused_by_the_server) {
  answer(409, R"({"error":{"code":"conflict","message":"acme-corp:ghcr is used by acme-corp:greeter version 2"}})");
  auto r = run({"secret", "delete", "ghcr"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "ignite: conflict: acme-corp:ghcr is used by acme-corp:greeter version 2\n");
}

}  // namespace
}  // namespace ignite::test
