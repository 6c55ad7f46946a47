#pragma once
// This node's lease in etcd. Keys put under it (the node's registration, its ready pods,
// its claims) vanish when the node dies and the lease expires, or at once when the node
// stops and revokes it. A thread with a connection of its own keeps it alive at a third
// of its TTL. A lease lost anyway (etcd unreachable for longer than the TTL) is granted
// again, and `on_renewed` puts the keys back.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "cluster/etcd_connection.hpp"
#include "routing/config.hpp"

namespace ignite::cluster {

class node_lease {
 public:
  // Grants the lease, connecting as `spec` says (TLS, auth); throws routing::state_error
  // if etcd cannot be reached.
  node_lease(const routing::etcd_spec& spec, std::chrono::milliseconds timeout, std::chrono::milliseconds ttl);
  ~node_lease();  // revokes the lease
  node_lease(const node_lease&) = delete;
  node_lease& operator=(const node_lease&) = delete;

  // Starts keeping the lease alive. `on_renewed(id)` runs on the lease's thread after a
  // lost lease was replaced by lease `id`.
  void keep_alive(std::function<void(std::int64_t)> on_renewed);

  // The lease to put keys under (it changes only when a lost one is replaced).
  std::int64_t id() const;

  // Stops keeping it alive (on_renewed is not called after this returns); the lease
  // lasts until it is revoked or expires.
  void stop();

 private:
  void run();
  std::int64_t grant();

  etcd_connection connection_;
  const std::chrono::milliseconds ttl_;
  std::function<void(std::int64_t)> on_renewed_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::int64_t id_ = 0;
  std::thread thread_;
};

}  // namespace ignite::cluster
