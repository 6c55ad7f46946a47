#include "routing/image_ref.hpp"

#include <algorithm>

namespace ignite::routing {

namespace {

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// A registry host[:port]: a name with a dot or a port, or "localhost" (distribution's rule
// for telling a registry from a first path component).
bool valid_registry(std::string_view r) {
  if (r.empty() || r.size() > 255) return false;
  auto colon = r.rfind(':');
  auto host = r.substr(0, colon);
  if (colon != std::string_view::npos) {
    auto port = r.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
  }
  if (host.empty()) return false;
  for (char c : host)
    if (!(lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '-')) return false;
  return host.find('.') != std::string_view::npos || colon != std::string_view::npos || host == "localhost";
}

// path-component ("/" path-component)*, each [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*.
bool valid_repository(std::string_view repo) {
  if (repo.empty() || repo.size() > 255) return false;
  std::size_t start = 0;
  while (start <= repo.size()) {
    auto slash = repo.find('/', start);
    auto part = repo.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || !lower_alnum(part.front()) || !lower_alnum(part.back())) return false;
    for (std::size_t i = 0; i < part.size(); ++i) {
      char c = part[i];
      if (lower_alnum(c)) continue;
      if (c != '.' && c != '_' && c != '-') return false;
      if (c == '.' && !lower_alnum(part[i + 1])) return false;  // no "..", "._"
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

bool valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128) return false;
  auto word = [](char c) { return lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!word(tag.front())) return false;
  return std::all_of(tag.begin(), tag.end(), [&](char c) { return word(c) || c == '.' || c == '-'; });
}

bool valid_digest(std::string_view d) {
  if (!d.starts_with("sha256:") || d.size() != 7 + 64) return false;
  return std::all_of(d.begin() + 7, d.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

std::string image_ref::to_string() const {
  std::string out = registry + "/" + repository;
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string image_ref::pinned() const { return registry + "/" + repository + "@" + digest; }

std::optional<image_ref> parse_image_ref(std::string_view text, std::string& why) {
  image_ref out;
  if (text.empty() || text.size() > 512) {
    why = "must be an image reference like ghcr.io/acme-corp/greeter:1.0.0";
    return std::nullopt;
  }
  if (auto at = text.find('@'); at != std::string_view::npos) {
    out.digest = std::string(text.substr(at + 1));
    text = text.substr(0, at);
    if (!valid_digest(out.digest)) {
      why = "the digest must be sha256: and 64 lowercase hex digits";
      return std::nullopt;
    }
  }
  auto slash = text.find('/');
  if (slash == std::string_view::npos || !valid_registry(text.substr(0, slash))) {
    why = "must name its registry, like ghcr.io/acme-corp/greeter:1.0.0 (a fully-qualified reference)";
    return std::nullopt;
  }
  out.registry = std::string(text.substr(0, slash));
  auto rest = text.substr(slash + 1);
  // A ':' after the last '/' starts the tag.
  auto last_slash = rest.rfind('/');
  auto colon = rest.find(':', last_slash == std::string_view::npos ? 0 : last_slash);
  if (colon != std::string_view::npos) {
    out.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!valid_tag(out.tag)) {
      why = "the tag may hold letters, digits, '_', '.' and '-' (at most 128, not starting with '.' or '-')";
      return std::nullopt;
    }
  }
  if (!valid_repository(rest)) {
    why = "the repository must be lowercase letters, digits and separators (. _ -), in / separated parts";
    return std::nullopt;
  }
  out.repository = std::string(rest);
  if (out.tag.empty() && out.digest.empty()) {
    why = "needs a tag or a digest (:1.0.0 or @sha256:…): a version must say which image it runs";
    return std::nullopt;
  }
  return out;
}

}  // namespace ignite::routing
