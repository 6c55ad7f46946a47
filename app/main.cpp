// ignite-proxy: the Ignite ingress. `--config FILE` runs it; `--check-config` only
// validates the file.

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "app/server.hpp"
#include "routing/config.hpp"

namespace {

int usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: ignite-proxy --config FILE [--check-config]\n"
               "  --config FILE    the JSON config (see README.md, \"Configuration\")\n"
               "  --check-config   validate FILE and exit: 0 if usable, 1 naming the bad field\n");
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--config") && i + 1 < argc)
      config_path = argv[++i];
    else if (!std::strncmp(argv[i], "--config=", 9))
      config_path = argv[i] + 9;
    else if (!std::strcmp(argv[i], "--check-config"))
      check_only = true;
    else if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h"))
      return usage(0);
    else
      return usage(1);
  }
  if (config_path.empty()) return usage(1);

  ignite::routing::config cfg;
  try {
    cfg = ignite::routing::load_config_file(config_path);
  } catch (const ignite::routing::config_error& e) {
    std::fprintf(stderr, "ignite-proxy: invalid config %s: %s\n", config_path.c_str(), e.what());
    return 1;
  }
  if (check_only) {
    std::printf("%s: ok (%zu apps)\n", config_path.c_str(), cfg.apps.size());
    return 0;
  }
  try {
    ignite::app::server server(config_path, std::move(cfg));
    return server.run();
  } catch (const ignite::routing::config_error& e) {
    std::fprintf(stderr, "ignite-proxy: invalid config %s: %s\n", config_path.c_str(), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ignite-proxy: cannot start: %s\n", e.what());
    return 1;
  }
}
