#pragma once
// Owns the counter blocks (version_counters) across route generations, as pool_registry
// owns the pools: each rebuild names the active versions it routes to; an (app, version)
// that stays active keeps its block and its counts; one that is no longer active (its
// app removed, or another version activated) is forgotten at commit(), and its series
// leave /metrics. Requests still in flight on the old routes count into the block they
// hold, which is freed with the last of them.
//
// Thread-safety: begin/use/commit from one thread at a time (the route rebuild); all()
// and on_pod_note() from any thread.

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "coldstart/pod_provider.hpp"
#include "coldstart/version_pool.hpp"
#include "proxy/version_counters.hpp"

namespace ignite::proxy {

class counter_registry {
 public:
  // `writers`: the threads that count requests (workers, and the admin thread last).
  explicit counter_registry(std::size_t writers) : writers_(writers) {}

  std::size_t writers() const noexcept { return writers_; }

  // A new generation; then use() for every active version, then commit().
  void begin();
  std::shared_ptr<version_counters> use(const std::string& app_id, const std::string& version);
  void commit();

  // The blocks of the committed generation.
  std::vector<std::shared_ptr<version_counters>> all() const;

  // A pod of a version that runs something (a command or an image) changed state:
  // counted as a pod start of that version, if it is routed to.
  void on_pod_note(const coldstart::pod_spec& spec, const coldstart::pod_note& note);

 private:
  using key = std::pair<std::string, std::string>;  // app id, version

  const std::size_t writers_;
  mutable std::mutex mutex_;
  std::map<key, std::shared_ptr<version_counters>> active_;
  std::map<key, std::shared_ptr<version_counters>> next_;
};

}  // namespace ignite::proxy
