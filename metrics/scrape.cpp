#include "metrics/scrape.hpp"

#include <map>
#include <tuple>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "proxy/certificate_set.hpp"

namespace ignite::metrics {

namespace {

using proxy::duration_histogram;
using proxy::version_counters;

// The requests that matched no configured app: a fixed label value, which no app id
// ("org:name") can take.
constexpr const char* k_unmatched = "unmatched";

const prometheus::Histogram::BucketBoundaries& boundaries() {
  static const auto bounds = [] {
    prometheus::Histogram::BucketBoundaries b;
    for (auto us : duration_histogram::k_bounds_us) b.push_back(static_cast<double>(us) / 1e6);
    return b;
  }();
  return bounds;
}

void fill(prometheus::Histogram& h, const duration_histogram::totals& t) {
  std::vector<double> counts(t.counts.begin(), t.counts.end());
  h.ObserveMultiple(counts, static_cast<double>(t.sum_us) / 1e6);
}

std::uint64_t load(const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); }

}  // namespace

bool is_rejection(proxy::proxy_error e) noexcept {
  using proxy::proxy_error;
  switch (e) {
    case proxy_error::bad_request:
    case proxy_error::app_not_found:
    case proxy_error::path_not_found:
    case proxy_error::method_not_allowed:
    case proxy_error::request_timeout:
    case proxy_error::payload_too_large:
    case proxy_error::misdirected_request:
    case proxy_error::headers_too_large:
    case proxy_error::overloaded:
    case proxy_error::cold_start_timeout:
    case proxy_error::upstream_timeout:
      return true;
    default:
      return false;
  }
}

std::string render(const scrape& s) {
  // A registry per scrape: every series is set from the totals read now, and a series
  // whose app or version is gone is simply not in it.
  prometheus::Registry registry;

  auto& requests = prometheus::BuildCounter()
                       .Name("ignite_requests_total")
                       .Help(
                           "Requests answered (or abandoned: 499), by app, version and HTTP status code; "
                           "app=\"unmatched\": the host named no configured app")
                       .Register(registry);
  auto& request_seconds = prometheus::BuildHistogram()
                              .Name("ignite_request_duration_seconds")
                              .Help("From a request's first byte to the end of its answer, by app")
                              .Register(registry);
  auto& upstream_seconds = prometheus::BuildHistogram()
                               .Name("ignite_upstream_duration_seconds")
                               .Help("From the request sent to the pod to the end of the pod's answer, by app")
                               .Register(registry);
  auto& cold_starts = prometheus::BuildCounter()
                          .Name("ignite_cold_starts_total")
                          .Help(
                              "Pod starts, by how they ended: ready (listening), failed (exited first), "
                              "abandoned (stopped before listening)")
                          .Register(registry);
  auto& cold_start_seconds = prometheus::BuildHistogram()
                                 .Name("ignite_cold_start_duration_seconds")
                                 .Help("From a pod's start to the moment it listened, by app")
                                 .Register(registry);
  auto& held = prometheus::BuildGauge()
                   .Name("ignite_held_requests")
                   .Help("Requests waiting for a pod of the app's active version")
                   .Register(registry);
  auto& pods = prometheus::BuildGauge()
                   .Name("ignite_pods")
                   .Help("Pods by app, version and state (starting, ready, stopping)")
                   .Register(registry);
  auto& connections = prometheus::BuildGauge()
                          .Name("ignite_connections_active")
                          .Help("Open client connections, by listener")
                          .Register(registry);
  auto& worker_connections = prometheus::BuildGauge()
                                 .Name("ignite_worker_connections")
                                 .Help("Open client connections per worker thread: how evenly they are spread")
                                 .Register(registry);
  auto& rejected = prometheus::BuildCounter()
                       .Name("ignite_rejected_total")
                       .Help("Requests and connections refused because a limit or rule tripped, by reason")
                       .Register(registry);
  auto& evicted = prometheus::BuildCounter()
                      .Name("ignite_connections_evicted_total")
                      .Help("Idle client connections closed by the overload manager to make room for new ones")
                      .Register(registry);
  auto& overload_active = prometheus::BuildGauge()
                              .Name("ignite_overload_active")
                              .Help("1 while the overload manager is on (near max_connections), else 0")
                              .Register(registry);
  auto& overload_episodes = prometheus::BuildCounter()
                                .Name("ignite_overload_episodes_total")
                                .Help("Times the overload manager switched on, summed over worker threads")
                                .Register(registry);
  auto& fields_dropped = prometheus::BuildCounter()
                             .Name("ignite_header_fields_dropped_total")
                             .Help("Request header fields not forwarded to the pod, by reason")
                             .Register(registry);
  auto& tls_failures = prometheus::BuildCounter()
                           .Name("ignite_tls_handshake_failures_total")
                           .Help("TLS handshakes that failed, by reason")
                           .Register(registry);
  auto& reloads = prometheus::BuildCounter()
                      .Name("ignite_config_reloads_total")
                      .Help("Config file reloads (SIGHUP), by outcome")
                      .Register(registry);

  // Per version: requests by code, and pod starts; histograms added up per app.
  struct app_totals {
    duration_histogram::totals request, upstream, start;
  };
  std::map<std::string, app_totals> apps;
  for (const auto& v : s.versions) {
    const auto t = v->read();
    for (std::size_t c = 0; c < version_counters::k_code_slots; ++c)
      if (t.requests[c])
        requests
            .Add({{"app", v->app_id()},
                  {"version", v->version()},
                  {"code", std::string(version_counters::code_label(c))}})
            .Increment(static_cast<double>(t.requests[c]));
    for (std::size_t o = 0; o < version_counters::k_start_outcomes; ++o)
      cold_starts
          .Add({{"app", v->app_id()},
                {"version", v->version()},
                {"outcome", std::string(version_counters::outcome_label(o))}})
          .Increment(static_cast<double>(t.starts[o]));
    auto& a = apps[v->app_id()];
    a.request.add(t.request);
    a.upstream.add(t.upstream);
    a.start.add(t.start_duration);
  }
  for (const auto& [app, t] : apps) {
    fill(request_seconds.Add({{"app", app}}, boundaries()), t.request);
    fill(upstream_seconds.Add({{"app", app}}, boundaries()), t.upstream);
    fill(cold_start_seconds.Add({{"app", app}}, boundaries()), t.start);
  }

  // Per worker: what matched no app, and the refusals.
  std::array<std::uint64_t, version_counters::k_code_slots> unmatched{};
  std::array<std::uint64_t, proxy::k_proxy_error_count> errors{};
  std::uint64_t connections_rejected = 0, connections_evicted = 0, episodes = 0, underscore = 0;
  std::uint64_t body_min_rate = 0, send_timeouts = 0;
  bool overloaded = false;
  std::array<std::uint64_t, std::tuple_size_v<decltype(proxy::worker_stats::tls_handshake_failures)>> tls{};
  for (std::size_t i = 0; i < s.workers.size(); ++i)
    worker_connections.Add({{"worker", std::to_string(i)}})
        .Set(static_cast<double>(load(s.workers[i]->open_connections)));
  for (const auto* w : s.workers) {
    for (std::size_t f = 0; f < tls.size(); ++f) tls[f] += load(w->tls_handshake_failures[f]);
    for (std::size_t c = 0; c < unmatched.size(); ++c) unmatched[c] += load(w->unmatched[c]);
    for (std::size_t e = 0; e < errors.size(); ++e) errors[e] += load(w->errors[e]);
    connections_rejected += load(w->connections_rejected);
    connections_evicted += load(w->connections_evicted);
    episodes += load(w->overload_episodes);
    underscore += load(w->underscore_fields_dropped);
    body_min_rate += load(w->body_min_rate_timeouts);
    send_timeouts += load(w->send_timeouts);
    overloaded = overloaded || w->overload_active.load(std::memory_order_relaxed);
  }
  for (std::size_t c = 0; c < unmatched.size(); ++c)
    if (unmatched[c])
      requests.Add({{"app", k_unmatched}, {"version", ""}, {"code", std::string(version_counters::code_label(c))}})
          .Increment(static_cast<double>(unmatched[c]));
  for (std::size_t e = 0; e < errors.size(); ++e) {
    const auto kind = static_cast<proxy::proxy_error>(e);
    if (is_rejection(kind))
      rejected.Add({{"reason", std::string(proxy::row_of(kind).code)}}).Increment(static_cast<double>(errors[e]));
  }
  // The limits finer than the error table's codes, named after their config keys. The
  // reasons partition the refusals: a 408 under the minimum body rate is not also a
  // request_timeout, and a send timeout cuts an answer (a 499, not in the table).
  rejected.Add({{"reason", "max_connections"}}).Increment(static_cast<double>(connections_rejected));
  rejected.Add({{"reason", "client_body_min_rate"}}).Increment(static_cast<double>(body_min_rate));
  rejected.Add({{"reason", "client_send_timeout"}}).Increment(static_cast<double>(send_timeouts));
  evicted.Add({}).Increment(static_cast<double>(connections_evicted));
  overload_active.Add({}).Set(overloaded ? 1 : 0);
  overload_episodes.Add({}).Increment(static_cast<double>(episodes));
  fields_dropped.Add({{"reason", "underscore"}}).Increment(static_cast<double>(underscore));
  // Index 0 is tls_failure::none: not a failure.
  for (std::size_t f = 1; f < tls.size(); ++f)
    tls_failures.Add({{"reason", std::string(proxy::to_string(static_cast<proxy::tls_failure>(f)))}})
        .Increment(static_cast<double>(tls[f]));

  std::map<std::string, std::uint64_t> held_by_app;
  for (const auto& p : s.pools) {
    held_by_app[p.app_id] += p.held;
    pods.Add({{"app", p.app_id}, {"version", p.version}, {"state", "starting"}}).Set(static_cast<double>(p.starting));
    pods.Add({{"app", p.app_id}, {"version", p.version}, {"state", "ready"}}).Set(static_cast<double>(p.ready));
    pods.Add({{"app", p.app_id}, {"version", p.version}, {"state", "stopping"}}).Set(static_cast<double>(p.stopping));
  }
  for (const auto& [app, n] : held_by_app) held.Add({{"app", app}}).Set(static_cast<double>(n));
  for (const auto& [listener, n] : s.connections) connections.Add({{"listener", listener}}).Set(static_cast<double>(n));
  reloads.Add({{"outcome", "success"}}).Increment(static_cast<double>(s.reloads_succeeded));
  reloads.Add({{"outcome", "failure"}}).Increment(static_cast<double>(s.reloads_failed));

  return prometheus::TextSerializer().Serialize(registry.Collect());
}

}  // namespace ignite::metrics
