// libFuzzer target: the control API's JSON request bodies (admin/api_input), parsed as
// admin_session does (parse_body) and checked as control_plane's operations check them
// before touching the store. The first byte picks the operation and who asks (the
// operator, or an org token of acme-corp); the rest is the body. Only api_error may come
// out, with a status of the contract's; what passes must be what the API may store
// (names that make a host label, one source, an org token kept to its org and to
// images). A secret's error message must not depend on its password: no answer ever
// contains one.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "admin/api_error.hpp"
#include "admin/api_input.hpp"
#include "routing/config.hpp"

namespace {

using namespace ignite;
using nlohmann::json;

void check(bool ok) {
  if (!ok) std::abort();
}

void check_status(const admin::api_error& e) {
  check(e.status() == 400 || e.status() == 403 || e.status() == 404);
  check(!std::string_view(e.what()).empty());
}

void create_app(const admin::principal& p, const json& body) {
  const auto r = admin::parse_app_request(p, body);
  admin::string_field(body, "description", false);
  check(routing::check_name(r.org).empty() && routing::check_name(r.name).empty());
  check(r.name.size() + 1 + r.org.size() <= 63);
  check(p.is_operator || r.org == p.org);
}

void save_draft(const admin::principal& p, const json& body) {
  admin::check_draft_body(body);
  const auto spec = admin::parse_draft_request(p, body);
  check((!spec.endpoints.empty()) + (!spec.command.empty()) + (!spec.image_ref.empty()) == 1);
  check(spec.image_digest.empty());
  if (!p.is_operator) check(!spec.image_ref.empty() && spec.network != "host");
}

// The error for `body` with its password replaced by `password` (nothing if it passes).
std::string secret_error(const admin::principal& p, json body, const char* password) {
  if (body.is_object() && body.contains("password") && body["password"].is_string() &&
      !body["password"].get<std::string>().empty())
    body["password"] = password;
  try {
    admin::parse_secret_request(p, body);
  } catch (const admin::api_error& e) {
    return std::to_string(e.status()) + e.code() + e.what();
  }
  return {};
}

void create_secret(const admin::principal& p, const json& body) {
  try {
    const auto r = admin::parse_secret_request(p, body);
    check(!r.password.empty() && r.type == "registry" && !r.server.empty() && !r.username.empty());
    check(p.is_operator || r.org == p.org);
  } catch (const admin::api_error& e) {
    check_status(e);
    check(secret_error(p, body, "\x01") == secret_error(p, body, "\x02"));
    throw;
  }
}

void set_scaling(const json& body) {
  const json current = {{"max_replicas", 2}, {"idle_timeout_ms", 1000}};
  const auto merged = admin::merge_scaling(current, body);
  check(merged.is_object());
  routing::parse_scaling(merged, "scaling");  // what is stored reads back
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned op = data[0] % 4;
  admin::principal who;
  who.is_operator = data[0] & 0x80;
  if (!who.is_operator) {
    who.org = "acme-corp";
    who.token_id = "t1";
  }
  try {
    const auto body = admin::parse_body(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
    switch (op) {
      case 0:
        create_app(who, body);
        break;
      case 1:
        save_draft(who, body);
        break;
      case 2:
        create_secret(who, body);
        break;
      default:
        set_scaling(body);
        break;
    }
  } catch (const admin::api_error& e) {
    check_status(e);
  }
  return 0;
}
