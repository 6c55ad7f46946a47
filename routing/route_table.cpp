#include "routing/route_table.hpp"

namespace ignite::routing {

route_table::route_table(const config& cfg) : domain_(cfg.domain) {
  for (const auto& spec : cfg.apps) {
    auto app = std::make_unique<app_route>();
    app->spec = spec;
    app->id = spec.id();
    app->versions.reserve(app->spec.versions.size());
    for (const auto& v : app->spec.versions) {
      app->versions.push_back({&app->spec, &v, std::to_string(v.version), version_count_++});
      if (v.version == spec.active_version) app->active = &app->versions.back();
    }
    by_label_.emplace(spec.label(), app.get());
    apps_.push_back(std::move(app));
  }
}

const app_route* route_table::find(std::string_view label) const {
  auto it = by_label_.find(label);
  return it == by_label_.end() ? nullptr : it->second;
}

}  // namespace ignite::routing
