#pragma once
// One place a version's requests can be sent: a pod's host and port, with the load and
// reachability facts every worker thread shares (atomics, no locks).

#include <atomic>
#include <cstdint>
#include <string>

namespace ignite::coldstart {

class endpoint {
 public:
  endpoint(std::string host, std::uint16_t port);

  const std::string& host() const noexcept { return host_; }
  std::uint16_t port() const noexcept { return port_; }
  const std::string& address() const noexcept { return address_; }  // "host:port"

  int in_flight() const noexcept { return in_flight_.load(std::memory_order_relaxed); }
  void add_in_flight(int delta) noexcept { in_flight_.fetch_add(delta, std::memory_order_relaxed); }

  // Refused or timed-out connects park the endpoint until `until_ms` (steady-clock ms).
  bool is_down(std::int64_t now_ms) const noexcept {
    return down_until_ms_.load(std::memory_order_relaxed) > now_ms;
  }
  void mark_down(std::int64_t until_ms) noexcept { down_until_ms_.store(until_ms, std::memory_order_relaxed); }
  void mark_up() noexcept { down_until_ms_.store(0, std::memory_order_relaxed); }

 private:
  std::string host_;
  std::uint16_t port_;
  std::string address_;
  std::atomic<int> in_flight_{0};
  std::atomic<std::int64_t> down_until_ms_{0};
};

}  // namespace ignite::coldstart
