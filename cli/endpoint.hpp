#pragma once
// Where the control API listens, as `api_endpoint` names it: "http://host:port" or a
// bare "host:port" (as the seed writes `rpc.dev.dodil.io:443`). Only plain HTTP for now.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ignite::cli {

struct endpoint {
  std::string host;  // as written, IPv6 literals without brackets
  std::uint16_t port = 80;

  // "http://127.0.0.1:9090", for messages.
  std::string url() const;
  // "127.0.0.1:9090", "[::1]:9090": the Host header.
  std::string authority() const;
};

// Parses `text`; on failure returns nullopt and sets `why` ("https endpoints are not
// supported yet"). "http://host" without a port means port 80; a trailing "/" is allowed,
// any other path is refused (the API lives at the root).
std::optional<endpoint> parse_endpoint(std::string_view text, std::string& why);

}  // namespace ignite::cli
