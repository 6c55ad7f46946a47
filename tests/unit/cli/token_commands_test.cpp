#include <gtest/gtest.h>

#include "cli_fixture.hpp"

namespace ignite::test {
namespace {

class token_commands : public cli_fixture {};

constexpr const char* k_created =
    R"({"id":"01JTOKEN","org":"acme-corp","token":"ign_secret_value_1234","created_at":"2026-01-02T03:04:05Z"})";

TEST_F(token_commands, create_prints_the_token_alone_on_stdout_and_the_note_on_stderr) {
  answer(201, k_created);
  auto r = run({"token", "create", "acme-corp"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto req = only_request();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/v1/orgs/acme-corp/tokens");
  EXPECT_EQ(req.headers.get("Authorization"), std::string("Bearer ") + k_token);
  EXPECT_EQ(r.out, "ign_secret_value_1234\n");
  EXPECT_EQ(r.err, "ignite: token 01JTOKEN for org acme-corp created; it is not shown again: store it now\n");
}

TEST_F(token_commands, create_with_o_json_prints_the_answer_as_is) {
  answer(201, k_created);
  auto r = run({"token", "create", "acme-corp", "-o", "json"});
  EXPECT_EQ(r.out, std::string(k_created) + "\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(token_commands, create_needs_the_operator_token) {
  answer(401, R"({"error":{"code":"unauthorized","message":"only the operator token may create tokens"}})");
  auto r = run({"token", "create", "acme-corp"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "ignite: unauthorized: only the operator token may create tokens\n");
}

TEST_F(token_commands, list_prints_ids_only) {
  answer(200, R"({"tokens":[{"id":"01JA","org":"acme-corp","created_at":"2026-01-02T03:04:05Z"}]})");
  auto r = run({"token", "list", "acme-corp"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto req = only_request();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/v1/orgs/acme-corp/tokens");
  EXPECT_EQ(r.out,
            "ID    ORG        CREATED\n"
            "01JA  acme-corp  2026-01-02T03:04:05Z\n");
}

TEST_F(token_commands, revoke_deletes_the_token) {
  answer(200, R"({"revoked":"01JA"})");
  auto r = run({"token", "revoke", "acme-corp", "01JA"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto req = only_request();
  EXPECT_EQ(req.method, "DELETE");
  EXPECT_EQ(req.target, "/v1/orgs/acme-corp/tokens/01JA");
  EXPECT_EQ(r.out, "revoked token 01JA\n");
}

TEST_F(token_commands, revoke_needs_org_and_id) {
  EXPECT_EQ(run({"token", "revoke", "acme-corp"}).code, 2);
  EXPECT_EQ(run({"token", "create"}).code, 2);
  EXPECT_EQ(api_.request_count(), 0u);
}

}  // namespace
}  // namespace ignite::test
