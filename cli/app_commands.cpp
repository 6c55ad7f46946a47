// app create | get | list | delete

#include <ostream>

#include "cli/commands.hpp"
#include "cli/path_segment.hpp"
#include "cli/source_text.hpp"
#include "cli/table.hpp"

namespace ignite::cli {

namespace {

std::string scaling_text(const nlohmann::json& scaling) {
  std::string text;
  for (const char* key : {"reserved_capacity", "max_replicas", "container_concurrency", "idle_timeout_ms"}) {
    const auto& value = value_at(scaling, key);
    if (value.is_null()) continue;
    if (!text.empty()) text += ' ';
    text += std::string(key) + "=" + cell_text(value);
  }
  return text.empty() ? "-" : text;
}

std::string first_url(const nlohmann::json& app) {
  const auto& urls = value_at(app, "public_urls");
  return urls.is_array() && !urls.empty() ? cell_text(urls.front()) : "-";
}

std::string urls_text(const nlohmann::json& urls) {
  if (!urls.is_array() || urls.empty()) return "- (none until the first publish)";
  std::string text;
  for (const auto& url : urls) text += (text.empty() ? "" : ", ") + cell_text(url);
  return text;
}

}  // namespace

void check_app_id(const std::string& id) {
  const auto colon = id.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == id.size() ||
      id.find(':', colon + 1) != std::string::npos)
    throw usage_error("\"" + id + "\" is not an app id: write ORG:NAME, like acme-corp:greeter");
}

std::string app_path(const std::string& id, const std::string& rest) {
  check_app_id(id);
  return "/v1/apps/" + encode_path_segment(id) + rest;
}

int app_create(session& s, const app_create_args& args) {
  // The seed: "No --runtime — image-mode apps are defined by their source".
  if (!args.build_flags.empty()) throw usage_error(prebuilt_only_refusal(args.build_flags.front()));
  nlohmann::json body = {{"name", args.name}, {"description", args.description}};
  if (args.org) body["org"] = *args.org;
  const auto answer = s.call(http_method::post, "/v1/apps", body);
  s.print(answer, [&](std::ostream& out) {
    const auto id = string_at(answer.json, "id");
    out << "created app " << id << "\n"
        << "next: ignite draft save " << id << " --image-ref <image>\n";
  });
  return k_exit_ok;
}

int app_get(session& s, const std::string& id) {
  const auto answer = s.call(http_method::get, app_path(id));
  s.print(answer, [&](std::ostream& out) {
    const auto& app = answer.json;
    out << "id:              " << string_at(app, "id") << '\n';
    if (auto d = string_at(app, "description"); !d.empty()) out << "description:     " << d << '\n';
    out << "active version:  " << cell_text(value_at(app, "active_version")) << '\n'
        << "versions:        " << cell_text(value_at(app, "versions")) << '\n'
        << "draft:           " << source_text(value_at(app, "draft")) << '\n'
        << "public urls:     " << urls_text(value_at(app, "public_urls")) << '\n'
        << "scaling:         " << scaling_text(value_at(app, "scaling")) << '\n';
    if (string_at(app, "managed_by") == "config") out << "managed by:      the proxy's config file (read-only here)\n";
  });
  return k_exit_ok;
}

int app_list(session& s) {
  const auto answer = s.call(http_method::get, "/v1/apps");
  s.print(answer, [&](std::ostream& out) {
    table t({"ID", "ACTIVE", "VERSIONS", "URL"});
    if (auto apps = answer.json.find("apps"); apps != answer.json.end() && apps->is_array()) {
      for (const auto& app : *apps)
        t.add_row({string_at(app, "id"), cell_text(value_at(app, "active_version")),
                   cell_text(value_at(app, "versions")), first_url(app)});
    }
    if (t.empty())
      out << "no apps yet: ignite app create NAME\n";
    else
      t.print(out);
  });
  return k_exit_ok;
}

int app_delete(session& s, const std::string& id) {
  const auto answer = s.call(http_method::del, app_path(id));
  s.print(answer, [&](std::ostream& out) {
    const auto deleted = string_at(answer.json, "deleted");
    out << "deleted app " << (deleted.empty() ? id : deleted) << '\n';
  });
  return k_exit_ok;
}

}  // namespace ignite::cli
