#pragma once
// Everything a request needs from the configuration, frozen: the route table, the
// limits, and for each version its pool and resolved pod addresses. Built off the
// request path (start-up, SIGHUP), shared read-only by all workers, swapped whole.

#include <memory>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "coldstart/pool_registry.hpp"
#include "coldstart/version_pool.hpp"
#include "routing/config.hpp"
#include "routing/route_table.hpp"

namespace ignite::proxy {

struct version_target {
  std::shared_ptr<coldstart::version_pool> pool;
  std::vector<boost::asio::ip::tcp::endpoint> addresses;  // parallel to pool->endpoints()
};

class route_snapshot {
 public:
  // Resolves endpoint host names (blocking; never on a worker). Throws
  // routing::config_error naming the endpoint if one does not resolve.
  route_snapshot(const routing::config& cfg, coldstart::pool_registry& pools);

  const routing::route_table& table() const noexcept { return table_; }
  const routing::limits& limits() const noexcept { return limits_; }
  const version_target& target(const routing::version_route& v) const noexcept { return targets_[v.slot]; }

 private:
  routing::route_table table_;
  routing::limits limits_;
  std::vector<version_target> targets_;  // by version_route::slot
};

}  // namespace ignite::proxy
