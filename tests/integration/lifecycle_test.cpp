// Process lifecycle: SIGHUP reloads under load, SIGTERM drains.
#include <signal.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "proxy_fixture.hpp"
#include "support/wait_until.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;

class lifecycle : public proxy_fixture {
 protected:
  // acme-corp/greeter with version 1 on `v1` and version 2 on `v2`, `active` active.
  static json two_versions(const fake_pod& v1, const fake_pod& v2, int active) {
    json a = app("acme-corp", "greeter", {v1.endpoint()});
    a["versions"].push_back({{"version", 2}, {"endpoints", {v2.endpoint()}}});
    a["active_version"] = active;
    return config(json::array({a}));
  }
};

// What one load_client saw.
struct load_totals {
  int ok = 0;
  int after_switch = 0;        // of which sent after the switch was announced
  int stale_after_switch = 0;  // of those, answered by version 1
  std::vector<std::string> failures;
};

// Keeps sending POSTs on a keep-alive connection (reconnecting only when the proxy closes
// it) until stopped, and counts what it sees.
class load_client {
 public:
  load_client(std::uint16_t port, const std::atomic<bool>& switched) : port_(port), switched_(switched) {
    thread_ = std::thread([this] { run(); });
  }
  ~load_client() { stop(); }

  int ok_count() const { return ok_; }

  // Joins the thread; the totals are final afterwards.
  load_totals stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return totals_;
  }

 private:
  void run() {
    std::unique_ptr<raw_client> client;
    while (!stop_) {
      // Read before sending: a request sent after this saw `true` is a new request.
      const bool switched = switched_.load();
      std::string problem;
      try {
        if (!client) client = std::make_unique<raw_client>(port_);
        if (const auto ec = client->send(post(k_host, "load"))) {
          problem = "send: " + ec.message();
        } else if (const auto r = client->read_response(); !r) {
          problem = "read: " + client->last_error().message();
        } else if (r->status != 200) {
          problem = "status " + std::to_string(r->status) + " " + r->body;
        } else {
          ++totals_.ok;
          ++ok_;
          if (switched) {
            ++totals_.after_switch;
            if (r->body != "pod-v2") ++totals_.stale_after_switch;
          }
          if (!r->keep_alive) client.reset();
          continue;
        }
      } catch (const std::exception& e) {
        problem = e.what();
      }
      totals_.failures.push_back(problem);
      client.reset();
    }
  }

  const std::uint16_t port_;
  const std::atomic<bool>& switched_;
  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0};  // read by the test thread while running
  load_totals totals_;      // the load thread's own until stop() joins it
  std::thread thread_;
};

TEST_F(lifecycle, reload_under_load_drops_nothing_and_switches_version) {
  fake_pod v1("pod-v1"), v2("pod-v2");
  start_proxy(two_versions(v1, v2, 1));

  std::atomic<bool> switched{false};
  std::vector<std::unique_ptr<load_client>> load;
  for (int i = 0; i < 4; ++i) load.push_back(std::make_unique<load_client>(port(), switched));
  auto total_ok = [&] {
    int n = 0;
    for (auto& l : load) n += l->ok_count();
    return n;
  };
  // Wait until `more` further requests have succeeded, so every reload lands under load.
  auto progress = [&](int more) {
    const int target = total_ok() + more;
    return wait_until([&] { return total_ok() >= target; }, k_cap);
  };

  ASSERT_TRUE(progress(200));
  for (int active : {2, 1, 2, 1, 2}) {
    const auto from = proxy().reload(two_versions(v1, v2, active));
    ASSERT_TRUE(proxy().wait_for_event("reloaded", k_cap, from)) << "no reloaded line after SIGHUP";
    ASSERT_TRUE(progress(200));
  }
  switched = true;
  ASSERT_TRUE(progress(200));

  load_totals sum;
  for (auto& l : load) {
    const auto t = l->stop();
    sum.ok += t.ok;
    sum.after_switch += t.after_switch;
    sum.stale_after_switch += t.stale_after_switch;
    sum.failures.insert(sum.failures.end(), t.failures.begin(), t.failures.end());
  }
  EXPECT_EQ(sum.failures.size(), 0u);
  for (const auto& f : sum.failures) ADD_FAILURE() << "failed request: " << f;
  EXPECT_GT(sum.after_switch, 0);
  EXPECT_EQ(sum.stale_after_switch, 0) << "requests sent after the last reload still reached version 1";
  EXPECT_GT(v1.request_count(), 0u);
  EXPECT_GT(v2.request_count(), 0u);

  // A brand-new request goes to version 2 only.
  const auto v1_before = v1.request_count();
  const auto r = round_trip(post(k_host, "after"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "pod-v2");
  EXPECT_EQ(v1.request_count(), v1_before);
}

TEST_F(lifecycle, failed_reload_keeps_the_old_routes) {
  start_proxy();
  proxy().rewrite_config(json{{"domain", k_domain}, {"apps", "not an array"}});
  const auto from = proxy().line_count();
  proxy().send_signal(SIGHUP);
  const auto line = proxy().wait_for_line(
      [](const json& j) {
        const auto e = j.value("event", "");
        return e == "reload_failed" || e == "reloaded";
      },
      k_cap, from);
  ASSERT_TRUE(line);
  EXPECT_EQ(line->value("event", ""), "reload_failed") << line->dump();
  EXPECT_TRUE(line->contains("error")) << line->dump();
  const auto r = round_trip(post(k_host, "hi"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(pod_.request_count(), 1u);
}

TEST_F(lifecycle, sigterm_finishes_in_flight_request_then_exits_0) {
  auto hold = std::make_shared<gate>();
  pod_reply reply = pod_reply::text("finished");
  reply.hold = hold;
  pod_.reply_with(reply);
  start_proxy();

  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, "in flight")));
  ASSERT_TRUE(pod_.wait_for_requests(1, k_cap));

  proxy().send_signal(SIGTERM);
  ASSERT_TRUE(proxy().wait_for_event("draining", k_cap));
  // Listeners close at once: new connections are refused while the request still runs.
  EXPECT_TRUE(wait_until([&] { return raw_client::probe(port()) == boost::asio::error::connection_refused; }, k_cap));

  hold->open();
  const auto r = client->read_response();
  ASSERT_TRUE(r) << client->last_error().message();
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "finished");

  const auto e = proxy().wait_exit(k_cap);
  ASSERT_TRUE(e) << "the proxy did not exit after draining";
  EXPECT_TRUE(e->succeeded()) << "code " << e->code << " signal " << e->signal;
  EXPECT_TRUE(proxy().wait_for_event("stopped", std::chrono::milliseconds(0)));
  EXPECT_EQ(raw_client::probe(port()), boost::asio::error::connection_refused);
}

TEST_F(lifecycle, sigterm_closes_idle_keep_alive_connections_and_exits_0) {
  start_proxy();
  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, "hi")));
  const auto r = client->read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);

  proxy().send_signal(SIGTERM);
  const auto end = client->read_until_closed();
  EXPECT_TRUE(end.closed()) << end.ec.message();
  EXPECT_EQ(end.data, "");
  const auto e = proxy().wait_exit(k_cap);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->succeeded()) << "code " << e->code << " signal " << e->signal;
}

// A request that never finishes cannot hold the proxy past drain_timeout_ms: it is cut
// off and the proxy still exits 0.
TEST_F(lifecycle, drain_is_bounded_by_drain_timeout) {
  auto hold = std::make_shared<gate>();  // never opened: the pod never answers
  pod_reply reply = pod_reply::text("never");
  reply.hold = hold;
  pod_.reply_with(reply);
  start_proxy(greeter_config({{"drain_timeout_ms", 300}}));

  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, "stuck")));
  ASSERT_TRUE(pod_.wait_for_requests(1, k_cap));

  const auto signalled = std::chrono::steady_clock::now();
  proxy().send_signal(SIGTERM);
  const auto e = proxy().wait_exit(k_cap);
  ASSERT_TRUE(e) << "the proxy did not exit after drain_timeout_ms";
  EXPECT_TRUE(e->succeeded()) << "code " << e->code << " signal " << e->signal;
  EXPECT_GE(std::chrono::steady_clock::now() - signalled, std::chrono::milliseconds(300))
      << "the request in flight was given its drain time";
  EXPECT_TRUE(proxy().wait_for_event("drain_timeout", std::chrono::milliseconds(0))) << proxy().output();
  const auto end = client->read_until_closed();
  EXPECT_TRUE(end.closed()) << end.ec.message();
  hold->open();
}

}  // namespace
}  // namespace ignite::test
