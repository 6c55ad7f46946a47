#include "coldstart/pool_registry.hpp"

#include <algorithm>

namespace ignite::coldstart {

pool_registry::pool_registry(providers p, const clock& clock, version_pool::observer observe)
    : providers_(p), clock_(clock), observe_(std::move(observe)) {}

std::string pool_registry::key_of(const pod_spec& spec, const std::vector<common::host_port>& endpoints) {
  std::string key = spec.app_id + "@" + spec.version;
  for (const auto& e : endpoints) key += "|e:" + e.to_string();
  for (const auto& a : spec.command) key += "|c:" + a;
  if (!spec.image_ref.empty())
    key += "|i:" + spec.image_ref + "|d:" + spec.image_digest + "|s:" + spec.registry_secret_ref + "|n:" + spec.network;
  return key;
}

void pool_registry::begin() {
  std::lock_guard lock(mutex_);
  next_.clear();
  fresh_.clear();
}

std::shared_ptr<version_pool> pool_registry::use(const pod_spec& spec, const std::vector<common::host_port>& endpoints,
                                                 const pool_settings& settings) {
  std::lock_guard lock(mutex_);
  auto key = key_of(spec, endpoints);
  if (auto it = active_.find(key); it != active_.end()) {
    it->second->update_settings(settings);
    return next_[key] = it->second;
  }
  pod_provider* provider = !endpoints.empty()      ? providers_.endpoints
                           : !spec.command.empty() ? providers_.command
                                                   : providers_.image;
  auto pool = std::make_shared<version_pool>(settings, spec, endpoints, provider, clock_, observe_);
  fresh_.push_back(pool);
  return next_[key] = pool;
}

void pool_registry::commit() {
  std::vector<std::shared_ptr<version_pool>> to_retire, to_activate;
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, pool] : active_)
      if (!next_.contains(key)) to_retire.push_back(pool);
    active_.swap(next_);
    next_.clear();
    to_activate.swap(fresh_);
    retired_.insert(retired_.end(), to_retire.begin(), to_retire.end());
  }
  for (auto& p : to_retire) p->retire();
  for (auto& p : to_activate) p->activate();
}

void pool_registry::tick() {
  std::vector<std::shared_ptr<version_pool>> all;
  {
    std::lock_guard lock(mutex_);
    std::erase_if(retired_, [](const auto& p) { return p->finished(); });
    for (auto& [key, pool] : active_) all.push_back(pool);
    all.insert(all.end(), retired_.begin(), retired_.end());
  }
  for (auto& p : all) p->tick();
}

void pool_registry::stop_all() {
  for (auto& p : pools()) p->stop_all();
}

bool pool_registry::all_stopped() const {
  auto all = pools();
  return std::all_of(all.begin(), all.end(), [](const auto& p) { return p->finished(); });
}

std::vector<std::shared_ptr<version_pool>> pool_registry::pools() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<version_pool>> all;
  for (auto& [key, pool] : active_) all.push_back(pool);
  all.insert(all.end(), retired_.begin(), retired_.end());
  return all;
}

}  // namespace ignite::coldstart
