// Rendering /metrics: the workers' slices and counters added up into one series each,
// histograms cumulative per app, rejections by reason, nothing for versions not given.
#include <string>

#include <gtest/gtest.h>

#include "metrics/scrape.hpp"

namespace ignite::metrics {
namespace {

using namespace std::chrono_literals;

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

TEST(render, per_worker_counts_are_added_up_into_one_series) {
  auto v = std::make_shared<proxy::version_counters>("acme-corp:greeter", "2", 3);
  v->count(0, 200, 400us, 300us);
  v->count(1, 200, 2ms, 1ms);
  v->count(2, 200, 2ms, -1us);
  v->count(1, 418, 2ms, -1us);
  proxy::worker_stats w0, w1;
  proxy::worker_stats::bump(w0.errors[static_cast<std::size_t>(proxy::proxy_error::overloaded)]);
  proxy::worker_stats::bump(w1.errors[static_cast<std::size_t>(proxy::proxy_error::overloaded)]);
  proxy::worker_stats::bump(w1.errors[static_cast<std::size_t>(proxy::proxy_error::upstream_error)]);
  proxy::worker_stats::bump(w1.connections_rejected);
  proxy::worker_stats::bump(w0.unmatched[proxy::version_counters::code_slot(404)]);
  scrape s;
  s.workers = {&w0, &w1};
  s.versions = {v};
  s.pools.push_back({"acme-corp:greeter", "2", 5, 1, 2, 0});
  s.connections = {{"http", 7}};
  s.reloads_succeeded = 3;
  const auto text = render(s);

  EXPECT_TRUE(has_line(text, R"(ignite_requests_total{app="acme-corp:greeter",code="200",version="2"} 3)")) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_requests_total{app="acme-corp:greeter",code="4xx",version="2"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_requests_total{app="unmatched",code="404",version=""} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_request_duration_seconds_count{app="acme-corp:greeter"} 4)")) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_request_duration_seconds_bucket{app="acme-corp:greeter",le="0.0005"} 1)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(ignite_request_duration_seconds_bucket{app="acme-corp:greeter",le="0.0025"} 4)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(ignite_upstream_duration_seconds_count{app="acme-corp:greeter"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_upstream_duration_seconds_sum{app="acme-corp:greeter"} 0.0013)")) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_rejected_total{reason="overloaded"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_rejected_total{reason="max_connections"} 1)")) << text;
  EXPECT_EQ(text.find(R"(reason="upstream_error")"), std::string::npos) << text;  // not a refusal
  EXPECT_TRUE(has_line(text, R"(ignite_held_requests{app="acme-corp:greeter"} 5)")) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_pods{app="acme-corp:greeter",state="ready",version="2"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_connections_active{listener="http"} 7)")) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_config_reloads_total{outcome="success"} 3)")) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_cold_starts_total{app="acme-corp:greeter",outcome="ready",version="2"} 0)"))
      << text;
  EXPECT_NE(text.find("# TYPE ignite_request_duration_seconds histogram"), std::string::npos);
}

// What the overload manager and the slow-client limits count: each limit a reason of
// its own, summed over workers; a 408 under the minimum body rate is not a
// request_timeout as well.
TEST(render, hostile_client_limits_have_series_of_their_own) {
  proxy::worker_stats w0, w1;
  proxy::worker_stats::bump(w0.connections_evicted, 3);
  proxy::worker_stats::bump(w1.connections_evicted);
  proxy::worker_stats::bump(w0.overload_episodes);
  proxy::worker_stats::bump(w1.overload_episodes);
  w1.overload_active.store(true);
  proxy::worker_stats::bump(w0.underscore_fields_dropped, 2);
  proxy::worker_stats::bump(w1.underscore_fields_dropped, 5);
  proxy::worker_stats::bump(w0.body_min_rate_timeouts);
  proxy::worker_stats::bump(w0.errors[static_cast<std::size_t>(proxy::proxy_error::request_timeout)], 2);
  proxy::worker_stats::bump(w1.send_timeouts, 4);
  scrape s;
  s.workers = {&w0, &w1};
  auto text = render(s);
  EXPECT_TRUE(has_line(text, R"(ignite_connections_evicted_total 4)")) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_overload_episodes_total 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_overload_active 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_header_fields_dropped_total{reason="underscore"} 7)")) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_rejected_total{reason="client_body_min_rate"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_rejected_total{reason="request_timeout"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_rejected_total{reason="client_send_timeout"} 4)")) << text;
  EXPECT_NE(text.find("# TYPE ignite_overload_active gauge"), std::string::npos) << text;

  w1.overload_active.store(false);
  text = render(s);
  EXPECT_TRUE(has_line(text, R"(ignite_overload_active 0)")) << text;
}

TEST(render, versions_not_given_have_no_series) {
  proxy::worker_stats w;
  scrape s;
  s.workers = {&w};
  const auto text = render(s);
  EXPECT_EQ(text.find("app="), std::string::npos) << text;
  EXPECT_TRUE(has_line(text, R"(ignite_rejected_total{reason="app_not_found"} 0)")) << text;
}

}  // namespace
}  // namespace ignite::metrics
