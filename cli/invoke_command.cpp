// invoke: POST the payload to the app through the proxy and print the app's answer.

#include <cerrno>
#include <fstream>
#include <iterator>
#include <ostream>
#include <system_error>

#include "cli/commands.hpp"

namespace ignite::cli {

namespace {

std::string read_all(std::istream& in) { return std::string(std::istreambuf_iterator<char>(in), {}); }

std::string payload_of(session& s, const invoke_args& args) {
  if (args.payload) return *args.payload;
  if (args.file && *args.file != "-") {
    std::ifstream file(*args.file, std::ios::binary);
    if (!file)
      throw api_failure("cannot read the payload file " + *args.file + ": " + std::generic_category().message(errno));
    return read_all(file);
  }
  if (!args.file && s.env().stdin_is_terminal)
    s.err() << "ignite: reading the payload from stdin (end it with Ctrl-D; or use -p JSON or -f FILE)\n";
  return read_all(s.in());
}

bool success(unsigned status) { return status >= 200 && status < 300; }

// The platform's errors (the control API's and the proxy's) have this shape; an app's
// own error answer is relayed as the app wrote it.
bool is_error_shape(const nlohmann::json& body) {
  return body.is_object() && body.contains("error") && body["error"].is_object() && body["error"].contains("code");
}

}  // namespace

int invoke(session& s, const invoke_args& args) {
  api_request request;
  request.method = http_method::post;
  request.target = app_path(args.id, "/invoke");
  request.has_body = true;
  request.body = payload_of(s, args);
  request.timeout = k_long_timeout;
  const auto response = s.send(request);

  const auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (!success(response.status) && (response.proxy_error || is_error_shape(json))) throw error_answer(response);

  // The app's answer: pretty JSON for people, the bytes as they came under -o json (or
  // when it is not JSON).
  if (!s.json_output() && !json.is_discarded())
    s.print_raw(json.dump(2));
  else
    s.print_raw(response.body);
  if (success(response.status)) return k_exit_ok;
  s.err() << "ignite: the app answered HTTP " << response.status
          << (response.execution_id.empty() ? "" : " (execution_id " + response.execution_id + ")") << '\n';
  return k_exit_failed;
}

}  // namespace ignite::cli
