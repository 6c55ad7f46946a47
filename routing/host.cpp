#include "routing/host.hpp"

#include "common/strings.hpp"

namespace ignite::routing {

namespace {

using common::iequals;
using common::lower;

bool starts_with_scheme(std::string_view target, std::string_view scheme) noexcept {
  return target.size() > scheme.size() && common::istarts_with(target, scheme);
}

}  // namespace

std::optional<host_label> label_of_host(std::string_view host, std::string_view domain) {
  if (host.empty() || host.front() == '[') return std::nullopt;  // IP literals name no app
  if (auto colon = host.find(':'); colon != std::string_view::npos) {
    auto port = host.substr(colon + 1);
    if (port.empty() || port.size() > 5) return std::nullopt;
    for (char c : port)
      if (c < '0' || c > '9') return std::nullopt;
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  // host = label "." domain
  if (host.size() < domain.size() + 2) return std::nullopt;
  auto label_size = host.size() - domain.size() - 1;
  if (host[label_size] != '.' || !iequals(host.substr(label_size + 1), domain)) return std::nullopt;
  if (label_size > host_label::max_size) return std::nullopt;
  host_label out;
  for (std::size_t i = 0; i < label_size; ++i) {
    char c = lower(host[i]);
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return std::nullopt;
    out.data_[i] = c;
  }
  out.size_ = static_cast<std::uint8_t>(label_size);
  return out;
}

std::optional<request_target> parse_target(std::string_view target) {
  request_target out;
  if (!target.empty() && target.front() != '/') {
    std::size_t skip = 0;
    if (starts_with_scheme(target, "http://"))
      skip = 7;
    else if (starts_with_scheme(target, "https://"))
      skip = 8;
    else
      return std::nullopt;
    target.remove_prefix(skip);
    auto end = target.find_first_of("/?");
    out.authority = target.substr(0, end);
    if (out.authority.empty() || out.authority.find('@') != std::string_view::npos) return std::nullopt;
    out.absolute = true;
    target = end == std::string_view::npos ? std::string_view{} : target.substr(end);
    if (target.empty())
      target = "/";  // "http://host" asks for "/"
    else if (target.front() == '?') {
      out.path = "/";
      out.query = target.substr(1);
      return out;
    }
  }
  if (target.empty()) return std::nullopt;
  auto q = target.find('?');
  out.path = target.substr(0, q);
  if (q != std::string_view::npos) out.query = target.substr(q + 1);
  return out;
}

}  // namespace ignite::routing
