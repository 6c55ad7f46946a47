#include "cli/session.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace ignite::cli {
namespace {

api_response answer(unsigned status, std::string body, std::string reason = "") {
  api_response r;
  r.status = status;
  r.reason = std::move(reason);
  r.body = std::move(body);
  return r;
}

TEST(error_answer, the_apis_code_and_message) {
  auto f = error_answer(answer(409, R"({"error":{"code":"conflict","message":"label taken"}})"));
  EXPECT_EQ(f.exit_code(), 1);
  EXPECT_EQ(std::string(f.what()), "conflict: label taken");
}

TEST(error_answer, the_proxys_execution_id) {
  auto r = answer(503, R"({"error":{"code":"overloaded","message":"hold queue full","execution_id":"01JA"}})");
  EXPECT_EQ(std::string(error_answer(r).what()), "overloaded: hold queue full (execution_id 01JA)");
  r = answer(503, R"({"error":{"code":"overloaded","message":"hold queue full"}})");
  r.proxy_error = true;
  r.execution_id = "01JB";
  EXPECT_EQ(std::string(error_answer(r).what()), "overloaded: hold queue full (execution_id 01JB)");
}

TEST(error_answer, anything_else_gives_the_status_and_the_start_of_the_body) {
  EXPECT_EQ(std::string(error_answer(answer(500, "", "Internal Server Error")).what()),
            "HTTP 500 Internal Server Error");
  EXPECT_EQ(std::string(error_answer(answer(500, R"({"error":"flat"})")).what()), R"(HTTP 500: {"error":"flat"})");
  EXPECT_EQ(std::string(error_answer(answer(500, R"({"error":{}})")).what()), "HTTP 500");
  const auto long_body = std::string(300, 'x');
  EXPECT_EQ(std::string(error_answer(answer(500, long_body)).what()), "HTTP 500: " + std::string(200, 'x') + "...");
}

TEST(session, secrets_are_scrubbed_from_what_it_prints) {
  std::istringstream in;
  std::ostringstream out, err;
  environment env;
  session s(in, out, err, env);
  s.keep_secret("hunter2");
  s.keep_secret("");  // nothing to hide: ignored
  EXPECT_EQ(s.scrub("a hunter2 b hunter2hunter2"), "a **** b ********");
  s.print_raw("{\"p\":\"hunter2\"}");
  s.warn("was hunter2");
  EXPECT_EQ(out.str(), "{\"p\":\"****\"}\n");
  EXPECT_EQ(err.str(), "ignite: warning: was ****\n");
}

TEST(session, print_uses_the_raw_answer_under_o_json) {
  std::istringstream in;
  std::ostringstream out, err;
  environment env;
  session s(in, out, err, env);
  api_answer a{R"({ "raw" : true })", nlohmann::json{{"raw", true}}};
  s.print(a, [](std::ostream& o) { o << "human\n"; });
  s.format = output_format::json;
  s.print(a, [](std::ostream& o) { o << "human\n"; });
  EXPECT_EQ(out.str(), "human\n{ \"raw\" : true }\n");
}

}  // namespace
}  // namespace ignite::cli
