#pragma once
// One run of the CLI: its streams and environment, the output format, and the control
// API as commands use it. Commands take a session and stay free of HTTP details.

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/api_client.hpp"
#include "cli/environment.hpp"
#include "cli/failure.hpp"
#include "cli/settings.hpp"

namespace ignite::cli {

enum class output_format { text, json };

// A successful control API answer: the body as the server sent it (what `-o json`
// prints) and parsed.
struct api_answer {
  std::string raw;
  nlohmann::json json;
};

// Timeouts for a whole exchange. Publishing checks that the image can be pulled, and an
// invocation may wait for a cold start and then for the app (request_timeout_ms is
// 300 s by default), so those two get much longer than plain control calls.
inline constexpr std::chrono::seconds k_control_timeout{60};
inline constexpr std::chrono::seconds k_long_timeout{600};

class session {
 public:
  session(std::istream& in, std::ostream& out, std::ostream& err, const environment& env)
      : in_(in), out_(out), err_(err), env_(env) {}

  std::istream& in() const { return in_; }
  std::ostream& out() const { return out_; }
  std::ostream& err() const { return err_; }
  const environment& env() const { return env_; }

  output_format format = output_format::text;
  bool json_output() const { return format == output_format::json; }

  // A control API call expecting a 2xx JSON answer. Throws failure (exit 1) with the
  // server's "code: message" on an error answer, or if the answer is not JSON; see also
  // api_client::send. `body` is sent as JSON when given.
  api_answer call(http_method method, const std::string& target, const nlohmann::json* body = nullptr,
                  std::chrono::seconds timeout = k_control_timeout);
  api_answer call(http_method method, const std::string& target, const nlohmann::json& body,
                  std::chrono::seconds timeout = k_control_timeout) {
    return call(method, target, &body, timeout);
  }
  // The bare exchange, whatever the status (invoke relays the app's answer).
  api_response send(const api_request& request);

  // Under -o json writes the answer as the server sent it; otherwise calls `human` with
  // the output stream. Either way the text goes through scrub().
  void print(const api_answer& answer, const std::function<void(std::ostream&)>& human) const;
  // Writes `text` to stdout (scrubbed), ending it with a newline if it has none;
  // nothing if it is empty.
  void print_raw(std::string_view text) const;
  // "ignite: warning: <text>" on stderr (scrubbed).
  void warn(std::string_view text) const;

  // `text` (a password) must never be printed: scrub() replaces it with "****" in
  // everything this session prints, failures included.
  void keep_secret(std::string text);
  std::string scrub(std::string text) const;

  // The token and endpoint in effect, read once (environment, then the config file).
  const settings& current_settings();

 private:
  const api_client& client();

  std::istream& in_;
  std::ostream& out_;
  std::ostream& err_;
  const environment& env_;
  std::optional<settings> settings_;
  std::optional<api_client> client_;
  std::vector<std::string> secrets_;
};

// The failure an error answer means: "<code>: <message>" from the API's
// {"error":{"code","message"}} (with the execution id when the proxy gives one), or
// "HTTP <status> <reason>" and the start of the body for anything else.
failure error_answer(const api_response& response);

}  // namespace ignite::cli
