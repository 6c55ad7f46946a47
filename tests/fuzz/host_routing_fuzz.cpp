// libFuzzer target: host resolution, as route() does it. The input is a request target
// and a Host value ("target\nhost"); the absolute-form target's authority wins. The
// label is checked against a plain reference implementation of DESIGN.md's host rules
// (written for clarity, with allocations), and looked up in a route table built from a
// config whose labels are made to look alike: the lookup may only ever answer the app
// whose label the host names, exactly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "routing/config.hpp"
#include "routing/host.hpp"
#include "routing/route_table.hpp"

namespace {

using namespace ignite;

void check(bool ok) {
  if (!ok) std::abort();
}

// DESIGN.md, "Hosts": `<label>.<domain>`, case-insensitive, a port and one trailing dot
// ignored; the label is lowercase letters, digits and '-', at most 63 of them.
std::optional<std::string> reference_label(std::string_view host, const std::string& domain) {
  if (host.empty() || host.front() == '[') return std::nullopt;
  std::string h(host);
  if (auto colon = h.find(':'); colon != std::string::npos) {
    std::string port = h.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    h.resize(colon);
  }
  if (!h.empty() && h.back() == '.') h.pop_back();
  for (auto& c : h) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  const std::string suffix = "." + domain;
  if (h.size() <= suffix.size() || h.compare(h.size() - suffix.size(), suffix.size(), suffix) != 0) return std::nullopt;
  std::string label = h.substr(0, h.size() - suffix.size());
  if (label.size() > 63) return std::nullopt;
  if (label.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) return std::nullopt;
  return label;
}

const routing::route_table& table() {
  static const routing::route_table t = [] {
    auto app = [](const char* org, const char* name) {
      return nlohmann::json{{"org", org},
                            {"name", name},
                            {"versions", nlohmann::json::array({{{"version", 1}, {"endpoints", {"127.0.0.1:9"}}}})}};
    };
    // "a-b-c" is a + b-c; "b-c" and "c" are prefixes and suffixes of it; the last label
    // is 63 bytes, the longest there is.
    nlohmann::json cfg = {
        {"domain", "ignite.dodil.cloud"},
        {"apps", nlohmann::json::array({app("acme-corp", "greeter"), app("b-c", "a"), app("c", "b"), app("x", "y0"),
                                        app(std::string(31, 'o').c_str(), std::string(31, 'n').c_str())})}};
    return routing::route_table(routing::parse_config(cfg));
  }();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nl = in.find('\n');
  const auto raw_target = in.substr(0, nl);
  std::string_view host = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);

  if (auto target = routing::parse_target(raw_target)) {
    // The parts are views into the target, in order, and the path is absolute.
    check(!target->path.empty() && target->path.front() == '/');
    if (target->absolute) {
      check(!target->authority.empty() && target->authority.find_first_of("/?@") == std::string_view::npos);
      host = target->authority;
    } else {
      check(raw_target.front() == '/' && target->authority.empty());
    }
    if (!target->query.empty()) check(target->query.data() > raw_target.data());
  }

  const auto& routes = table();
  const auto label = routing::label_of_host(host, routes.domain());
  const auto expected = reference_label(host, routes.domain());
  check(label.has_value() == expected.has_value());
  if (!label) return 0;
  check(label->view() == *expected);
  if (const auto* app = routes.find(label->view())) {
    check(app->spec.label() == label->view());
    check(app->active && app->active->spec->version == app->spec.active_version);
  }
  return 0;
}
