#pragma once
// What /metrics shows, gathered from the live process when a scrape comes (app/ fills
// it: the workers' stats, the counters of every routed version, the pools' gauges),
// and rendered in the Prometheus text format through prometheus-cpp's registry and
// serializer. The data plane never touches prometheus-cpp: it counts into plain
// per-worker memory (version_counters, worker_stats), and only a scrape, on the admin
// thread, adds the workers up into metric families.
//
// Label values come only from the routes (app ids and versions of configured apps)
// and from fixed lists (status codes, reasons, states): never from what a client sent.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/version_counters.hpp"
#include "proxy/worker.hpp"

namespace ignite::metrics {

// One version pool's gauges, read at scrape time.
struct pool_gauges {
  std::string app_id;
  std::string version;
  std::uint64_t held = 0;  // requests waiting for a pod
  std::uint64_t starting = 0;
  std::uint64_t ready = 0;
  std::uint64_t stopping = 0;
};

struct scrape {
  std::vector<const proxy::worker_stats*> workers;
  std::vector<std::shared_ptr<proxy::version_counters>> versions;  // the routed ones
  std::vector<pool_gauges> pools;
  std::vector<std::pair<std::string, std::uint64_t>> connections;  // by listener
  std::uint64_t reloads_succeeded = 0;
  std::uint64_t reloads_failed = 0;
};

// The errors of the contract's table that refuse a request because a limit or a rule
// tripped, as ignite_rejected_total reasons. Limits finer than those codes add their own
// reasons, named after their config keys: "max_connections" (connections refused at
// accept), "client_body_min_rate" (408s for a body under the minimum rate, not counted
// as request_timeout too) and "client_send_timeout" (answers cut off because the
// client took none of them).
bool is_rejection(proxy::proxy_error e) noexcept;

// The text exposition format (version 0.0.4).
std::string render(const scrape& s);

inline constexpr std::string_view k_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace ignite::metrics
