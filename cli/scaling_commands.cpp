// scaling set

#include <ostream>

#include "cli/commands.hpp"
#include "cli/source_text.hpp"

namespace ignite::cli {

int scaling_set(session& s, const scaling_set_args& args) {
  nlohmann::json body = nlohmann::json::object();
  // Only the keys given: the others keep their values on the server.
  if (args.reserved_capacity) body["reserved_capacity"] = *args.reserved_capacity;
  if (args.max_replicas) body["max_replicas"] = *args.max_replicas;
  if (args.container_concurrency) body["container_concurrency"] = *args.container_concurrency;
  if (args.idle_timeout_ms) body["idle_timeout_ms"] = *args.idle_timeout_ms;
  if (body.empty())
    throw usage_error(
        "scaling set needs at least one of --reserved-capacity, --max-replicas, --container-concurrency, "
        "--idle-timeout-ms");
  const auto answer = s.call(http_method::put, app_path(args.id, "/scaling"), body);
  s.print(answer, [&](std::ostream& out) {
    const auto& scaling = value_at(answer.json, "scaling");
    out << "scaling of " << args.id << ":";
    for (const char* key : {"reserved_capacity", "max_replicas", "container_concurrency", "idle_timeout_ms"})
      if (!value_at(scaling, key).is_null()) out << ' ' << key << '=' << cell_text(value_at(scaling, key));
    out << '\n';
  });
  return k_exit_ok;
}

}  // namespace ignite::cli
