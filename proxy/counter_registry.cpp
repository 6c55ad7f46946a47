#include "proxy/counter_registry.hpp"

namespace ignite::proxy {

void counter_registry::begin() {
  std::lock_guard lock(mutex_);
  next_.clear();
}

std::shared_ptr<version_counters> counter_registry::use(const std::string& app_id, const std::string& version) {
  std::lock_guard lock(mutex_);
  key k{app_id, version};
  if (auto it = next_.find(k); it != next_.end()) return it->second;
  std::shared_ptr<version_counters> block;
  if (auto it = active_.find(k); it != active_.end())
    block = it->second;
  else
    block = std::make_shared<version_counters>(app_id, version, writers_);
  next_.emplace(std::move(k), block);
  return block;
}

void counter_registry::commit() {
  std::lock_guard lock(mutex_);
  active_ = std::move(next_);
  next_.clear();
}

std::vector<std::shared_ptr<version_counters>> counter_registry::all() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<version_counters>> out;
  out.reserve(active_.size());
  for (const auto& [k, block] : active_) out.push_back(block);
  return out;
}

void counter_registry::on_pod_note(const coldstart::pod_spec& spec, const coldstart::pod_note& note) {
  // A static version's "pods" run elsewhere: probing them is never a cold start.
  if (spec.command.empty() && spec.image_ref.empty()) return;
  std::shared_ptr<version_counters> block;
  {
    std::lock_guard lock(mutex_);
    key k{spec.app_id, spec.version};
    // A pool starts pods as it is activated, while its generation is not committed yet.
    if (auto it = next_.find(k); it != next_.end())
      block = it->second;
    else if (auto it = active_.find(k); it != active_.end())
      block = it->second;
  }
  if (block) block->pod_note(note);
}

}  // namespace ignite::proxy
