#include "proxy/route_snapshot.hpp"

#include "routing/image_ref.hpp"

namespace ignite::proxy {

namespace {
// Without a registry, any thread may count: the most workers a config allows, and one.
constexpr std::size_t k_any_writer = 257;
}  // namespace

route_snapshot::route_snapshot(const routing::config& cfg, coldstart::pool_registry& pools, counter_registry* counters)
    : table_(cfg),
      limits_(cfg.limits),
      prewarm_on_sni_(cfg.tls.prewarm_on_sni),
      pools_(table_.version_count()),
      counters_(table_.version_count()) {
  for (const auto& app : table_.apps()) {
    const auto& v = *app->active;
    coldstart::pod_spec spec;
    spec.app_id = app->id;
    spec.version = v.version_text;
    spec.command = v.spec->command;
    spec.image_ref = v.spec->image_ref;
    spec.image_digest = v.spec->image_digest;
    spec.registry_secret_ref = v.spec->registry_secret_ref;
    spec.network = v.spec->network;
    if (!spec.image_ref.empty()) {
      std::string why;
      if (auto ref = routing::parse_image_ref(spec.image_ref, why)) {
        if (!spec.image_digest.empty()) ref->digest = spec.image_digest;
        spec.image = ref->digest.empty() ? ref->to_string() : ref->pinned();
        spec.registry = ref->registry;
      }
    }
    coldstart::pool_settings settings;
    const auto& s = app->spec.scaling;
    settings.reserved_capacity = s.reserved_capacity;
    settings.max_replicas = s.max_replicas;
    settings.container_concurrency = s.container_concurrency;
    settings.idle_timeout = s.idle_timeout;
    settings.max_held_requests = limits_.max_held_requests;
    settings.cold_start_timeout = limits_.cold_start_timeout;
    pools_[v.slot] = pools.use(spec, v.spec->endpoints, settings);
    counters_[v.slot] = counters ? counters->use(app->id, v.version_text)
                                 : std::make_shared<version_counters>(app->id, v.version_text, k_any_writer);
  }
}

}  // namespace ignite::proxy
