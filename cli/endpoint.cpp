#include "cli/endpoint.hpp"

#include "common/host_port.hpp"
#include "common/strings.hpp"

namespace ignite::cli {

std::string endpoint::authority() const { return common::host_port{host, port}.to_string(); }

std::string endpoint::url() const { return "http://" + authority(); }

std::optional<endpoint> parse_endpoint(std::string_view text, std::string& why) {
  if (common::istarts_with(text, "https://")) {
    why = "https endpoints are not supported yet (use http://host:port)";
    return std::nullopt;
  }
  const bool has_scheme = common::istarts_with(text, "http://");
  if (has_scheme) {
    text.remove_prefix(7);
  } else if (text.find("://") != std::string_view::npos) {
    why = "only http:// endpoints are supported";
    return std::nullopt;
  }
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    if (slash + 1 != text.size()) {
      why = "an endpoint has no path: write http://host:port";
      return std::nullopt;
    }
    text.remove_suffix(1);
  }
  if (text.empty()) {
    why = "the host is missing";
    return std::nullopt;
  }
  // "http://host" may leave the port out; a bare "host" may not (it is too easily a typo).
  std::string with_port(text);
  const bool bracketed = text.front() == '[';
  const auto colon = text.rfind(':');
  const bool has_port = colon != std::string_view::npos && (!bracketed || colon > text.find(']'));
  if (!has_port) {
    if (!has_scheme) {
      why = "expected http://host:port or host:port";
      return std::nullopt;
    }
    with_port += ":80";
  }
  auto hp = common::parse_host_port(with_port, false, why);
  if (!hp) return std::nullopt;
  return endpoint{std::move(hp->host), hp->port};
}

}  // namespace ignite::cli
