#include "cli/session.hpp"

#include <ostream>
#include <sstream>

namespace ignite::cli {

namespace {

bool success(unsigned status) { return status >= 200 && status < 300; }

// The start of a body that is not the API's JSON, on one line, for a message.
std::string excerpt(std::string_view body) {
  constexpr std::size_t k_max = 200;
  std::string text;
  for (char c : body.substr(0, k_max)) text += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (body.size() > k_max) text += "...";
  return text;
}

}  // namespace

failure error_answer(const api_response& response) {
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const auto& e = body["error"];
    auto text = [&](const char* key) {
      auto it = e.find(key);
      return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    std::string message = text("code").empty() ? "HTTP " + std::to_string(response.status) : text("code");
    if (!text("message").empty()) message += ": " + text("message");
    std::string execution_id = text("execution_id");
    if (execution_id.empty() && response.proxy_error) execution_id = response.execution_id;
    if (!execution_id.empty()) message += " (execution_id " + execution_id + ")";
    return api_failure(message);
  }
  std::string message = "HTTP " + std::to_string(response.status);
  if (!response.reason.empty()) message += " " + response.reason;
  if (!response.body.empty()) message += ": " + excerpt(response.body);
  return api_failure(message);
}

const settings& session::current_settings() {
  if (!settings_) settings_ = resolve_settings(env_);
  return *settings_;
}

const api_client& session::client() {
  if (client_) return *client_;
  const auto& s = current_settings();
  std::string why;
  auto where = parse_endpoint(s.api_endpoint, why);
  if (!where) throw api_failure("api_endpoint \"" + s.api_endpoint + "\" (from " + s.api_endpoint_source + "): " + why);
  if (s.token.empty()) throw api_failure("no token: run `ignite config set token <token>` or set IGNITE_TOKEN");
  client_.emplace(std::move(*where), s.token);
  return *client_;
}

api_response session::send(const api_request& request) { return client().send(request); }

api_answer session::call(http_method method, const std::string& target, const nlohmann::json* body,
                         std::chrono::seconds timeout) {
  api_request request;
  request.method = method;
  request.target = target;
  request.timeout = timeout;
  if (body) {
    request.has_body = true;
    request.body = body->dump();
  }
  auto response = send(request);
  if (!success(response.status)) throw error_answer(response);
  api_answer answer;
  answer.json = nlohmann::json::parse(response.body, nullptr, false);
  if (answer.json.is_discarded())
    throw api_failure("the answer from " + client().where().url() + " is not JSON (HTTP " +
                      std::to_string(response.status) + "): " + excerpt(response.body));
  answer.raw = std::move(response.body);
  return answer;
}

void session::print(const api_answer& answer, const std::function<void(std::ostream&)>& human) const {
  if (json_output()) return print_raw(answer.raw);
  std::ostringstream text;
  human(text);
  out_ << scrub(text.str());
}

void session::print_raw(std::string_view text) const {
  if (text.empty()) return;
  out_ << scrub(std::string(text));
  if (text.back() != '\n') out_ << '\n';
}

void session::warn(std::string_view text) const { err_ << "ignite: warning: " << scrub(std::string(text)) << '\n'; }

void session::keep_secret(std::string text) {
  if (!text.empty()) secrets_.push_back(std::move(text));
}

std::string session::scrub(std::string text) const {
  for (const auto& secret : secrets_) {
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 4))
      text.replace(at, secret.size(), "****");
  }
  return text;
}

}  // namespace ignite::cli
