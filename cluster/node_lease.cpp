#include "cluster/node_lease.hpp"

#include <string>

#include <nlohmann/json.hpp>

#include "cluster/etcd_codec.hpp"
#include "common/log.hpp"
#include "routing/state_store.hpp"

namespace ignite::cluster {

node_lease::node_lease(const routing::etcd_spec& spec, std::chrono::milliseconds timeout, std::chrono::milliseconds ttl)
    : connection_(spec, timeout), ttl_(ttl) {
  id_ = grant();
}

void node_lease::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

node_lease::~node_lease() {
  stop();
  // Revoking takes this node's keys out of every other node's view now, rather than
  // after the TTL.
  try {
    connection_.post("/v3/lease/revoke", {{"ID", std::to_string(id())}}, true);
  } catch (const std::exception& e) {
    std::string fields = "\"error\":";
    common::append_json_string(fields, e.what());
    common::log_event("cluster_lease_revoke_failed", fields);
  }
}

std::int64_t node_lease::grant() {
  const auto seconds = (ttl_.count() + 999) / 1000;  // etcd counts whole seconds
  auto answer = connection_.post("/v3/lease/grant", {{"TTL", std::to_string(seconds)}}, false);
  const auto id = int_field(answer, "ID");
  if (id == 0) throw routing::state_error("etcd granted no lease: " + answer.dump());
  return id;
}

std::int64_t node_lease::id() const {
  std::lock_guard lock(mutex_);
  return id_;
}

void node_lease::keep_alive(std::function<void(std::int64_t)> on_renewed) {
  on_renewed_ = std::move(on_renewed);
  thread_ = std::thread([this] { run(); });
}

void node_lease::run() {
  std::unique_lock lock(mutex_);
  auto pause = ttl_ / 3;
  while (!wake_.wait_for(lock, pause, [this] { return stopping_; })) {
    pause = ttl_ / 3;
    const auto id = id_;
    lock.unlock();
    std::int64_t renewed = 0;
    try {
      // One message on the gateway's keep-alive stream: it answers with the TTL left,
      // 0 (or none) if the lease has expired.
      auto answer = connection_.post("/v3/lease/keepalive", {{"ID", std::to_string(id)}}, true);
      const auto& result = answer.contains("result") ? answer["result"] : answer;
      if (int_field(result, "TTL") <= 0) {
        renewed = grant();
        common::log_event("cluster_lease_renewed",
                          "\"lost\":\"" + std::to_string(id) + "\",\"lease\":\"" + std::to_string(renewed) + "\"");
      }
    } catch (const std::exception&) {
      // etcd unreachable or slow: the lease may outlive the outage if a keep-alive gets
      // through before it expires, so the next one is sent sooner.
      pause = ttl_ / 10;
    }
    if (renewed) {
      {
        std::lock_guard relock(mutex_);
        id_ = renewed;
      }
      if (on_renewed_) on_renewed_(renewed);
    }
    lock.lock();
  }
}

}  // namespace ignite::cluster
