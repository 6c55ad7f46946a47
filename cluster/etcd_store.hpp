#pragma once
// The state store of a cluster: the same interface as routing::sqlite_store, kept in etcd
// (v3, through its JSON gateway) under a key prefix, so every ingress node reads and
// writes one state and watches every change.
//
// Mapping: a key K is the etcd key <prefix>K; revisions, mod_revision, create_revision
// and version are etcd's own (store-wide revision, one per committed txn). txn() is one
// etcd Txn: compares on mod_revision (0: the key is absent), then the operations. etcd
// refuses two operations on one key in a txn: only the last operation on a key is sent,
// which is what applying them in order leaves. A txn whose operations change nothing
// (erasing absent keys) takes no revision in etcd. A failed txn reads the compared keys
// in the same etcd txn, to name the first that did not hold.
//
// Watches run on their own threads (etcd_watch), not on the committing thread: changes
// come from every node. So that a change made here is applied before its caller answers
// (the control API's promise), txn() returns only once every watch of this store that
// sees one of its keys has delivered the txn (capped by the request timeout).
//
// Errors: etcd unreachable, or refusing, throws state_error; the data plane keeps its
// last routes, the caller answers 503.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/etcd_connection.hpp"
#include "cluster/etcd_watch.hpp"
#include "routing/config.hpp"
#include "routing/state_store.hpp"

namespace ignite::cluster {

class etcd_store final : public routing::state_store {
 public:
  // Connects and reads the current revision; throws state_error if no endpoint answers.
  explicit etcd_store(const routing::etcd_spec& spec);
  ~etcd_store() override;

  std::optional<routing::key_value> get(std::string_view key) override;
  std::vector<routing::key_value> range(std::string_view prefix, routing::revision* at = nullptr) override;
  routing::txn_result txn(const std::vector<routing::compare>& compares,
                          const std::vector<routing::operation>& operations) override;
  routing::revision current_revision() override;
  std::unique_ptr<watch_handle> watch(std::string_view prefix, routing::revision after,
                                      watch_callback on_change) override;
  // Empty while etcd answers the health probe (every 500 ms, on its own connection and
  // thread), else why it did not.
  std::string unavailable() override;

 private:
  std::string full(std::string_view key) const { return prefix_ + std::string(key); }

  routing::etcd_spec spec_;
  std::string prefix_;
  etcd_connection connection_;
  std::mutex watches_mutex_;
  std::vector<std::weak_ptr<etcd_watch::state>> watches_;

  void probe_loop();
  std::mutex health_mutex_;
  std::condition_variable health_changed_;
  bool stopping_ = false;
  std::string unavailable_;
  std::thread prober_;
};

}  // namespace ignite::cluster
