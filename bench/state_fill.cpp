// state_fill: fills a state store with N apps through the control plane itself (create,
// save an endpoints draft, publish), so the store holds exactly what the API would have
// written, for measuring start-up and route rebuilds with many apps (bench/control_plane.sh).
// The store is opened without fsync: a fill is not what is measured.
//
//   state_fill <state_file> <secrets_key_file> <apps> <endpoint host:port>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "admin/control_plane.hpp"
#include "routing/sqlite_store.hpp"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: state_fill <state_file> <secrets_key_file> <apps> <endpoint host:port>\n");
    return 2;
  }
  using namespace ignite;
  routing::sqlite_store_options options;
  options.durable = false;
  routing::sqlite_store store(argv[1], options);
  admin::control_plane plane(store, admin::secret_box::from_key_file(argv[2]), {});
  const admin::principal op{true, {}, {}};
  const long apps = std::strtol(argv[3], nullptr, 10);
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < apps; ++i) {
    const std::string org = "org" + std::to_string(i / 100);
    const std::string name = "app" + std::to_string(i);
    plane.create_app(op, {{"org", org}, {"name", name}});
    plane.save_draft(op, org + ":" + name, {{"endpoints", {argv[4]}}});
    plane.publish(op, org + ":" + name);
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  std::printf("filled %ld apps in %lld ms\n", apps, static_cast<long long>(ms.count()));
  return 0;
}
