#pragma once
// Test doubles for the pool state machine: a clock moved by hand, a provider that only
// records what the pool asked of it (the test plays the pods through pod_events), and a
// waiter that records its answer.

#include <chrono>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coldstart/clock.hpp"
#include "coldstart/pod_provider.hpp"
#include "coldstart/version_pool.hpp"

namespace ignite::coldstart::testing {

inline endpoint loopback(std::uint16_t port) { return {boost::asio::ip::address_v4::loopback(), port}; }
inline std::string text(const endpoint& e) { return e.address().to_string() + ":" + std::to_string(e.port()); }

// "127.0.0.1:9001", … as a version's endpoints.
inline std::vector<common::host_port> endpoints_of(std::initializer_list<std::string_view> list) {
  std::vector<common::host_port> out;
  std::string why;
  for (auto e : list) out.push_back(*common::parse_host_port(e, false, why));
  return out;
}

class manual_clock final : public clock {
 public:
  time_point now() const noexcept override { return now_; }
  void advance(std::chrono::milliseconds d) { now_ += d; }

 private:
  time_point now_{std::chrono::hours(1)};
};

class recording_provider final : public pod_provider {
 public:
  void start(pod_id id, const pod_spec& spec, pod_events&) override {
    std::lock_guard lock(mutex_);
    started_.emplace_back(id, spec);
  }
  void probe(pod_id id) override {
    std::lock_guard lock(mutex_);
    probed_.push_back(id);
  }
  void stop(pod_id id) override {
    std::lock_guard lock(mutex_);
    stopped_.push_back(id);
  }
  bool in_use_elsewhere(pod_id id) override {
    std::lock_guard lock(mutex_);
    return used_elsewhere_.contains(id);
  }
  // Another node of the cluster uses pod `id` (or no longer does).
  void set_used_elsewhere(pod_id id, bool used) {
    std::lock_guard lock(mutex_);
    if (used)
      used_elsewhere_.insert(id);
    else
      used_elsewhere_.erase(id);
  }

  std::vector<std::pair<pod_id, pod_spec>> started() const {
    std::lock_guard lock(mutex_);
    return started_;
  }
  std::vector<pod_id> started_ids() const {
    std::vector<pod_id> ids;
    for (const auto& [id, spec] : started()) ids.push_back(id);
    return ids;
  }
  std::vector<pod_id> probed() const {
    std::lock_guard lock(mutex_);
    return probed_;
  }
  std::vector<pod_id> stopped() const {
    std::lock_guard lock(mutex_);
    return stopped_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<pod_id, pod_spec>> started_;
  std::vector<pod_id> probed_;
  std::vector<pod_id> stopped_;
  std::set<pod_id> used_elsewhere_;
};

class recording_waiter final : public waiter {
 public:
  void granted(const grant& g) override {
    ++calls;
    got = g;
  }
  void failed(failure why, const failure_reason& r) override {
    ++calls;
    failed_with = why;
    message = r.message;
    detail = r.detail;
  }

  int calls = 0;
  std::optional<grant> got;
  std::optional<failure> failed_with;
  std::string message;  // public
  std::string detail;   // log only
};

}  // namespace ignite::coldstart::testing
