#pragma once
// Where the control API keeps what it accepted: apps, versions, drafts, secrets, tokens.
// Shaped like etcd's key-value API, so a clustered backend can replace the embedded one
// without touching callers:
//   - keys are strings (the control API uses paths: "/apps/acme-corp/greeter"), values
//     are bytes (JSON documents);
//   - every committed change advances one store-wide revision; each key keeps the
//     revision that created it, the one that last changed it, and how many times it
//     changed (etcd's create_revision, mod_revision, version);
//   - txn() applies a batch of puts and deletes if and only if every compare holds
//     (compare-and-swap), atomically;
//   - watch() reports every change under a prefix after a revision, in order.
// Durability: when txn() returns success, the change is on disk; a crash at any moment
// (kill -9 included) loses nothing acknowledged and leaves nothing half-written.
//
// Thread-safety: every method may be called from any thread. Watch callbacks run on the
// thread that committed the change, after the commit and outside any lock of the store;
// they must not call back into the store synchronously.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ignite::routing {

using revision = std::int64_t;

struct key_value {
  std::string key;
  std::string value;
  revision create_revision = 0;
  revision mod_revision = 0;
  std::int64_t version = 0;  // changes since creation; 1 when created
};

// A condition of a transaction on one key.
struct compare {
  std::string key;
  // The key's mod_revision must equal this; 0 means the key must not exist.
  revision mod_revision = 0;
};

struct operation {
  enum class kind : std::uint8_t { put, erase } what = kind::put;
  std::string key;
  std::string value;  // put only
};

struct txn_result {
  bool succeeded = false;  // every compare held and the operations were applied
  revision at = 0;         // the store's revision after the commit (or now, if it failed)
  std::string failed_key;  // the first compare that did not hold
};

struct event {
  enum class kind : std::uint8_t { put, erase } what = kind::put;
  key_value kv;  // erase: key and mod_revision (the erasing revision) only
};

// The store cannot do what was asked (disk full, file unreadable, backend unreachable).
class state_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class state_store {
 public:
  virtual ~state_store() = default;

  virtual std::optional<key_value> get(std::string_view key) = 0;
  // Every key starting with `prefix`, in key order, and the revision they were read at.
  virtual std::vector<key_value> range(std::string_view prefix, revision* at = nullptr) = 0;
  // All compares, then all operations, in one atomic, durable commit.
  virtual txn_result txn(const std::vector<compare>& compares, const std::vector<operation>& operations) = 0;
  virtual revision current_revision() = 0;
  // Why the store cannot be used right now (a cluster's store unreachable), or empty.
  // Cheap: answers from what the store last saw, for /readyz.
  virtual std::string unavailable() { return {}; }

  using watch_callback = std::function<void(const std::vector<event>& events, revision at)>;
  class watch_handle {
   public:
    virtual ~watch_handle() = default;  // stops the watch; no callback runs after it returns
  };
  // Calls `on_change` with every change under `prefix` committed after `after`, grouped
  // by transaction, in revision order. Changes already committed (after `after`) are
  // delivered from the caller's thread before watch() returns.
  virtual std::unique_ptr<watch_handle> watch(std::string_view prefix, revision after, watch_callback on_change) = 0;
};

}  // namespace ignite::routing
