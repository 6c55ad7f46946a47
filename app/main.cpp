// ignite-proxy: the Ignite ingress. `--config FILE` runs it; `--check-config` only
// validates the file, with the same checks start-up makes.

#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include "app/server.hpp"
#include "common/version.hpp"
#include "proxy/certificate_set.hpp"
#include "routing/config.hpp"

namespace {

int usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: ignite-proxy --config FILE [--check-config]\n"
               "       ignite-proxy --version | --help\n"
               "\n"
               "The Ignite ingress: serves the apps of FILE at <name>-<org>.<domain>, starting their\n"
               "pods on demand. SIGHUP reloads FILE; SIGTERM or SIGINT drains and exits.\n"
               "\n"
               "  --config FILE    the JSON config (README.md, \"Configuration\")\n"
               "  --check-config   validate FILE as start-up would (fields, listen addresses, that\n"
               "                   every command can run, certificates) and exit: 0 if usable, 1\n"
               "                   naming the field\n"
               "  --version        print the version and exit\n"
               "  --help           print this and exit\n");
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--config") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (!std::strncmp(argv[i], "--config=", 9)) {
      config_path = argv[i] + 9;
    } else if (!std::strcmp(argv[i], "--check-config")) {
      check_only = true;
    } else if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      return usage(0);
    } else if (!std::strcmp(argv[i], "--version")) {
      std::printf("ignite-proxy %s\n", ignite::common::k_version);
      return 0;
    } else {
      std::fprintf(stderr, "ignite-proxy: unknown argument \"%s\"\n\n", argv[i]);
      return usage(2);
    }
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "ignite-proxy: --config FILE is required\n\n");
    return usage(2);
  }

  ignite::routing::config cfg;
  try {
    cfg = ignite::routing::load_config_file(config_path);
    if (check_only) {
      ignite::routing::check_commands(cfg);
      if (cfg.listen.https) {
        auto keys = std::make_shared<ignite::proxy::session_ticket_keys>(cfg.tls.ticket_key_rotation);
        ignite::proxy::certificate_set certificates(cfg.tls.certificates, keys);
      }
    }
  } catch (const ignite::proxy::tls_error& e) {
    std::fprintf(stderr, "ignite-proxy: invalid config %s: %s\n", config_path.c_str(), e.what());
    return 1;
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
