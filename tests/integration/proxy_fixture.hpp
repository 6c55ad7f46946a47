#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/fake_pod.hpp"
#include "support/proxy_process.hpp"
#include "support/raw_client.hpp"
#include "support/raw_response.hpp"

namespace ignite::test {

inline constexpr std::string_view k_domain = "ignite.dodil.cloud";
inline constexpr std::string_view k_host = "greeter-acme-corp.ignite.dodil.cloud";
// Generous caps for waits that normally end in milliseconds; a test only runs this long
// when it is failing.
inline constexpr std::chrono::milliseconds k_cap{5000};

// Base for the integration tests: one fake pod for the app acme-corp/greeter (version 1),
// and the real proxy started on a config built from it.
class proxy_fixture : public ::testing::Test {
 protected:
  void TearDown() override;

  // {"org","name","active_version":1,"versions":[{"version":1,"endpoints":[...]}]}
  static nlohmann::json app(std::string_view org, std::string_view name, std::vector<std::string> endpoints);
  // A whole config: the test domain, http on 127.0.0.1:0, one worker thread, `limits`
  // (only the keys given; the rest default) and `apps`.
  static nlohmann::json config(nlohmann::json apps, nlohmann::json limits = nlohmann::json::object());
  // config() with the greeter app served by pod_.
  nlohmann::json greeter_config(nlohmann::json limits = nlohmann::json::object()) const;

  // Starts the proxy and waits for its listening line; throws (failing the test) if it
  // does not come up.
  void start_proxy(const nlohmann::json& config);
  void start_proxy() { start_proxy(greeter_config()); }
  std::uint16_t port() const { return proxy_->port(); }
  proxy_process& proxy() { return *proxy_; }

  std::unique_ptr<raw_client> connect() const;
  // New connection, `raw` written, one response read.
  std::optional<raw_response> round_trip(std::string_view raw) const;

  fake_pod pod_{"greeter-pod"};
  std::unique_ptr<proxy_process> proxy_;
};

// "POST <target> HTTP/1.1", Host, Content-Length, `extra` ("Name: value\r\n" lines), body.
std::string post(std::string_view host, std::string_view body = "", std::string_view extra = "",
                 std::string_view target = "/");

// Checks a proxy-made error: status, JSON body {"error":{"code","message","execution_id"}},
// Content-Type application/json, x-ignite-error: proxy, x-ignite-execution-id equal to
// the body's execution_id.
void expect_proxy_error(const std::optional<raw_response>& r, unsigned status, std::string_view code);

// Unix time in milliseconds.
std::int64_t unix_ms();

// A ULID: 26 characters of Crockford base32, first one 0-7.
bool is_ulid(std::string_view s);

}  // namespace ignite::test
