#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"

namespace ignite::test {
namespace {

constexpr const char* k_greeting = R"({"greeting":"Hello, ada!","execution_id":"01JEXEC"})";
constexpr const char* k_pretty_greeting =
    "{\n"
    "  \"execution_id\": \"01JEXEC\",\n"
    "  \"greeting\": \"Hello, ada!\"\n"
    "}\n";

class invoke_command : public cli_fixture {
 protected:
  void SetUp() override { answer(200, k_greeting, {{"x-ignite-execution-id", "01JEXEC"}}); }
  void expect_invoked_with(const std::string& payload) {
    auto req = only_request();
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.target, "/v1/apps/acme-corp:greeter/invoke");
    EXPECT_EQ(req.headers.get("Authorization"), std::string("Bearer ") + k_token);
    EXPECT_EQ(req.body, payload);
  }
};

TEST_F(invoke_command, payload_from_p_and_the_answer_pretty_printed) {
  auto r = run({"invoke", "acme-corp:greeter", "-p", R"({"name": "ada"})"});
  EXPECT_EQ(r.code, 0) << r.err;
  expect_invoked_with(R"({"name": "ada"})");
  EXPECT_EQ(r.out, k_pretty_greeting);
  EXPECT_EQ(r.err, "");
}

TEST_F(invoke_command, o_json_prints_the_answer_as_is) {
  auto r = run({"invoke", "acme-corp:greeter", "-p", "{}", "-o", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(k_greeting) + "\n");
}

TEST_F(invoke_command, payload_from_a_file) {
  auto file = home_ / "payload.json";
  std::ofstream(file) << R"({"name":"file"})";
  auto r = run({"invoke", "acme-corp:greeter", "-f", file.string()});
  EXPECT_EQ(r.code, 0) << r.err;
  expect_invoked_with(R"({"name":"file"})");
}

TEST_F(invoke_command, payload_from_stdin) {
  auto r = run({"invoke", "acme-corp:greeter"}, R"({"name":"stdin"})");
  EXPECT_EQ(r.code, 0) << r.err;
  expect_invoked_with(R"({"name":"stdin"})");
  r = run({"invoke", "acme-corp:greeter", "-f", "-"}, "dash");
  EXPECT_EQ(api_.requests().back().body, "dash");
}

TEST_F(invoke_command, a_missing_file_is_reported) {
  auto r = run({"invoke", "acme-corp:greeter", "-f", (home_ / "nope.json").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot read the payload file"), std::string::npos) << r.err;
  EXPECT_EQ(api_.request_count(), 0u);
}

TEST_F(invoke_command, p_and_f_exclude_each_other) {
  EXPECT_EQ(run({"invoke", "acme-corp:greeter", "-p", "{}", "-f", "x"}).code, 2);
  EXPECT_EQ(api_.request_count(), 0u);
}

TEST_F(invoke_command, a_non_json_answer_is_printed_as_is) {
  answer(200, "plain text");
  auto r = run({"invoke", "acme-corp:greeter", "-p", "x"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "plain text\n");
}

TEST_F(invoke_command, an_apps_error_answer_is_printed_and_exits_1) {
  answer(500, R"({"oops":true})", {{"x-ignite-execution-id", "01JEXEC"}});
  auto r = run({"invoke", "acme-corp:greeter", "-p", "{}"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "{\n  \"oops\": true\n}\n");
  EXPECT_EQ(r.err, "ignite: the app answered HTTP 500 (execution_id 01JEXEC)\n");
}

TEST_F(invoke_command, a_proxy_error_is_reported_with_its_execution_id) {
  answer(504,
         R"({"error":{"code":"cold_start_timeout","message":"no pod listened within 30000 ms","execution_id":"01JX"}})",
         {{"x-ignite-error", "proxy"}, {"x-ignite-execution-id", "01JX"}});
  auto r = run({"invoke", "acme-corp:greeter", "-p", "{}"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "ignite: cold_start_timeout: no pod listened within 30000 ms (execution_id 01JX)\n");
}

TEST_F(invoke_command, an_unknown_app_is_reported) {
  answer(404, R"({"error":{"code":"not_found","message":"app acme-corp:nope does not exist"}})");
  auto r = run({"invoke", "acme-corp:nope", "-p", "{}"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "ignite: not_found: app acme-corp:nope does not exist\n");
}

}  // namespace
}  // namespace ignite::test
