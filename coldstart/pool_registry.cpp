#include "coldstart/pool_registry.hpp"

namespace ignite::coldstart {

std::shared_ptr<version_pool> pool_registry::get(const std::string& key, const std::vector<std::string>& endpoints) {
  std::lock_guard lock(mutex_);
  auto& e = pools_[key];
  if (auto existing = e.pool.lock(); existing && e.endpoints == endpoints) return existing;
  auto pool = std::make_shared<version_pool>(endpoints);
  e = {endpoints, pool};
  return pool;
}

void pool_registry::prune() {
  std::lock_guard lock(mutex_);
  std::erase_if(pools_, [](const auto& item) { return item.second.pool.expired(); });
}

}  // namespace ignite::coldstart
