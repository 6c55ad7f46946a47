#pragma once
// What the etcd store tests share: operations in one line, and a recorder of what a
// watch delivered (thread-safe: callbacks run on the watch's thread).

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "routing/state_store.hpp"

namespace ignite::cluster::testing {

inline routing::operation put(std::string key, std::string value) {
  return {routing::operation::kind::put, std::move(key), std::move(value)};
}
inline routing::operation erase(std::string key) { return {routing::operation::kind::erase, std::move(key), {}}; }

class recorder {
 public:
  routing::state_store::watch_callback callback() {
    return [this](const std::vector<routing::event>& events, routing::revision at) {
      std::lock_guard lock(mutex_);
      batches_.push_back({events, at});
    };
  }
  std::vector<routing::revision> revisions() const {
    std::lock_guard lock(mutex_);
    std::vector<routing::revision> out;
    for (const auto& b : batches_) out.push_back(b.second);
    return out;
  }
  bool saw(routing::revision at) const {
    const auto all = revisions();
    return std::find(all.begin(), all.end(), at) != all.end();
  }
  std::vector<std::vector<routing::event>> batches() const {
    std::lock_guard lock(mutex_);
    std::vector<std::vector<routing::event>> out;
    for (const auto& b : batches_) out.push_back(b.first);
    return out;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return batches_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::vector<routing::event>, routing::revision>> batches_;
};

}  // namespace ignite::cluster::testing
