#pragma once
// The admin listener as a test sees it: one request, one parsed answer, capped.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/header_list.hpp"

namespace ignite::test {

// One answer of the admin listener.
struct answer {
  bool arrived = false;
  std::string failure;  // why nothing arrived
  unsigned status = 0;
  std::string text;     // the body as received
  nlohmann::json body;  // parsed; discarded when it is not JSON
  header_list headers;

  std::string error_field(const char* key) const;
  std::string code() const { return error_field("code"); }
  std::string message() const { return error_field("message"); }
  std::string header(std::string_view name) const { return headers.get(name).value_or("<none>"); }
  std::string describe() const;
};

// Sends `raw` on a new connection to 127.0.0.1:`port` and reads one answer.
answer admin_exchange(std::uint16_t port, std::string_view raw, std::chrono::milliseconds cap = std::chrono::seconds(5),
                      const std::string& address = "127.0.0.1");

// One admin request: `token` empty sends no Authorization; `extra` is "Name: value\r\n" lines.
std::string admin_request(std::string_view method, std::string_view path, std::string_view token,
                          std::optional<std::string_view> body, std::string_view extra = "");

// An API error as the contract has it: `status`, JSON {"error":{"code","message"}} with
// `code`, and a message that contains `in_message` (the field it names).
::testing::AssertionResult is_error(const answer& a, unsigned status, std::string_view code,
                                    std::string_view in_message = {});

}  // namespace ignite::test
