#include "cluster/etcd_store.hpp"

#include <algorithm>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "cluster/etcd_codec.hpp"

namespace ignite::cluster {

using nlohmann::json;
using routing::revision;

etcd_store::etcd_store(const routing::etcd_spec& spec)
    : spec_(spec), prefix_(spec.prefix), connection_(spec, spec.request_timeout) {
  current_revision();  // fails now, naming the endpoints, if etcd cannot be reached
  prober_ = std::thread([this] { probe_loop(); });
}

etcd_store::~etcd_store() {
  {
    std::lock_guard lock(health_mutex_);
    stopping_ = true;
  }
  health_changed_.notify_all();
  prober_.join();
}

std::string etcd_store::unavailable() {
  std::lock_guard lock(health_mutex_);
  return unavailable_;
}

// A read on a connection of its own, so a slow API request never delays the verdict.
void etcd_store::probe_loop() {
  etcd_connection probe(spec_, std::min(spec_.request_timeout, std::chrono::milliseconds(1000)));
  std::unique_lock lock(health_mutex_);
  while (!stopping_) {
    lock.unlock();
    std::string why;
    try {
      probe.post("/v3/kv/range", {{"key", base64_encode(prefix_)}, {"count_only", true}}, true);
    } catch (const std::exception& e) {
      why = e.what();
    }
    lock.lock();
    unavailable_ = std::move(why);
    health_changed_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stopping_; });
  }
}

std::optional<routing::key_value> etcd_store::get(std::string_view key) {
  auto answer = connection_.post("/v3/kv/range", {{"key", base64_encode(full(key))}}, true);
  const auto& kvs = answer.value("kvs", json::array());
  if (kvs.empty()) return std::nullopt;
  return kv_from(kvs.front(), prefix_);
}

std::vector<routing::key_value> etcd_store::range(std::string_view prefix, revision* at) {
  const auto key = full(prefix);
  auto answer = connection_.post("/v3/kv/range",
                                 {{"key", base64_encode(key)}, {"range_end", base64_encode(prefix_end(key))}}, true);
  std::vector<routing::key_value> out;
  for (const auto& kv : answer.value("kvs", json::array())) out.push_back(kv_from(kv, prefix_));
  if (at) *at = int_field(answer.value("header", json::object()), "revision");
  return out;
}

revision etcd_store::current_revision() {
  auto answer = connection_.post("/v3/kv/range", {{"key", base64_encode(prefix_)}, {"count_only", true}}, true);
  return int_field(answer.value("header", json::object()), "revision");
}

routing::txn_result etcd_store::txn(const std::vector<routing::compare>& compares,
                                    const std::vector<routing::operation>& operations) {
  json cmp = json::array(), success = json::array(), failure = json::array();
  for (const auto& c : compares) {
    cmp.push_back({{"key", base64_encode(full(c.key))},
                   {"target", "MOD"},
                   {"result", "EQUAL"},
                   {"mod_revision", std::to_string(c.mod_revision)}});
    failure.push_back({{"request_range", {{"key", base64_encode(full(c.key))}}}});
  }
  // The last operation on each key, in the order keys first appear.
  std::vector<const routing::operation*> last;
  std::unordered_map<std::string_view, std::size_t> slot;
  for (const auto& op : operations) {
    auto [it, fresh] = slot.emplace(op.key, last.size());
    if (fresh)
      last.push_back(&op);
    else
      last[it->second] = &op;
  }
  for (const auto* op : last) {
    if (op->what == routing::operation::kind::put)
      success.push_back(
          {{"request_put", {{"key", base64_encode(full(op->key))}, {"value", base64_encode(op->value)}}}});
    else
      success.push_back({{"request_delete_range", {{"key", base64_encode(full(op->key))}}}});
  }
  auto answer = connection_.post("/v3/kv/txn", {{"compare", cmp}, {"success", success}, {"failure", failure}}, false);
  routing::txn_result result;
  result.succeeded = answer.value("succeeded", false);
  result.at = int_field(answer.value("header", json::object()), "revision");
  if (!result.succeeded) {
    const auto& responses = answer.value("responses", json::array());
    for (std::size_t i = 0; i < compares.size() && i < responses.size(); ++i) {
      const auto& kvs = responses[i].value("response_range", json::object()).value("kvs", json::array());
      const revision now = kvs.empty() ? 0 : int_field(kvs.front(), "mod_revision");
      if (now != compares[i].mod_revision) {
        result.failed_key = compares[i].key;
        break;
      }
    }
    return result;
  }
  if (!last.empty()) {
    // Every watch of this store that sees one of these keys has applied the change
    // before the caller goes on (see the header).
    std::vector<std::shared_ptr<etcd_watch::state>> live;
    {
      std::lock_guard lock(watches_mutex_);
      std::erase_if(watches_, [](const auto& w) { return w.expired(); });
      for (const auto& w : watches_)
        if (auto s = w.lock()) live.push_back(std::move(s));
    }
    for (const auto& s : live)
      for (const auto* op : last) etcd_watch::wait_delivered(*s, full(op->key), result.at, spec_.request_timeout);
  }
  return result;
}

std::unique_ptr<routing::state_store::watch_handle> etcd_store::watch(std::string_view prefix, revision after,
                                                                      watch_callback on_change) {
  const auto key = full(prefix);
  auto w = std::make_unique<etcd_watch>(spec_, spec_.request_timeout, key, prefix_end(key), prefix_, after,
                                        std::move(on_change));
  std::lock_guard lock(watches_mutex_);
  watches_.push_back(w->shared());
  return w;
}

}  // namespace ignite::cluster
