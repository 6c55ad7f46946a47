#pragma once
// What the proxy counts for one app version: requests by status code and their
// durations, and the version's pod starts. Each writer (a worker thread, or the admin
// thread for invoke) has its own slice, on its own cache lines, allocated on its first
// request: counting a request is a few plain stores into memory no other thread
// writes, with no lock, no locked instruction and no allocation. A scrape reads every
// slice and adds them up (metrics/).
//
// One block per (app, version) lives as long as the version is active in the routes
// (counter_registry): its series go away with the app.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "coldstart/pod_provider.hpp"
#include "coldstart/version_pool.hpp"
#include "proxy/duration_histogram.hpp"

namespace ignite::proxy {

class version_counters {
 public:
  // Status codes counted by value; any other code counts in its class ("4xx"), and one
  // outside 100-599 as "other": a pod cannot make the label set grow.
  static constexpr std::array<unsigned short, 31> k_codes = {200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308,
                                                             400, 401, 403, 404, 405, 408, 409, 410, 413, 415, 421,
                                                             422, 429, 431, 499, 500, 501, 502, 503, 504};
  static constexpr std::size_t k_code_slots = k_codes.size() + 6;  // + 1xx…5xx + other

  // The slot of `status`, and the label of a slot ("200", "4xx", "other").
  static std::size_t code_slot(unsigned status) noexcept;
  static std::string_view code_label(std::size_t slot) noexcept;

  struct alignas(64) slice {
    std::array<std::atomic<std::uint64_t>, k_code_slots> requests{};
    duration_histogram request;   // first byte of the request to the end of the answer
    duration_histogram upstream;  // request sent to the pod to the end of its answer
  };

  // How pod starts ended: listening, exited first, or stopped because nothing waited
  // for a pod that had not listened yet.
  enum class start_outcome : std::uint8_t { ready, failed, abandoned };
  static constexpr std::size_t k_start_outcomes = 3;
  static std::string_view outcome_label(std::size_t outcome) noexcept;

  // `writers`: how many threads count (each with an index below it).
  version_counters(std::string app_id, std::string version, std::size_t writers);
  ~version_counters();
  version_counters(const version_counters&) = delete;
  version_counters& operator=(const version_counters&) = delete;

  const std::string& app_id() const noexcept { return app_id_; }
  const std::string& version() const noexcept { return version_; }
  std::size_t writers() const noexcept { return writers_; }

  // One finished request, by writer `writer` (its own index only). `upstream` is
  // negative when the request never reached a pod.
  void count(std::size_t writer, unsigned status, std::chrono::microseconds duration,
             std::chrono::microseconds upstream) noexcept {
    auto& s = of(writer);
    auto& c = s.requests[code_slot(status)];
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    s.request.observe(duration);
    if (upstream.count() >= 0) s.upstream.observe(upstream);
  }

  // A pod of this version changed state (any thread; pod events are rare).
  void pod_note(const coldstart::pod_note& note);

  // Any thread: the slices written so far, added up.
  struct totals {
    std::array<std::uint64_t, k_code_slots> requests{};
    duration_histogram::totals request;
    duration_histogram::totals upstream;
    std::array<std::uint64_t, k_start_outcomes> starts{};
    duration_histogram::totals start_duration;
  };
  totals read() const;

 private:
  slice& of(std::size_t writer);

  const std::string app_id_;
  const std::string version_;
  const std::size_t writers_;
  // Writer i alone stores slices_[i] (release); a scrape loads it (acquire).
  std::unique_ptr<std::atomic<slice*>[]> slices_;
  std::array<std::atomic<std::uint64_t>, k_start_outcomes> starts_{};
  duration_histogram start_duration_;  // start → listening, of pods that listened
  std::mutex starting_mutex_;
  std::vector<coldstart::pod_id> starting_;  // pods started and not yet listening
};

}  // namespace ignite::proxy
