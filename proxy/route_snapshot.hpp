#pragma once
// Everything a request needs from the configuration, frozen: the route table, the
// limits, and the pool of each active version. Built off the request path (start-up,
// SIGHUP), shared read-only by all workers, swapped whole.

#include <memory>
#include <vector>

#include "coldstart/pool_registry.hpp"
#include "coldstart/version_pool.hpp"
#include "proxy/counter_registry.hpp"
#include "proxy/version_counters.hpp"
#include "routing/config.hpp"
#include "routing/route_table.hpp"

namespace ignite::proxy {

class route_snapshot {
 public:
  // Takes a pool for every active version from `pools`, and its counters from
  // `counters` (between their begin() and commit(), which the caller makes). Without
  // `counters` the snapshot counts into blocks of its own, for one writer.
  route_snapshot(const routing::config& cfg, coldstart::pool_registry& pools, counter_registry* counters = nullptr);

  const routing::route_table& table() const noexcept { return table_; }
  const routing::limits& limits() const noexcept { return limits_; }
  // Start an app's pod when a TLS ClientHello names it (tls.prewarm_on_sni).
  bool prewarm_on_sni() const noexcept { return prewarm_on_sni_; }
  // The pool of an active version (null for versions that are not active).
  const std::shared_ptr<coldstart::version_pool>& pool(const routing::version_route& v) const noexcept {
    return pools_[v.slot];
  }
  // The counters of an active version (null for versions that are not active).
  version_counters* counters(const routing::version_route& v) const noexcept { return counters_[v.slot].get(); }

 private:
  routing::route_table table_;
  routing::limits limits_;
  bool prewarm_on_sni_;
  std::vector<std::shared_ptr<coldstart::version_pool>> pools_;  // by version_route::slot
  std::vector<std::shared_ptr<version_counters>> counters_;      // by version_route::slot
};

}  // namespace ignite::proxy
