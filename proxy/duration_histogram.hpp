#pragma once
// A histogram of durations with fixed buckets (Prometheus's le= bounds, in seconds),
// kept as plain counts: one per bucket, a sum and nothing else. One thread writes a
// given histogram (observe) and any thread reads it: relaxed loads and stores of
// aligned words, which on x86 are plain moves, so counting takes no locked
// instruction. add() is for histograms that several threads write (rare events).

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace ignite::proxy {

struct duration_histogram {
  // Upper bounds in microseconds: 0.5 ms … 5 min, where request and cold-start times
  // fall; the last bucket (+Inf) takes the rest.
  static constexpr std::array<std::uint64_t, 18> k_bounds_us = {
      500,    1000,    2500,    5000,    10000,    25000,    50000,    100000,    250000,
      500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000, 120000000, 300000000};
  static constexpr std::size_t k_buckets = k_bounds_us.size() + 1;

  std::array<std::atomic<std::uint64_t>, k_buckets> counts{};
  std::atomic<std::uint64_t> sum_us{0};

  static std::size_t bucket_of(std::uint64_t us) noexcept {
    std::size_t i = 0;
    while (i < k_bounds_us.size() && us > k_bounds_us[i]) ++i;  // most requests stop in the first few
    return i;
  }
  static std::uint64_t micros(std::chrono::microseconds d) noexcept {
    return d.count() > 0 ? static_cast<std::uint64_t>(d.count()) : 0;
  }

  // The only writer of this histogram.
  void observe(std::chrono::microseconds d) noexcept {
    const auto us = micros(d);
    auto& c = counts[bucket_of(us)];
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    sum_us.store(sum_us.load(std::memory_order_relaxed) + us, std::memory_order_relaxed);
  }
  // One of several writers.
  void add(std::chrono::microseconds d) noexcept {
    const auto us = micros(d);
    counts[bucket_of(us)].fetch_add(1, std::memory_order_relaxed);
    sum_us.fetch_add(us, std::memory_order_relaxed);
  }

  // What several histograms (one per worker) add up to, read at scrape time.
  struct totals {
    std::array<std::uint64_t, k_buckets> counts{};
    std::uint64_t sum_us = 0;
    std::uint64_t count() const noexcept {
      std::uint64_t n = 0;
      for (auto c : counts) n += c;
      return n;
    }
    void add(const duration_histogram& h) noexcept {
      for (std::size_t i = 0; i < k_buckets; ++i) counts[i] += h.counts[i].load(std::memory_order_relaxed);
      sum_us += h.sum_us.load(std::memory_order_relaxed);
    }
    void add(const totals& t) noexcept {
      for (std::size_t i = 0; i < k_buckets; ++i) counts[i] += t.counts[i];
      sum_us += t.sum_us;
    }
  };
};

}  // namespace ignite::proxy
