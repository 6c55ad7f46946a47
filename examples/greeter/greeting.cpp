#include "greeting.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace greeter {
namespace {

using json = nlohmann::json;

response make_json(http::status status, const json& body, unsigned version, bool keep_alive) {
  response res{status, version};
  res.set(http::field::content_type, "application/json");
  // replace, not throw: a name is user input, and it must never cost the answer.
  res.body() = body.dump(-1, ' ', false, json::error_handler_t::replace);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

// Only "/" reaches the app, with or without a query string, as on the platform.
bool is_root(std::string_view target) { return target == "/" || target.starts_with("/?"); }

}  // namespace

response make_error(http::status status, std::string_view message, unsigned version, bool keep_alive) {
  return make_json(status, json{{"error", message}}, version, keep_alive);
}

response make_greeting(const request& req) {
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();

  if (req.method() != http::verb::post) {
    auto res = make_error(http::status::method_not_allowed, "only POST is allowed", version, keep_alive);
    res.set(http::field::allow, "POST");
    return res;
  }
  if (!is_root(req.target()))
    return make_error(http::status::not_found, "no such path; POST to /", version, keep_alive);

  std::string name = "world";
  // An empty body is a request with no name, not a malformed one: `curl -X POST` works.
  if (!req.body().empty()) {
    const json body = json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded())
      return make_error(http::status::bad_request, "body is not valid JSON", version, keep_alive);
    if (!body.is_object())
      return make_error(http::status::bad_request, "body must be a JSON object", version, keep_alive);
    if (auto it = body.find("name"); it != body.end() && !it->is_null()) {
      if (!it->is_string())
        return make_error(http::status::bad_request, "\"name\" must be a string", version, keep_alive);
      if (!it->get_ref<const std::string&>().empty()) name = it->get<std::string>();
    }
  }
  return make_json(http::status::ok, json{{"greeting", "Hello, " + name + "!"}}, version, keep_alive);
}

}  // namespace greeter
