#include "proxy_fixture.hpp"

#include <iostream>
#include <regex>
#include <stdexcept>

namespace ignite::test {

using nlohmann::json;

void proxy_fixture::TearDown() {
  // The proxy's log is the first thing to read when an integration test fails.
  if (HasFailure() && proxy_) std::cerr << "---- proxy output ----\n" << proxy_->output() << "----------------------\n";
}

json proxy_fixture::app(std::string_view org, std::string_view name, std::vector<std::string> endpoints) {
  return {{"org", org},
          {"name", name},
          {"active_version", 1},
          {"versions", json::array({{{"version", 1}, {"endpoints", endpoints}}})}};
}

json proxy_fixture::config(json apps, json limits) {
  return {{"domain", k_domain},
          {"listen", {{"http", "127.0.0.1:0"}}},
          {"threads", 1},
          {"limits", std::move(limits)},
          {"apps", std::move(apps)}};
}

json proxy_fixture::greeter_config(json limits) const {
  return config(json::array({app("acme-corp", "greeter", {pod_.endpoint()})}), std::move(limits));
}

void proxy_fixture::start_proxy(const json& cfg) {
  proxy_ = std::make_unique<proxy_process>(IGNITE_PROXY_BIN, cfg);
  if (!proxy_->wait_listening(k_cap))
    throw std::runtime_error("the proxy did not log its http listening line; output:\n" + proxy_->output());
}

std::unique_ptr<raw_client> proxy_fixture::connect() const { return std::make_unique<raw_client>(port()); }

std::optional<raw_response> proxy_fixture::round_trip(std::string_view raw) const {
  auto client = connect();
  if (client->send(raw)) return std::nullopt;
  return client->read_response();
}

std::string post(std::string_view host, std::string_view body, std::string_view extra, std::string_view target) {
  std::string r = "POST " + std::string(target) + " HTTP/1.1\r\n";
  r += "Host: " + std::string(host) + "\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += extra;
  r += "\r\n";
  r += body;
  return r;
}

void expect_proxy_error(const std::optional<raw_response>& r, unsigned status, std::string_view code) {
  ASSERT_TRUE(r.has_value()) << "no response";
  EXPECT_EQ(r->status, status) << r->headers.to_string() << r->body;
  EXPECT_EQ(r->headers.get("x-ignite-error").value_or("<none>"), "proxy");
  EXPECT_TRUE(r->headers.get("Content-Type").value_or("").starts_with("application/json")) << r->headers.to_string();
  const auto id = r->headers.get("x-ignite-execution-id");
  ASSERT_TRUE(id.has_value()) << r->headers.to_string();
  EXPECT_FALSE(id->empty());

  const auto body = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << r->body;
  ASSERT_TRUE(body.contains("error") && body["error"].is_object()) << r->body;
  const auto& e = body["error"];
  EXPECT_EQ(e.value("code", ""), code) << r->body;
  EXPECT_TRUE(e.contains("message") && e["message"].is_string() && !e["message"].get<std::string>().empty()) << r->body;
  EXPECT_EQ(e.value("execution_id", ""), *id) << r->body;
}

std::int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool is_ulid(std::string_view s) {
  static const std::regex ulid("^[0-7][0-9A-HJKMNP-TV-Z]{25}$");
  return std::regex_match(s.begin(), s.end(), ulid);
}

}  // namespace ignite::test
