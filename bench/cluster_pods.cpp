// cluster_pods: what sharing pods across ingress nodes costs (bench/cluster.sh drives it).
//
//   cluster_pods RUNS REQUESTS ADMIN_ADDR:PORT GREETER_BIN PUBLIC_A:PORT PUBLIC_B:PORT
//
// The operator token comes from IGNITE_ADMIN_TOKEN.
// Cold: RUNS times, a new app (acme-corp:cold-<pid>-<i>) whose pod is the greeter with a
// 200 ms boot is published through ADMIN; a request goes to node A, and 20 ms later one
// to node B. A claims the start and hosts the pod; B holds its request until the pod
// registers, then sends it there. Printed: A's cold start, B's wait, and how long after
// A's answer B's came (the handoff: etcd's watch, then B's connect to the pod).
// Warm: REQUESTS requests on one keep-alive connection to A (a local pod) and as many to
// B (the same pod, on A's host), interleaved in blocks of 100; median and p99 of each.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "blocking_http.hpp"

namespace {

using namespace bench;
using clock_type = std::chrono::steady_clock;

double ms(clock_type::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

bool create(const address& admin, const std::string& token, const std::string& name, const std::string& greeter) {
  const std::string id = "acme-corp:" + name;
  std::string body;
  const std::string command = R"({"command":["/usr/bin/env","GREETER_START_DELAY_MS=200",")" + greeter + "\"]}";
  if (exchange(admin, request("POST", "/v1/apps", "admin", token, R"({"org":"acme-corp","name":")" + name + "\"}"),
               &body) == 201 &&
      exchange(admin, request("PUT", "/v1/apps/" + id + "/draft", "admin", token, command), &body) == 200 &&
      exchange(admin, request("POST", "/v1/apps/" + id + "/draft/publish", "admin", token, ""), &body) == 201)
    return true;
  std::fprintf(stderr, "cluster_pods: could not publish %s: %s\n", id.c_str(), body.c_str());
  return false;
}

// POST / for `host` until the node knows the app (not 404); the status and when it came.
int call(const address& node, const std::string& host, clock_type::time_point& sent, clock_type::time_point& done) {
  for (;;) {
    sent = clock_type::now();
    const int status = exchange(node, request("POST", "/", host, "", "{}"));
    done = clock_type::now();
    if (status != 404) return status;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: cluster_pods RUNS REQUESTS ADMIN_ADDR:PORT GREETER_BIN PUBLIC_A PUBLIC_B\n");
    return 2;
  }
  const char* token_env = std::getenv("IGNITE_ADMIN_TOKEN");
  const std::string token = token_env ? token_env : "";
  const int runs = std::atoi(argv[1]);
  const int requests = std::atoi(argv[2]);
  const address admin = parse(argv[3]);
  const std::string greeter = argv[4];
  const address a = parse(argv[5]), b = parse(argv[6]);

  std::vector<double> cold_a, wait_b, handoff;
  std::string last;
  for (int i = 0; i < runs; ++i) {
    const std::string name = "cold-" + std::to_string(::getpid()) + "-" + std::to_string(i);
    if (!create(admin, token, name, greeter)) return 1;
    last = name + "-acme-corp.ignite.dodil.cloud";
    clock_type::time_point a_sent, a_done, b_sent, b_done;
    int a_status = 0, b_status = 0;
    std::thread on_a([&] { a_status = call(a, last, a_sent, a_done); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // A's request is first
    b_status = call(b, last, b_sent, b_done);
    on_a.join();
    if (a_status != 200 || b_status != 200) {
      std::fprintf(stderr, "cluster_pods: run %d: A answered %d, B %d\n", i, a_status, b_status);
      return 1;
    }
    cold_a.push_back(ms(a_done - a_sent));
    wait_b.push_back(ms(b_done - b_sent));
    handoff.push_back(ms(b_done - a_done));
    std::printf("run %d cold_start_on_A_ms %.2f held_on_B_ms %.2f B_after_A_ms %.2f\n", i, cold_a.back(), wait_b.back(),
                handoff.back());
  }
  std::printf("cold start (200 ms boot) answered by A, the node that started the pod: median %.2f ms\n",
              percentile(cold_a, 0.5));
  std::printf(
      "the same cold start held on B, which did not: median %.2f ms; B answered %.2f ms after A (median, max %.2f)\n",
      percentile(wait_b, 0.5), percentile(handoff, 0.5), percentile(handoff, 1.0));

  // Warm: the last app's pod runs on A.
  keep_alive to_a(a), to_b(b);
  const std::string req = request("POST", "/", last, "", "{}", false);
  std::vector<double> local, remote;
  for (int done = 0; done < requests; done += 100) {
    for (auto [conn, out] : {std::pair{&to_a, &local}, std::pair{&to_b, &remote}}) {
      for (int k = 0; k < 100; ++k) {
        const auto t0 = clock_type::now();
        if (conn->exchange(req) != 200) {
          std::fprintf(stderr, "cluster_pods: a warm request failed\n");
          return 1;
        }
        out->push_back(ms(clock_type::now() - t0) * 1000.0);
      }
    }
  }
  std::printf("warm request through A to its local pod: median %.1f us, p99 %.1f us\n", percentile(local, 0.5),
              percentile(local, 0.99));
  std::printf("warm request through B to the pod on A's host: median %.1f us, p99 %.1f us\n", percentile(remote, 0.5),
              percentile(remote, 0.99));
  return 0;
}
