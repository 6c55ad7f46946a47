#include "proxy/route_snapshot.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

namespace ignite::proxy {

namespace net = boost::asio;
using tcp = net::ip::tcp;

route_snapshot::route_snapshot(const routing::config& cfg, coldstart::pool_registry& pools)
    : table_(cfg), limits_(cfg.limits), targets_(table_.version_count()) {
  net::io_context resolver_ctx;
  tcp::resolver resolver(resolver_ctx);
  for (std::size_t a = 0; a < table_.apps().size(); ++a) {
    const auto& app = *table_.apps()[a];
    for (std::size_t i = 0; i < app.versions.size(); ++i) {
      const auto& v = app.versions[i];
      if (v.spec->endpoints.empty()) continue;  // command/image versions: started on demand
      auto& target = targets_[v.slot];
      target.pool = pools.get(app.id + "@" + v.version_text, v.spec->endpoints);
      for (std::size_t e = 0; e < target.pool->endpoints().size(); ++e) {
        const auto& ep = *target.pool->endpoints()[e];
        boost::system::error_code ec;
        auto ip = net::ip::make_address(ep.host(), ec);
        if (!ec) {
          target.addresses.emplace_back(ip, ep.port());
          continue;
        }
        auto results = resolver.resolve(ep.host(), std::to_string(ep.port()), ec);
        if (ec || results.empty())
          throw routing::config_error("apps[" + std::to_string(a) + "].versions[" + std::to_string(i) +
                                          "].endpoints[" + std::to_string(e) + "]",
                                      "cannot resolve " + ep.host() + ": " + ec.message());
        target.addresses.push_back(results.begin()->endpoint());
      }
    }
  }
}

}  // namespace ignite::proxy
