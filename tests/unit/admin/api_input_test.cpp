#include "admin/api_input.hpp"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "admin/api_error.hpp"

namespace ignite::admin {
namespace {

using nlohmann::json;

// The error a call throws: "status code: message", or "" if it passes.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const api_error& e) {
    return std::to_string(e.status()) + " " + e.code() + ": " + e.what();
  }
  return {};
}

const principal k_operator{.is_operator = true, .org = {}, .token_id = {}};
const principal k_acme{.is_operator = false, .org = "acme-corp", .token_id = "t1"};

TEST(parse_body, an_empty_body_is_an_empty_object) { EXPECT_EQ(parse_body(""), json::object()); }

TEST(parse_body, invalid_json_says_where_but_never_quotes_the_input) {
  const auto e = error_of([] { parse_body(R"({"password": "hunter2)"); });
  EXPECT_TRUE(e.starts_with("400 invalid_argument: the body is not valid JSON (at byte")) << e;
  EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
}

// json::parse throws out_of_range, not parse_error, for these; they were answered 500
// (found by tests/fuzz/admin_api_fuzz).
TEST(parse_body, a_number_no_double_holds_is_invalid_argument) {
  for (const char* body : {R"({"max_replicas": 1e999})", "[-1e400]"}) {
    const auto e = error_of([&] { parse_body(body); });
    EXPECT_TRUE(e.starts_with("400 invalid_argument: the body is not valid JSON")) << body << ": " << e;
  }
}

// A value nested 50,000 deep overflowed the stack when set_scaling copied it (found by
// tests/fuzz/admin_api_fuzz): any org token could bring the proxy down.
TEST(parse_body, nesting_deeper_than_the_limit_is_invalid_argument) {
  const std::string deep = R"({"max_replicas":)" + std::string(50000, '[') + std::string(50000, ']') + "}";
  EXPECT_EQ(error_of([&] { parse_body(deep); }), "400 invalid_argument: the body nests deeper than 64 levels");
  const auto d = k_max_body_depth;
  const std::string limit = std::string(d, '[') + std::string(d, ']');
  EXPECT_EQ(error_of([&] { parse_body(limit); }), "");
}

TEST(parse_app_request, an_org_token_acts_in_its_own_org_only) {
  EXPECT_EQ(parse_app_request(k_acme, {{"name", "greeter"}}).org, "acme-corp");
  EXPECT_EQ(error_of([] {
              parse_app_request(k_acme, {{"org", "other"}, {"name", "greeter"}});
            }),
            "404 not_found: org other not found");
  EXPECT_EQ(error_of([] {
              parse_app_request(k_operator, {{"name", "greeter"}});
            }),
            "400 invalid_argument: org: is required");
}

TEST(parse_draft_request, only_the_operator_saves_commands_endpoints_or_the_host_network) {
  EXPECT_TRUE(error_of([] { parse_draft_request(k_acme, {{"command", {"/bin/true"}}}); }).starts_with("403"));
  EXPECT_TRUE(error_of([] {
                parse_draft_request(k_acme, {{"image_ref", "ghcr.io/a/b:1"}, {"network", "host"}});
              }).starts_with("403"));
  EXPECT_EQ(parse_draft_request(k_operator, {{"command", {"/bin/true"}}}).command[0], "/bin/true");
}

TEST(parse_secret_request, no_error_names_the_password) {
  const json bodies[] = {
      {{"name", "reg"}, {"type", "registry"}, {"server", "a/b"}, {"username", "u"}, {"password", "hunter2"}},
      {{"name", "reg"}, {"type", "hunter2"}, {"server", "s"}, {"username", "u"}, {"password", "hunter2"}},
      {{"name", "Reg"}, {"type", "registry"}, {"server", "s"}, {"username", "u"}, {"password", "hunter2"}},
  };
  for (const auto& body : bodies) {
    const auto e = error_of([&] { parse_secret_request(k_acme, body); });
    EXPECT_TRUE(e.starts_with("400")) << e;
    EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
  }
}

TEST(merge_scaling, keeps_what_was_set_and_validates_the_result) {
  const json current = {{"max_replicas", 2}};
  EXPECT_EQ(merge_scaling(current, {{"reserved_capacity", 1}}), (json{{"max_replicas", 2}, {"reserved_capacity", 1}}));
  EXPECT_EQ(error_of([&] {
              merge_scaling(current, {{"reserved_capacity", 3}});
            }),
            "400 invalid_argument: scaling.reserved_capacity: must not exceed max_replicas");
}

}  // namespace
}  // namespace ignite::admin
