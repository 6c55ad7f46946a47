#pragma once
// Keeps version pools alive across config reloads: a version whose source did not change
// keeps its pool (and so its in-flight counts and, later, its pods).

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "coldstart/version_pool.hpp"

namespace ignite::coldstart {

class pool_registry {
 public:
  // The pool for `key` with these endpoints: the existing one if its endpoints match,
  // else a new one. Thread-safe; called at load time, never per request.
  std::shared_ptr<version_pool> get(const std::string& key, const std::vector<std::string>& endpoints);

  // Forgets pools no snapshot uses any more.
  void prune();

 private:
  struct entry {
    std::vector<std::string> endpoints;
    std::weak_ptr<version_pool> pool;
  };
  std::mutex mutex_;
  std::map<std::string, entry> pools_;
};

}  // namespace ignite::coldstart
