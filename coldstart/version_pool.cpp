#include "coldstart/version_pool.hpp"

#include <limits>

namespace ignite::coldstart {

version_pool::version_pool(const std::vector<std::string>& addresses) {
  for (const auto& address : addresses) {
    auto colon = address.rfind(':');
    auto port = static_cast<std::uint16_t>(std::stoul(address.substr(colon + 1)));
    endpoints_.push_back(std::make_unique<endpoint>(address.substr(0, colon), port));
  }
}

std::size_t version_pool::pick(std::int64_t now_ms, std::size_t hint) const noexcept {
  std::size_t best = npos;
  int best_load = std::numeric_limits<int>::max();
  const auto n = endpoints_.size();
  for (std::size_t i = 0; i < n; ++i) {
    auto index = (hint + i) % n;
    const auto& e = *endpoints_[index];
    if (e.is_down(now_ms)) continue;
    if (int load = e.in_flight(); load < best_load) {
      best = index;
      best_load = load;
    }
  }
  return best;
}

}  // namespace ignite::coldstart
