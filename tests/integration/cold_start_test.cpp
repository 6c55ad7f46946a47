// Cold starts end to end: the real ignite-proxy running the real greeter as a command
// version (a child process per pod), driven by real clients over loopback. Pods are
// counted from the proxy's pod_output lines ("greeter listening on …", one per pod id)
// and found in /proc as the proxy's children; every wait is on a condition, capped.
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/beast/core/error.hpp>
#include "support/process_table.hpp"
#include "support/proxy_process.hpp"
#include "support/raw_client.hpp"
#include "support/raw_response.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_until.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr std::string_view k_host = "greeter-acme-corp.ignite.dodil.cloud";
// Caps for waits that normally end in milliseconds; a test only runs this long when it
// is failing.
constexpr std::chrono::milliseconds k_cap{5000};

// ---- config ---------------------------------------------------------------------------

// A command version that runs the greeter with `env` ("NAME=value") added to what the
// proxy gives it (PORT, IGNITE_APP_ID, IGNITE_VERSION).
json greeter_version(unsigned version, std::vector<std::string> env = {}) {
  std::vector<std::string> argv{"/usr/bin/env"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.emplace_back(IGNITE_GREETER_BIN);
  return {{"version", version}, {"command", argv}};
}

// acme-corp/greeter with `versions`, `active` active, `scaling` (only the keys given).
json greeter_app(json versions, json scaling = json::object(), unsigned active = 1) {
  return {{"org", "acme-corp"},
          {"name", "greeter"},
          {"active_version", active},
          {"versions", std::move(versions)},
          {"scaling", std::move(scaling)}};
}

// A whole config: http on 127.0.0.1:0, one worker thread, `limits` (only the keys given;
// the drain after SIGTERM is kept short, so that a test's end never waits long on it).
json proxy_config(json app, json limits = json::object()) {
  if (!limits.contains("drain_timeout_ms")) limits["drain_timeout_ms"] = 2000;
  return {{"domain", "ignite.dodil.cloud"},
          {"listen", {{"http", "127.0.0.1:0"}}},
          {"threads", 1},
          {"limits", std::move(limits)},
          {"apps", json::array({std::move(app)})}};
}

// ---- clients --------------------------------------------------------------------------

std::string greeting_request() {
  std::string r = "POST / HTTP/1.1\r\n";
  r += "Host: " + std::string(k_host) + "\r\n";
  r += "Content-Length: 0\r\n\r\n";
  return r;
}

// One request on its own connection, and what became of it.
struct outcome {
  std::optional<raw_response> response;
  std::string failure;  // why there is no response
  steady::time_point sent_at{};
  steady::time_point done_at{};

  unsigned status() const { return response ? response->status : 0; }
  std::string header(std::string_view name) const {
    return response ? response->headers.get(name).value_or("<none>") : "<no response>";
  }
  std::string describe() const {
    if (!response) return "no response: " + failure;
    return std::to_string(response->status) + "\n" + response->headers.to_string() + response->body;
  }
};

// Sends on `client` (already connected) and reads the answer.
void exchange(raw_client& client, outcome& o) {
  o.sent_at = steady::now();
  if (auto ec = client.send(greeting_request())) {
    o.failure = "send: " + ec.message();
  } else {
    o.response = client.read_response();
    if (!o.response) o.failure = "read: " + client.last_error().message();
  }
  o.done_at = steady::now();
}

outcome post_once(std::uint16_t port, std::chrono::milliseconds cap = k_cap) {
  outcome o;
  o.sent_at = steady::now();
  try {
    raw_client client(port, cap);
    exchange(client, o);
  } catch (const std::exception& e) {
    o.failure = e.what();
    o.done_at = steady::now();
  }
  return o;
}

// `n` clients connect first, then all send at once, so the requests reach the proxy
// together rather than trickling in as threads start.
std::vector<outcome> post_concurrently(std::uint16_t port, std::size_t n) {
  std::vector<outcome> outcomes(n);
  std::latch connected(static_cast<std::ptrdiff_t>(n));
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      std::unique_ptr<raw_client> client;
      try {
        client = std::make_unique<raw_client>(port, k_cap);
      } catch (const std::exception& e) {
        outcomes[i].failure = e.what();
      }
      connected.arrive_and_wait();
      if (client) exchange(*client, outcomes[i]);
    });
  }
  for (auto& t : threads) t.join();
  return outcomes;
}

// Client threads that each send requests one after another, each on a new connection,
// until stopped. Every outcome is kept.
class steady_load {
 public:
  steady_load(std::uint16_t port, unsigned threads) {
    for (unsigned i = 0; i < threads; ++i)
      threads_.emplace_back([this, port] {
        while (!stop_) {
          auto o = post_once(port);
          std::lock_guard lock(mutex_);
          outcomes_.push_back(std::move(o));
        }
      });
  }
  ~steady_load() { stop(); }

  void stop() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  std::vector<outcome> outcomes() const {
    std::lock_guard lock(mutex_);
    return outcomes_;
  }
  // Requests sent at or after `t` that have their outcome.
  std::size_t completed_since(steady::time_point t) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(outcomes_.begin(), outcomes_.end(), [&](const outcome& o) { return o.sent_at >= t; }));
  }

 private:
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<outcome> outcomes_;
  std::vector<std::thread> threads_;
};

std::map<unsigned, int> status_counts(const std::vector<outcome>& outcomes) {
  std::map<unsigned, int> counts;
  for (const auto& o : outcomes) ++counts[o.status()];
  return counts;
}

std::string describe(const std::map<unsigned, int>& counts) {
  std::string s;
  for (auto [status, n] : counts)
    s += (status ? std::to_string(status) : std::string("none")) + "×" + std::to_string(n) + " ";
  return s;
}

// The {"error":{…}} body of a proxy-made answer with `status` and `code`; nullopt (with
// a failure recorded) when the answer is something else.
std::optional<json> proxy_error(const outcome& o, unsigned status, std::string_view code) {
  if (!o.response) {
    ADD_FAILURE() << "expected " << status << " " << code << ", got " << o.describe();
    return std::nullopt;
  }
  const auto& r = *o.response;
  EXPECT_EQ(r.status, status) << o.describe();
  EXPECT_EQ(r.headers.get("x-ignite-error").value_or("<none>"), "proxy") << o.describe();
  const auto body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("error") || !body["error"].is_object() ||
      !body["error"].contains("message") || !body["error"]["message"].is_string()) {
    ADD_FAILURE() << "not a proxy error body: " << o.describe();
    return std::nullopt;
  }
  EXPECT_EQ(body["error"].value("code", ""), code) << o.describe();
  EXPECT_EQ(body["error"].value("execution_id", ""), r.headers.get("x-ignite-execution-id").value_or("<none>"))
      << o.describe();
  return body["error"];
}

// ---- processes ------------------------------------------------------------------------

// ---- the proxy's log ------------------------------------------------------------------

// A pod's "greeter listening on HOST:PORT at <us> app_id=… version=…" line.
struct listening_pod {
  std::uint64_t pod = 0;
  std::string version;          // as the proxy logged it
  std::string listening_at_us;  // equals the x-greeter-listening-at-us of its answers
};

std::vector<listening_pod> listening_pods(const proxy_process& proxy) {
  std::vector<listening_pod> pods;
  for (const auto& text : proxy.lines()) {
    const auto j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || j.value("event", "") != "pod_output" || !j.contains("line") || !j["line"].is_string())
      continue;
    const std::string line = j["line"];
    if (!line.starts_with("greeter listening on ")) continue;
    listening_pod p;
    p.pod = j.value("pod", std::uint64_t{0});
    p.version =
        j.contains("version") ? (j["version"].is_string() ? j["version"].get<std::string>() : j["version"].dump()) : "";
    std::istringstream words(line.substr(line.find(" at ") + 4));
    words >> p.listening_at_us;
    pods.push_back(std::move(p));
  }
  return pods;
}

std::set<std::uint64_t> pod_ids(const std::vector<listening_pod>& pods) {
  std::set<std::uint64_t> ids;
  for (const auto& p : pods) ids.insert(p.pod);
  return ids;
}

bool is_pod_line_containing(const json& j, std::string_view text) {
  return j.value("event", "") == "pod_output" && j.contains("line") && j["line"].is_string() &&
         j["line"].get<std::string>().find(text) != std::string::npos;
}

// The requests held now, by the `ignite_held_requests` gauge on the admin listener at
// `admin_port` (summed over versions); -1 if it cannot be read.
int held_requests(std::uint16_t admin_port) {
  try {
    raw_client c(admin_port, k_cap);
    if (c.send("GET /metrics HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n")) return -1;
    auto r = c.read_response();
    if (!r || r->status != 200) return -1;
    int held = 0;
    std::istringstream lines(r->body);
    for (std::string line; std::getline(lines, line);)
      if (line.starts_with("ignite_held_requests{")) held += std::stoi(line.substr(line.rfind(' ') + 1));
    return held;
  } catch (const std::exception&) {
    return -1;
  }
}

// ---- fixture --------------------------------------------------------------------------

class cold_start : public ::testing::Test {
 protected:
  void start_proxy(const json& config) {
    proxy_ = std::make_unique<proxy_process>(IGNITE_PROXY_BIN, config);
    if (!proxy_->wait_listening(k_cap))
      throw std::runtime_error("the proxy did not log its http listening line; output:\n" + proxy_->output());
  }

  proxy_process& proxy() { return *proxy_; }
  std::uint16_t port() const { return proxy_->port(); }

  // The proxy's pods now; remembered so that TearDown can make sure they are gone.
  std::vector<process_info> pods() {
    auto now = children_of(proxy_->pid());
    for (const auto& p : now)
      if (std::none_of(seen_.begin(), seen_.end(), [&](const auto& s) { return s.pid == p.pid; })) seen_.push_back(p);
    return now;
  }

  // Waits until the proxy has exactly `n` pods, and returns them.
  std::vector<process_info> wait_for_pods(std::size_t n) {
    std::vector<process_info> now;
    wait_until([&] { return (now = pods()).size() == n; }, k_cap);
    return now;
  }

  void TearDown() override {
    if (!proxy_) return;
    if (HasFailure()) std::cerr << "---- proxy output ----\n" << proxy_->output() << "----------------------\n";
    pods();
    proxy_->terminate(k_cap);
    proxy_.reset();  // SIGKILLs it if SIGTERM did not end it; its pods die with it
    if (!wait_until([&] { return !any_running(seen_); }, k_cap)) {
      ADD_FAILURE() << "pods outlived the proxy: " << pids(seen_);
      for (const auto& p : seen_)
        if (is_running(p)) ::kill(p.pid, SIGKILL);
    }
  }

  std::unique_ptr<proxy_process> proxy_;
  std::vector<process_info> seen_;
};

// ---- tests ----------------------------------------------------------------------------

TEST_F(cold_start, first_request_starts_a_pod_and_the_second_finds_it_warm) {
  start_proxy(proxy_config(greeter_app(json::array({greeter_version(1)})), {{"cold_start_timeout_ms", 5000}}));
  EXPECT_TRUE(pods().empty()) << "reserved_capacity 0: no pod before the first request";

  const auto first = post_once(port());
  ASSERT_EQ(first.status(), 200u) << first.describe();
  EXPECT_EQ(first.header("x-ignite-cold-start"), "true") << first.describe();
  EXPECT_NE(first.response->body.find("Hello, world!"), std::string::npos) << first.describe();
  EXPECT_EQ(first.header("x-greeter-version"), "1") << first.describe();

  const auto second = post_once(port());
  ASSERT_EQ(second.status(), 200u) << second.describe();
  EXPECT_EQ(second.header("x-ignite-cold-start"), "false") << second.describe();
  EXPECT_EQ(second.header("x-greeter-listening-at-us"), first.header("x-greeter-listening-at-us"))
      << "the second request went to another pod";
  EXPECT_EQ(pod_ids(listening_pods(proxy())).size(), 1u);
}

TEST_F(cold_start, a_burst_during_one_cold_start_is_held_and_served_by_one_pod) {
  constexpr std::size_t k_requests = 120;
  start_proxy(proxy_config(greeter_app(json::array({greeter_version(1, {"GREETER_START_DELAY_MS=300"})}),
                                       {{"container_concurrency", 0}, {"max_replicas", 4}}),
                           {{"cold_start_timeout_ms", 5000}}));

  const auto outcomes = post_concurrently(port(), k_requests);

  const auto counts = status_counts(outcomes);
  EXPECT_EQ(counts.size(), 1u) << describe(counts);
  EXPECT_EQ(counts.count(200) ? counts.at(200) : 0, static_cast<int>(k_requests)) << describe(counts);
  std::set<std::string> served_by;
  int cold = 0;
  for (const auto& o : outcomes) {
    if (o.status() != 200) continue;
    served_by.insert(o.header("x-greeter-listening-at-us"));
    cold += o.header("x-ignite-cold-start") == "true";
  }
  EXPECT_EQ(cold, static_cast<int>(k_requests)) << "every request arrived during the 300 ms start";
  EXPECT_EQ(served_by.size(), 1u) << "container_concurrency 0: one pod takes the whole burst";
  EXPECT_EQ(pod_ids(listening_pods(proxy())).size(), 1u);
}

TEST_F(cold_start, a_full_hold_queue_answers_503_overloaded_with_retry_after) {
  constexpr std::size_t k_requests = 20;
  constexpr int k_max_held = 5;
  start_proxy(proxy_config(greeter_app(json::array({greeter_version(1, {"GREETER_START_DELAY_MS=300"})})),
                           {{"cold_start_timeout_ms", 5000}, {"max_held_requests", k_max_held}}));

  const auto outcomes = post_concurrently(port(), k_requests);

  const auto counts = status_counts(outcomes);
  const int ok = counts.count(200) ? counts.at(200) : 0;
  const int overloaded = counts.count(503) ? counts.at(503) : 0;
  EXPECT_EQ(ok + overloaded, static_cast<int>(k_requests))
      << "every request is answered 200 or 503: " << describe(counts);
  EXPECT_GE(ok, k_max_held) << "the held requests are served: " << describe(counts);
  EXPECT_GE(overloaded, 1) << "20 requests cannot all be held by a queue of 5: " << describe(counts);
  for (const auto& o : outcomes) {
    if (o.status() != 503) continue;
    proxy_error(o, 503, "overloaded");
    EXPECT_TRUE(o.response->headers.has("Retry-After")) << o.describe();
  }
}

TEST_F(cold_start, a_burst_at_a_pod_with_a_small_listen_backlog_waits_in_the_proxy_not_in_syn_retransmits) {
  // One connection at a time, a backlog of 5, a millisecond of work per request: 60
  // requests at once would overflow its accept queue, and a dropped SYN waits a second
  // or more for the kernel to send it again. The proxy keeps its connects within what
  // the pod takes, so each request is served well inside cold_start_timeout_ms.
  constexpr std::size_t k_requests = 60;
  json version = {
      {"version", 1},
      {"command", {"/usr/bin/env", "SERIAL_POD_BACKLOG=5", "SERIAL_POD_WORK_US=1000", IGNITE_SERIAL_POD_BIN}}};
  start_proxy(proxy_config(greeter_app(json::array({version}), {{"max_replicas", 1}}),
                           {{"cold_start_timeout_ms", 1500}, {"max_held_requests", 1000}}));

  const auto outcomes = post_concurrently(port(), k_requests);

  const auto counts = status_counts(outcomes);
  EXPECT_EQ(counts.count(200) ? counts.at(200) : 0, static_cast<int>(k_requests)) << describe(counts);
}

TEST_F(cold_start, clients_that_give_up_during_a_hold_leave_the_queue) {
  constexpr int k_max_held = 3;
  auto config = proxy_config(greeter_app(json::array({greeter_version(1, {"GREETER_NEVER_LISTEN=1"})})),
                             {{"cold_start_timeout_ms", 30000}, {"max_held_requests", k_max_held}});
  config["listen"]["admin"] = "127.0.0.1:0";
  start_proxy(config);
  auto admin = proxy().wait_admin_listening(k_cap);
  ASSERT_TRUE(admin) << proxy().output();
  // Fill the hold queue one request at a time, each seen held before the next is sent:
  // with several workers, a later request could otherwise be queued first.
  std::vector<std::unique_ptr<raw_client>> leaving;
  for (int i = 0; i < k_max_held; ++i) {
    leaving.push_back(std::make_unique<raw_client>(port(), k_cap));
    ASSERT_FALSE(leaving.back()->send(greeting_request()));
    ASSERT_TRUE(wait_until([&] { return held_requests(*admin) == i + 1; }, k_cap))
        << "request " << i + 1 << " was never held\n"
        << proxy().output();
  }
  ASSERT_TRUE(wait_until(
      [&] {
        auto o = post_once(port(), 300ms);
        return o.status() == 503 && o.response->body.find("overloaded") != std::string::npos;
      },
      k_cap))
      << "the queue never filled up";
  for (auto& c : leaving) c->close();

  // A new client is held, not refused: it gets no answer while the pod never listens.
  ASSERT_TRUE(wait_until(
      [&] {
        raw_client c(port(), 300ms);
        if (c.send(greeting_request())) return false;
        auto r = c.read_response();
        return !r && c.last_error() == boost::beast::error::timeout;
      },
      k_cap))
      << "clients that left still fill the hold queue\n"
      << proxy().output();
  // And each that left was logged as having left.
  EXPECT_TRUE(proxy().wait_for_line(
      [](const json& j) { return j.value("event", "") == "request" && j.value("error", "") == "client_closed"; },
      k_cap));
}

TEST_F(cold_start, a_pod_exiting_before_listening_fails_fast_with_its_status_and_stderr) {
  start_proxy(proxy_config(greeter_app(json::array({greeter_version(1, {"GREETER_EXIT_BEFORE_LISTEN=3"})})),
                           {{"cold_start_timeout_ms", 20000}}));

  const auto o = post_once(port(), 10s);
  const auto waited = o.done_at - o.sent_at;

  const auto error = proxy_error(o, 503, "pod_start_failed");
  ASSERT_TRUE(error);
  const std::string message = (*error)["message"];
  EXPECT_NE(message.find("exited with status 3"), std::string::npos) << message;
  // The public answer names what happened, never the pod's output or a local path.
  EXPECT_EQ(message.find("GREETER_EXIT_BEFORE_LISTEN"), std::string::npos) << message;
  EXPECT_EQ(message.find('/'), std::string::npos) << message;
  EXPECT_LT(waited, 5s) << "a dead pod is reported at once, not at cold_start_timeout_ms (20 s)";
  // The details go to the log line that carries the same execution id.
  const std::string id = (*error)["execution_id"];
  const auto line = proxy().wait_for_line(
      [&](const json& j) { return j.value("event", "") == "request" && j.value("execution_id", "") == id; }, 5s);
  ASSERT_TRUE(line) << proxy().output();
  const std::string detail = line->value("error_detail", "");
  EXPECT_NE(detail.find("greeter: exiting with code 3 before listening (GREETER_EXIT_BEFORE_LISTEN)"),
            std::string::npos)
      << "the log carries the pod's last stderr line: " << detail;
}

TEST_F(cold_start, a_pod_that_never_listens_times_out_at_cold_start_timeout) {
  start_proxy(proxy_config(greeter_app(json::array({greeter_version(1, {"GREETER_NEVER_LISTEN=1"})})),
                           {{"cold_start_timeout_ms", 500}}));

  const auto o = post_once(port());
  const auto waited = o.done_at - o.sent_at;

  const auto error = proxy_error(o, 504, "cold_start_timeout");
  ASSERT_TRUE(error);
  const std::string message = (*error)["message"];
  EXPECT_TRUE(message.starts_with("no pod listened on $PORT within 500 ms")) << message;
  EXPECT_GE(waited, 490ms) << "answered before the bound";
  EXPECT_LT(waited, 2500ms) << "answered long after the bound";
}

// Not in the list: pool_settings::cold_start_timeout promises that a pod which
// has not listened within it, with nobody waiting, is stopped rather than left running.
TEST_F(cold_start, a_pod_that_never_listens_is_stopped_after_cold_start_timeout) {
  start_proxy(proxy_config(greeter_app(json::array({greeter_version(1, {"GREETER_NEVER_LISTEN=1"})})),
                           {{"cold_start_timeout_ms", 1000}}));
  // The pod is seen while the request is held: once the 504 is out it may be gone.
  raw_client client(port(), k_cap);
  ASSERT_FALSE(client.send(greeting_request()));
  const auto running = wait_for_pods(1);
  ASSERT_EQ(running.size(), 1u) << "the pod that was started for the request";
  outcome o;
  o.response = client.read_response();
  if (!o.response) o.failure = "read: " + client.last_error().message();
  proxy_error(o, 504, "cold_start_timeout");

  EXPECT_TRUE(wait_until([&] { return !any_running(running); }, 3s))
      << "a pod that never listened is still running 3 s after cold_start_timeout_ms (1 s): " << pids(running);
}

TEST_F(cold_start, container_concurrency_one_scales_out_up_to_max_replicas) {
  start_proxy(proxy_config(
      // Each answer takes a second, so the requests overlap even when a loaded machine
      // delivers them some hundreds of milliseconds apart.
      greeter_app(json::array({greeter_version(1, {"GREETER_RESPONSE_DELAY_MS=1000"})}),
                  {{"container_concurrency", 1}, {"max_replicas", 3}}),
      {{"cold_start_timeout_ms", 5000}}));

  const auto three = post_concurrently(port(), 3);
  std::set<std::string> served_by;
  for (const auto& o : three) {
    EXPECT_EQ(o.status(), 200u) << o.describe();
    served_by.insert(o.header("x-greeter-listening-at-us"));
  }
  EXPECT_EQ(served_by.size(), 3u) << "3 concurrent requests at concurrency 1 need 3 pods";
  EXPECT_EQ(pod_ids(listening_pods(proxy())).size(), 3u);

  const auto six = post_concurrently(port(), 6);
  for (const auto& o : six) {
    EXPECT_EQ(o.status(), 200u) << o.describe();
    served_by.insert(o.header("x-greeter-listening-at-us"));
  }
  EXPECT_EQ(pod_ids(listening_pods(proxy())).size(), 3u) << "max_replicas 3";
  EXPECT_EQ(served_by.size(), 3u) << "every answer came from one of the 3 pods";
  EXPECT_EQ(pods().size(), 3u);
}

TEST_F(cold_start, a_pod_crashing_under_load_is_replaced) {
  // The first pod crashes after 10 answers; the pods that replace it do not (a marker
  // file tells them apart), so what follows the crash can be checked without another.
  const temp_dir dir("ignite-cs");
  const auto marker = (dir.path() / "crashed-once").string();
  json version = {{"version", 1},
                  {"command",
                   {"/bin/sh", "-c",
                    "if [ -e \"$1\" ]; then exec /usr/bin/env GREETER_RESPONSE_DELAY_MS=20 \"$2\"; fi; : > \"$1\"; "
                    "exec /usr/bin/env GREETER_RESPONSE_DELAY_MS=20 GREETER_EXIT_AFTER_REQUESTS=10 \"$2\"",
                    "pod", marker, IGNITE_GREETER_BIN}}};
  start_proxy(proxy_config(greeter_app(json::array({version})), {{"cold_start_timeout_ms", 5000}}));

  steady_load load(port(), 4);
  const auto crashed = proxy().wait_for_line(
      [](const json& j) { return is_pod_line_containing(j, "(GREETER_EXIT_AFTER_REQUESTS)"); }, k_cap);
  ASSERT_TRUE(crashed) << "the first pod did not crash";
  const auto first_pod = crashed->value("pod", std::uint64_t{0});
  const bool replaced = wait_until(
      [&] {
        const auto ids = pod_ids(listening_pods(proxy()));
        return std::any_of(ids.begin(), ids.end(), [&](auto id) { return id != first_pod; });
      },
      k_cap);
  const auto after_replacement = steady::now();
  if (replaced) wait_until([&] { return load.completed_since(after_replacement) >= 20; }, k_cap);
  load.stop();
  ASSERT_TRUE(replaced) << "no pod replaced the crashed one";

  std::string first_listening_at;
  for (const auto& p : listening_pods(proxy()))
    if (p.pod == first_pod) first_listening_at = p.listening_at_us;
  const auto outcomes = load.outcomes();
  std::size_t later = 0;
  for (const auto& o : outcomes) {
    if (o.sent_at >= after_replacement) {
      ++later;
      EXPECT_EQ(o.status(), 200u) << "sent after the new pod listened: " << o.describe();
      EXPECT_NE(o.header("x-greeter-listening-at-us"), first_listening_at) << "answered by the crashed pod";
    } else if (o.status() != 200) {
      // In flight on the pod when it crashed: the proxy may only say so.
      if (o.status() == 502)
        proxy_error(o, 502, "upstream_error");
      else
        ADD_FAILURE() << "expected 200, or 502 for a request on the crashing pod: " << o.describe();
    }
  }
  EXPECT_GE(later, 20u) << "too few requests after the crash to tell: " << describe(status_counts(outcomes));
}

TEST_F(cold_start, switching_versions_under_load_fails_no_request) {
  auto config = [](unsigned active) {
    return proxy_config(greeter_app(json::array({greeter_version(1, {"GREETER_RESPONSE_DELAY_MS=5"}),
                                                 greeter_version(2, {"GREETER_RESPONSE_DELAY_MS=5"})}),
                                    json::object(), active),
                        {{"cold_start_timeout_ms", 5000}});
  };
  start_proxy(config(1));
  const auto warm = post_once(port());
  ASSERT_EQ(warm.status(), 200u) << warm.describe();
  const auto v1_pods = wait_for_pods(1);
  ASSERT_EQ(v1_pods.size(), 1u);

  steady_load load(port(), 4);
  const auto before_reload = steady::now();
  wait_until([&] { return load.completed_since(before_reload) >= 20; }, k_cap);
  const auto from = proxy().reload(config(2));
  const bool reloaded = proxy().wait_for_event("reloaded", k_cap, from).has_value();
  const auto after_reload = steady::now();
  if (reloaded) wait_until([&] { return load.completed_since(after_reload) >= 30; }, k_cap);
  load.stop();
  ASSERT_TRUE(reloaded) << "no reloaded line";

  const auto outcomes = load.outcomes();
  std::size_t later = 0;
  for (const auto& o : outcomes) {
    EXPECT_EQ(o.status(), 200u) << o.describe();
    if (o.sent_at >= after_reload) {
      ++later;
      EXPECT_EQ(o.header("x-greeter-version"), "2") << "sent after the reloaded line: " << o.describe();
    }
  }
  EXPECT_GE(later, 30u) << describe(status_counts(outcomes));
  const auto versions = listening_pods(proxy());
  EXPECT_TRUE(std::any_of(versions.begin(), versions.end(), [](const auto& p) { return p.version == "2"; }));
  EXPECT_TRUE(wait_until([&] { return !any_running(v1_pods); }, k_cap))
      << "version 1's pod still runs after the switch: " << pids(v1_pods);
}

TEST_F(cold_start, an_idle_pod_scales_to_zero) {
  start_proxy(proxy_config(greeter_app(json::array({greeter_version(1)}), {{"idle_timeout_ms", 300}}),
                           {{"cold_start_timeout_ms", 5000}}));
  const auto first = post_once(port());
  ASSERT_EQ(first.status(), 200u) << first.describe();
  const auto running = pods();
  ASSERT_EQ(running.size(), 1u);

  EXPECT_TRUE(wait_until([&] { return !any_running(running); }, k_cap))
      << "the pod is still running long after idle_timeout_ms (300 ms): " << pids(running);

  const auto again = post_once(port());
  ASSERT_EQ(again.status(), 200u) << again.describe();
  EXPECT_EQ(again.header("x-ignite-cold-start"), "true") << "scaled to zero, so this is a cold start again";
  EXPECT_NE(again.header("x-greeter-listening-at-us"), first.header("x-greeter-listening-at-us"));
}

TEST_F(cold_start, reserved_capacity_keeps_a_pod_warm_without_traffic) {
  start_proxy(
      proxy_config(greeter_app(json::array({greeter_version(1)}), {{"reserved_capacity", 1}, {"idle_timeout_ms", 300}}),
                   {{"cold_start_timeout_ms", 5000}}));
  ASSERT_TRUE(
      proxy().wait_for_line([](const json& j) { return is_pod_line_containing(j, "greeter listening on"); }, k_cap))
      << "no pod started without a request";
  const auto reserved = wait_for_pods(1);
  ASSERT_EQ(reserved.size(), 1u);

  // A condition that must not come true: capped at several idle timeouts.
  EXPECT_FALSE(wait_until([&] { return !any_running(reserved); }, 1200ms))
      << "the reserved pod was stopped when it idled";

  const auto o = post_once(port());
  ASSERT_EQ(o.status(), 200u) << o.describe();
  EXPECT_EQ(o.header("x-ignite-cold-start"), "false") << "the reserved pod was ready";
  const auto started = listening_pods(proxy());
  ASSERT_EQ(started.size(), 1u) << "one pod only, ever";
  EXPECT_EQ(o.header("x-greeter-listening-at-us"), started.front().listening_at_us);
}

TEST_F(cold_start, sigterm_stops_every_pod_before_the_proxy_exits) {
  start_proxy(proxy_config(greeter_app(json::array({greeter_version(1)}), {{"reserved_capacity", 2}}),
                           {{"cold_start_timeout_ms", 5000}}));
  const auto running = wait_for_pods(2);
  ASSERT_EQ(running.size(), 2u);
  ASSERT_TRUE(wait_until([&] { return pod_ids(listening_pods(proxy())).size() == 2; }, k_cap));

  const auto exit = proxy().terminate(k_cap);
  ASSERT_TRUE(exit) << "the proxy did not exit after SIGTERM";
  EXPECT_TRUE(exit->succeeded()) << "exit code " << exit->code << ", signal " << exit->signal;
  EXPECT_TRUE(proxy().wait_for_event("stopped", 0ms).has_value());
  // The proxy waits for its pods before exiting: none may be left for even a moment.
  EXPECT_FALSE(any_running(running)) << "pods still running after the proxy exited: " << pids(running);
  EXPECT_TRUE(children_of(proxy().pid()).empty());
}

TEST_F(cold_start, sigkill_of_the_proxy_leaves_no_pod_behind) {
  start_proxy(proxy_config(greeter_app(json::array({greeter_version(1)}), {{"reserved_capacity", 2}}),
                           {{"cold_start_timeout_ms", 5000}}));
  const auto running = wait_for_pods(2);
  ASSERT_EQ(running.size(), 2u);

  proxy().send_signal(SIGKILL);
  const auto exit = proxy().wait_exit(k_cap);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->signal, SIGKILL);
  EXPECT_TRUE(wait_until([&] { return !any_running(running); }, k_cap))
      << "pods outlived a SIGKILLed proxy: " << pids(running);
}

}  // namespace
}  // namespace ignite::test
