// token create | list | revoke (operator token only)

#include <ostream>

#include "cli/commands.hpp"
#include "cli/path_segment.hpp"
#include "cli/source_text.hpp"
#include "cli/table.hpp"

namespace ignite::cli {

namespace {

std::string tokens_path(const std::string& org) {
  if (org.empty()) throw usage_error("the org is empty");
  return "/v1/orgs/" + encode_path_segment(org) + "/tokens";
}

}  // namespace

int token_create(session& s, const std::string& org) {
  const auto answer = s.call(http_method::post, tokens_path(org));
  if (s.json_output()) {
    s.print_raw(answer.raw);
  } else {
    // The token alone on stdout, so TOKEN=$(ignite token create acme-corp) works; the
    // note goes to stderr.
    s.out() << string_at(answer.json, "token") << '\n';
    s.err() << "ignite: token " << string_at(answer.json, "id") << " for org " << org
            << " created; it is not shown again: store it now\n";
  }
  return k_exit_ok;
}

int token_list(session& s, const std::string& org) {
  const auto answer = s.call(http_method::get, tokens_path(org));
  s.print(answer, [&](std::ostream& out) {
    table t({"ID", "ORG", "CREATED"});
    if (const auto& tokens = value_at(answer.json, "tokens"); tokens.is_array())
      for (const auto& token : tokens)
        t.add_row({string_at(token, "id"), string_at(token, "org"), string_at(token, "created_at")});
    if (t.empty())
      out << "no tokens for " << org << '\n';
    else
      t.print(out);
  });
  return k_exit_ok;
}

int token_revoke(session& s, const std::string& org, const std::string& id) {
  if (id.empty()) throw usage_error("the token id is empty");
  const auto answer = s.call(http_method::del, tokens_path(org) + "/" + encode_path_segment(id));
  s.print(answer, [&](std::ostream& out) {
    const auto revoked = string_at(answer.json, "revoked");
    out << "revoked token " << (revoked.empty() ? id : revoked) << '\n';
  });
  return k_exit_ok;
}

}  // namespace ignite::cli
