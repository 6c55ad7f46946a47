#pragma once
// The commands, one function each, as command_line.cpp calls them once the arguments
// are parsed. Each sends at most one request and returns the exit code; failures are
// thrown (failure.hpp). The API they speak is DESIGN.md's "Control API".

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/session.hpp"

namespace ignite::cli {

// config (local: no request)
int config_set(session& s, const std::string& key, const std::string& value);
int config_get(session& s);

// app
struct app_create_args {
  std::string name;
  std::optional<std::string> org;  // an org token implies its org
  std::string description;
  std::vector<std::string> build_flags;  // --runtime, refused (exit 2)
};
int app_create(session& s, const app_create_args& args);
int app_get(session& s, const std::string& id);
int app_list(session& s);
int app_delete(session& s, const std::string& id);

// draft
struct draft_save_args {
  std::string id;
  std::optional<std::string> image_ref;
  std::optional<std::string> registry_secret_ref;
  std::optional<std::vector<std::string>> command;  // the argv after --command
  std::vector<std::string> endpoints;
  // Build flags that a prebuilt image cannot take, as given (refused, exit 2).
  std::vector<std::string> build_flags;
};
int draft_save(session& s, const draft_save_args& args);
int draft_publish(session& s, const std::string& id);

// version
int version_list(session& s, const std::string& id);
int version_rollback(session& s, const std::string& id, std::int64_t version);

// scaling
struct scaling_set_args {
  std::string id;
  std::optional<std::int64_t> reserved_capacity;
  std::optional<std::int64_t> max_replicas;
  std::optional<std::int64_t> container_concurrency;
  std::optional<std::int64_t> idle_timeout_ms;
};
int scaling_set(session& s, const scaling_set_args& args);

// secret
struct secret_create_args {
  std::string name;
  std::string type;
  std::string server;
  std::string username;
  std::optional<std::string> password;  // --password (warned about)
  bool password_stdin = false;
  std::optional<std::string> org;
};
int secret_create(session& s, const secret_create_args& args);
int secret_list(session& s);
int secret_delete(session& s, const std::string& name);

// invoke
struct invoke_args {
  std::string id;
  std::optional<std::string> payload;  // -p
  std::optional<std::string> file;     // -f ("-" is stdin)
};
int invoke(session& s, const invoke_args& args);

// token (operator)
int token_create(session& s, const std::string& org);
int token_list(session& s, const std::string& org);
int token_revoke(session& s, const std::string& org, const std::string& id);

// Why `flag` (--build-arg, --dockerfile-path, --code, --git-url, --runtime) cannot be
// used: this proxy runs prebuilt images, which have no build step (the seed's words).
std::string prebuilt_only_refusal(const std::string& flag);

// An app id as the commands take it: "org:name", both parts non-empty. Throws
// usage_error otherwise.
void check_app_id(const std::string& id);
// "/v1/apps/<id>" with the id percent-encoded, plus `rest` ("/draft").
std::string app_path(const std::string& id, const std::string& rest = "");

}  // namespace ignite::cli
