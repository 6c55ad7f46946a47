#pragma once
// Owns the version pools across config generations. Each load (start-up, SIGHUP,
// control API) names the pools it uses; a version whose source did not change keeps
// its pool and pods; pools no longer used are retired: they finish what they hold and
// have in flight, then stop their pods, and are forgotten.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "coldstart/clock.hpp"
#include "coldstart/pod_provider.hpp"
#include "coldstart/version_pool.hpp"

namespace ignite::coldstart {

struct providers {
  pod_provider* endpoints = nullptr;  // static
  pod_provider* command = nullptr;    // local processes
  pod_provider* image = nullptr;      // containers; null: image versions cannot run
};

class pool_registry {
 public:
  pool_registry(providers p, const clock& clock, version_pool::observer observe = {});
  // Before the first use(): the provider of image versions.
  void set_image_provider(pod_provider* image) { providers_.image = image; }
  // Before the first use(): the provider of command versions.
  void set_command_provider(pod_provider* command) { providers_.command = command; }

  // A new generation; then use() for every active version, then commit().
  void begin();
  // The pool for this version's source, reused when the same source was in use.
  std::shared_ptr<version_pool> use(const pod_spec& spec, const std::vector<common::host_port>& endpoints,
                                    const pool_settings& settings);
  // Retires the pools the generation did not use and activates the new ones.
  void commit();

  void tick();      // every pool: idle scale-down, reserved capacity; drop finished
  void stop_all();  // shutdown: every pod is stopped
  bool all_stopped() const;
  std::vector<std::shared_ptr<version_pool>> pools() const;

 private:
  static std::string key_of(const pod_spec& spec, const std::vector<common::host_port>& endpoints);

  providers providers_;
  const clock& clock_;
  version_pool::observer observe_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<version_pool>> active_;
  std::map<std::string, std::shared_ptr<version_pool>> next_;
  std::vector<std::shared_ptr<version_pool>> fresh_;
  std::vector<std::shared_ptr<version_pool>> retired_;
};

}  // namespace ignite::coldstart
