#pragma once
// Pods shared by the nodes of a cluster. Wraps this node's own providers (processes,
// containers) and speaks for the whole cluster through etcd, so that every node serves
// from every node's pods and a cold app starts as few pods as its demand needs, not one
// per node that saw a request.
//
// Keys, under the store's prefix, each put under this node's lease (node_lease), so a
// node that dies takes them with it:
//   /cluster/nodes/<node>                          {"node","address"}: the node is up
//   /cluster/pods/<app>/<version>/<node>/<pod>     {"address","node"}: a ready pod
//   /cluster/starts/<app>/<version>/<slot>         {"node"}: a pod is being started
//   /cluster/users/<app>/<version>/<node>/<pod>/<user>   another node sends it requests
//
// When a pool asks for a pod, in this order: a ready pod of the version that this node
// does not use yet is adopted (reported ready, `remote`); else, with container_concurrency
// 0 (one pod serves any demand), if another node's start is in flight and not yet waited
// for, the pod waits for it; else the node claims a start slot in a transaction (create
// if absent) and starts the pod itself. The winner
// registers the pod when it listens and drops the claim; a pod that fails to start turns
// its claim into the failure (waiters fail fast with the same reason), then drops it. A
// claim that disappears without a pod (its node died) sends the waiters to claim again.
//
// Tolerances (each node counts only its own requests): container_concurrency holds per
// node, so a pod used by k nodes may see up to k × the limit at once; with a limit, each
// node starts what its own demand needs (max_replicas each), after adopting the ready
// pods it finds. With etcd unreachable, a node starts its own pods (availability first).
//
// Thread-safety: any thread. The pools' callbacks are made without the lock held; etcd
// writes run on a thread of this class.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "cluster/etcd_connection.hpp"
#include "cluster/etcd_watch.hpp"
#include "cluster/node_lease.hpp"
#include "coldstart/pod_provider.hpp"
#include "routing/config.hpp"

namespace ignite::cluster {

class shared_provider final : public coldstart::pod_provider, public coldstart::pod_events {
 public:
  // Registers this node (`public_address`: its HTTP listener, for the record) and starts
  // watching the cluster's pods. Throws routing::state_error if etcd cannot be reached.
  shared_provider(const routing::etcd_spec& spec, std::string public_address);
  ~shared_provider() override;

  // This node's own providers, by source; before the first start().
  void set_local(coldstart::pod_provider* command, coldstart::pod_provider* image);
  const std::string& node() const noexcept { return node_; }

  // pod_provider, for the pools
  void start(coldstart::pod_id id, const coldstart::pod_spec& spec, coldstart::pod_events& events) override;
  void probe(coldstart::pod_id id) override;
  void stop(coldstart::pod_id id) override;
  bool in_use_elsewhere(coldstart::pod_id id) override;

  // pod_events, from this node's providers
  void on_ready(coldstart::pod_id id, const coldstart::endpoint& at, bool remote = false) override;
  void on_exit(coldstart::pod_id id, const coldstart::pod_exit& how) override;

 private:
  enum class phase : std::uint8_t { waiting, claiming, starting, ready, remote };
  struct tracked {
    coldstart::pod_events* events = nullptr;
    coldstart::pod_spec spec;
    std::string version;  // "<app>/<version>"
    phase state = phase::waiting;
    coldstart::pod_provider* local = nullptr;
    std::string claim;    // starting: this node's claim key
    std::string pod_key;  // ready: its registration; remote: the adopted one's
    coldstart::endpoint address;
    bool claim_stopped = false;  // the pool stopped it: an exit while starting is no failure
  };
  struct registration {
    coldstart::endpoint address;
    std::string node;
  };
  // What this node knows of one version across the cluster, from the watch.
  struct version_view {
    std::map<std::string, registration> pods;            // pod key → where it listens
    std::map<std::string, std::string> claims;           // claim key → claiming node
    std::map<std::string, std::set<std::string>> users;  // pod key → other nodes using it
  };
  // A pool callback decided under the lock, made after it.
  struct notice {
    coldstart::pod_events* events;
    coldstart::pod_id id;
    bool ready;
    coldstart::endpoint address;
    coldstart::pod_exit exit;
  };

  void on_changes(const std::vector<routing::event>& events, routing::revision at);
  void apply_one(const routing::event& e, std::set<std::string>& touched, std::vector<notice>& notices);
  void apply_change(const routing::event& e, std::set<std::string>& touched, std::vector<notice>& notices);
  // Adopts, waits or claims for the waiting pods of `version` (on the worker thread).
  void evaluate(const std::string& version);
  void claim(coldstart::pod_id id, const std::string& version, const std::string& key);
  void start_local(coldstart::pod_id id);
  void register_ready(coldstart::pod_id id);
  void put(const std::string& key, const std::string& value);
  void erase(const std::string& key);
  void reregister(std::int64_t lease);
  // Forgets the tracked pods `which` accepts; each gets `how` once the lock is released.
  // True if there was any. Under the lock.
  bool end_tracked(const std::function<bool(const tracked&)>& which, const coldstart::pod_exit& how,
                   std::vector<notice>& notices);
  static void notify(std::vector<notice>& notices);
  std::string pod_value(const coldstart::endpoint& at) const;

  routing::etcd_spec spec_;
  std::string node_;
  std::string public_address_;
  coldstart::pod_provider* command_ = nullptr;
  coldstart::pod_provider* image_ = nullptr;
  etcd_connection connection_;  // writes, on the worker thread
  node_lease lease_;

  std::mutex mutex_;
  std::map<coldstart::pod_id, tracked> pods_;
  std::map<std::string, version_view> views_;
  std::set<std::string> suspects_;  // pod keys that refused a connection, until put again
  routing::revision seen_ = 0;      // the last revision the watch reported

  boost::asio::io_context worker_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::unique_ptr<etcd_watch> watch_;
};

}  // namespace ignite::cluster
