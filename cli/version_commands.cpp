// version list | rollback

#include <ostream>

#include "cli/commands.hpp"
#include "cli/source_text.hpp"
#include "cli/table.hpp"

namespace ignite::cli {

int version_list(session& s, const std::string& id) {
  const auto answer = s.call(http_method::get, app_path(id, "/versions"));
  s.print(answer, [&](std::ostream& out) {
    table t({"VERSION", "ACTIVE", "SOURCE", "CREATED"});
    if (const auto& versions = value_at(answer.json, "versions"); versions.is_array()) {
      for (const auto& v : versions) {
        const bool active = value_at(v, "active").is_boolean() && value_at(v, "active").get<bool>();
        t.add_row({cell_text(value_at(v, "version")), active ? "*" : "", source_text(value_at(v, "source")),
                   string_at(v, "created_at")});
      }
    }
    if (t.empty())
      out << "no versions yet: ignite draft publish " << id << '\n';
    else
      t.print(out);
  });
  return k_exit_ok;
}

int version_rollback(session& s, const std::string& id, std::int64_t version) {
  const auto answer =
      s.call(http_method::post, app_path(id, "/versions/" + std::to_string(version) + "/rollback"), nullptr);
  s.print(answer, [&](std::ostream& out) {
    const auto& active = value_at(answer.json, "active_version");
    out << id << " now serves version " << (active.is_null() ? std::to_string(version) : cell_text(active)) << '\n';
  });
  return k_exit_ok;
}

}  // namespace ignite::cli
