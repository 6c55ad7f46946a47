#include "support/admin_client.hpp"

#include <exception>

#include "support/raw_client.hpp"

namespace ignite::test {

using nlohmann::json;

std::string answer::error_field(const char* key) const {
  if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) return "<no error object>";
  const auto& e = body["error"];
  return e.contains(key) && e[key].is_string() ? e[key].get<std::string>() : "<none>";
}

std::string answer::describe() const {
  if (!arrived) return "no answer: " + failure;
  return std::to_string(status) + "\n" + headers.to_string() + text;
}

answer admin_exchange(std::uint16_t port, std::string_view raw, std::chrono::milliseconds cap,
                      const std::string& address) {
  answer a;
  try {
    raw_client client(address, port, cap);
    if (auto ec = client.send(raw)) {
      a.failure = "send: " + ec.message();
      return a;
    }
    auto r = client.read_response();
    if (!r) {
      a.failure = "read: " + client.last_error().message();
      return a;
    }
    a.arrived = true;
    a.status = r->status;
    a.text = r->body;
    a.headers = r->headers;
    a.body = json::parse(a.text, nullptr, /*allow_exceptions=*/false);
  } catch (const std::exception& e) {
    a.failure = e.what();
  }
  return a;
}

std::string admin_request(std::string_view method, std::string_view path, std::string_view token,
                          std::optional<std::string_view> body, std::string_view extra) {
  std::string r = std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!token.empty()) r += "Authorization: Bearer " + std::string(token) + "\r\n";
  if (body) r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body->size()) + "\r\n";
  r += extra;
  r += "\r\n";
  if (body) r += *body;
  return r;
}

::testing::AssertionResult is_error(const answer& a, unsigned status, std::string_view code,
                                    std::string_view in_message) {
  if (!a.arrived) return ::testing::AssertionFailure() << "no answer: " << a.failure;
  if (a.status != status || a.code() != code)
    return ::testing::AssertionFailure() << "expected " << status << " " << code << ", got " << a.describe();
  if (!a.header("Content-Type").starts_with("application/json"))
    return ::testing::AssertionFailure() << "not JSON: " << a.describe();
  if (a.message().empty() || a.message() == "<none>")
    return ::testing::AssertionFailure() << "no message: " << a.describe();
  if (!in_message.empty() && a.message().find(in_message) == std::string::npos)
    return ::testing::AssertionFailure() << "the message does not contain \"" << in_message << "\": " << a.describe();
  return ::testing::AssertionSuccess();
}

}  // namespace ignite::test
