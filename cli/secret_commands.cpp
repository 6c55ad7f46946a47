// secret create | list | delete. The password goes to the API once and is printed
// nowhere: the session scrubs it from everything it writes, errors included.

#include <ostream>

#include "cli/commands.hpp"
#include "cli/password.hpp"
#include "cli/path_segment.hpp"
#include "cli/source_text.hpp"
#include "cli/table.hpp"

namespace ignite::cli {

namespace {

std::string password_of(session& s, const secret_create_args& args) {
  if (args.password) {
    s.warn("--password shows the password in the process list and the shell history; prefer --password-stdin");
    return *args.password;
  }
  if (args.password_stdin || !s.env().stdin_is_terminal) return read_password_from_stream(s.in());
  return read_password_from_terminal(s.in(), s.err(), "Password for " + args.username + "@" + args.server + ": ");
}

}  // namespace

int secret_create(session& s, const secret_create_args& args) {
  const std::string password = password_of(s, args);
  s.keep_secret(password);
  if (password.empty()) throw usage_error("the password is empty");

  nlohmann::json body = {{"name", args.name},
                         {"type", args.type},
                         {"server", args.server},
                         {"username", args.username},
                         {"password", password}};
  if (args.org) body["org"] = *args.org;
  const auto answer = s.call(http_method::post, "/v1/secrets", body);
  s.print(answer, [&](std::ostream& out) {
    const auto& secret = answer.json;
    out << "created secret " << string_at(secret, "id") << " (" << string_at(secret, "type") << ", "
        << string_at(secret, "server") << ", user " << string_at(secret, "username") << ")\n"
        << "use it with: ignite draft save ORG:NAME --image-ref <image> --registry-secret-ref "
        << string_at(secret, "name") << '\n';
  });
  return k_exit_ok;
}

int secret_list(session& s) {
  const auto answer = s.call(http_method::get, "/v1/secrets");
  s.print(answer, [&](std::ostream& out) {
    table t({"ID", "TYPE", "SERVER", "USERNAME", "CREATED"});
    if (const auto& secrets = value_at(answer.json, "secrets"); secrets.is_array())
      for (const auto& secret : secrets)
        t.add_row({string_at(secret, "id"), string_at(secret, "type"), string_at(secret, "server"),
                   string_at(secret, "username"), string_at(secret, "created_at")});
    if (t.empty())
      out << "no secrets yet\n";
    else
      t.print(out);
  });
  return k_exit_ok;
}

int secret_delete(session& s, const std::string& name) {
  if (name.empty()) throw usage_error("the secret name is empty");
  const auto answer = s.call(http_method::del, "/v1/secrets/" + encode_path_segment(name));
  s.print(answer, [&](std::ostream& out) {
    const auto deleted = string_at(answer.json, "deleted");
    out << "deleted secret " << (deleted.empty() ? name : deleted) << '\n';
  });
  return k_exit_ok;
}

}  // namespace ignite::cli
