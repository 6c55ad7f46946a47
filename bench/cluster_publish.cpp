// cluster_publish: how long a publish made through one ingress node takes to serve on the
// others (bench/cluster.sh drives it).
//
//   cluster_publish RUNS ADMIN_ADDR:PORT BACKEND_ADDR:PORT PUBLIC_ADDR:PORT…
//
// The operator token comes from IGNITE_ADMIN_TOKEN. Each run creates a new app
// (acme-corp:pub-<pid>-<i>) through ADMIN with a draft served by BACKEND, publishes it,
// and then asks every PUBLIC listener for the app, every 200 µs, until it answers 200.
// Prints per run "run <i> publish_ms <ms> <public> <ms after the publish answered>…",
// then the median and the largest per public listener.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "blocking_http.hpp"

namespace {

using namespace bench;
using clock_type = std::chrono::steady_clock;

double ms(clock_type::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: cluster_publish RUNS ADMIN_ADDR:PORT BACKEND_ADDR:PORT PUBLIC_ADDR:PORT...\n");
    return 2;
  }
  const char* token_env = std::getenv("IGNITE_ADMIN_TOKEN");
  const std::string token = token_env ? token_env : "";
  const int runs = std::atoi(argv[1]);
  const address admin = parse(argv[2]);
  const std::string backend = argv[3];
  std::vector<std::string> publics(argv + 4, argv + argc);
  std::map<std::string, std::vector<double>> seen;
  std::vector<double> publish;
  for (int i = 0; i < runs; ++i) {
    const std::string name = "pub-" + std::to_string(::getpid()) + "-" + std::to_string(i);
    const std::string id = "acme-corp:" + name;
    std::string body;
    if (exchange(admin, request("POST", "/v1/apps", "admin", token, R"({"org":"acme-corp","name":")" + name + "\"}"),
                 &body) != 201 ||
        exchange(admin,
                 request("PUT", "/v1/apps/" + id + "/draft", "admin", token, R"({"endpoints":[")" + backend + "\"]}"),
                 &body) != 200) {
      std::fprintf(stderr, "cluster_publish: could not create %s: %s\n", id.c_str(), body.c_str());
      return 1;
    }
    const auto t0 = clock_type::now();
    if (exchange(admin, request("POST", "/v1/apps/" + id + "/draft/publish", "admin", token, ""), &body) != 201) {
      std::fprintf(stderr, "cluster_publish: publish %s failed: %s\n", id.c_str(), body.c_str());
      return 1;
    }
    const auto t1 = clock_type::now();
    publish.push_back(ms(t1 - t0));
    std::printf("run %d publish_ms %.2f", i, ms(t1 - t0));
    const std::string host = name + "-acme-corp.ignite.dodil.cloud";
    for (const auto& p : publics) {
      const address to = parse(p);
      const auto give_up = t1 + std::chrono::seconds(10);
      while (exchange(to, request("POST", "/", host, "", "{}")) != 200) {
        if (clock_type::now() > give_up) {
          std::fprintf(stderr, "\ncluster_publish: %s never served %s\n", p.c_str(), id.c_str());
          return 1;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      // Measured from the publish's answer; listeners are asked one after the other, so
      // a later one's number can only be larger than its own delay.
      const double visible = ms(clock_type::now() - t1);
      seen[p].push_back(visible);
      std::printf(" %s %.2f", p.c_str(), visible);
    }
    std::printf("\n");
  }
  auto summary = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return std::make_pair(v[v.size() / 2], v.back());
  };
  auto [pm, px] = summary(publish);
  std::printf("publish (answered by the node that took it): median %.2f ms, max %.2f ms\n", pm, px);
  for (const auto& [p, v] : seen) {
    auto [m, x] = summary(v);
    std::printf("serving on %s after the publish answered: median %.2f ms, max %.2f ms\n", p.c_str(), m, x);
  }
  return 0;
}
