// state_store_bench: what the embedded state store costs, for the closing note.
//
//   state_store_bench [dir=$TMPDIR] [txns=200] [keys=10000] [ranges=50]
//
// In a fresh store under `dir` (removed afterwards): the time of a txn() with one put
// (each is an fsync of the WAL: the disk's flush latency, not the CPU's), then the time
// of range("/apps/") over `keys` keys. Prints one `key=value` line per measure.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "routing/sqlite_store.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;
using namespace ignite::routing;

double micros(clock_type::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// p50, p99, max of `samples` in microseconds, as `name_p50_us=… …`.
void print_distribution(const char* name, std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  const auto at = [&](double q) {
    return samples[static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1))];
  };
  std::printf("%s_samples=%zu %s_p50_us=%.1f %s_p99_us=%.1f %s_max_us=%.1f\n", name, samples.size(), name, at(0.5),
              name, at(0.99), name, samples.back());
}

int run(const fs::path& dir, int txns, int keys, int ranges) {
  sqlite_store store(dir / "state.db");

  std::vector<double> put_samples;
  for (int i = 0; i < txns; ++i) {
    const auto start = clock_type::now();
    store.txn({}, {operation{operation::kind::put, "/bench/put", std::to_string(i)}});
    put_samples.push_back(micros(clock_type::now() - start));
  }
  print_distribution("txn_one_put", put_samples);

  // A few hundred bytes per value, like an app document.
  const std::string value(300, 'v');
  std::vector<operation> batch;
  for (int i = 0; i < keys; ++i) {
    char key[64];
    std::snprintf(key, sizeof key, "/apps/org-%03d/app-%05d", i % 100, i);
    batch.push_back(operation{operation::kind::put, key, value});
    if (batch.size() == 1000 || i + 1 == keys) {
      store.txn({}, batch);
      batch.clear();
    }
  }
  store.txn({}, {operation{operation::kind::put, "/other/x", "not in the range"}});

  std::vector<double> range_samples;
  std::size_t found = 0;
  for (int i = 0; i < ranges; ++i) {
    const auto start = clock_type::now();
    found = store.range("/apps/").size();
    range_samples.push_back(micros(clock_type::now() - start));
  }
  std::printf("range_keys=%zu\n", found);
  print_distribution("range_apps", range_samples);
  return found == static_cast<std::size_t>(keys) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path base = argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path();
  const int txns = argc > 2 ? std::atoi(argv[2]) : 200;
  const int keys = argc > 3 ? std::atoi(argv[3]) : 10'000;
  const int ranges = argc > 4 ? std::atoi(argv[4]) : 50;
  if (txns < 1 || keys < 1 || ranges < 1) {
    std::fprintf(stderr, "usage: state_store_bench [dir] [txns>0] [keys>0] [ranges>0]\n");
    return 2;
  }
  std::string tmpl = (base / "ignite-store-bench-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    std::perror("state_store_bench: mkdtemp");
    return 1;
  }
  const fs::path dir = tmpl;
  int rc = 1;
  try {
    rc = run(dir, txns, keys, ranges);
  } catch (const state_error& e) {
    std::fprintf(stderr, "state_store_bench: %s\n", e.what());
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return rc;
}
