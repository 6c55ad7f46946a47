// libFuzzer target: the config file, from bytes, as start-up and SIGHUP read it
// (parse_config_text: JSON, then every field validated), then the route table built
// from it. Only config_error (naming the field, or saying where the JSON is broken) may
// come out; anything else escaping is a crash. A config that is accepted
// must be usable: every app has its active version, every label is unique and routes
// to its app through its public host, and re-reading the same file is not a change.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "routing/config.hpp"
#include "routing/host.hpp"
#include "routing/route_table.hpp"

namespace {

using namespace ignite;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  routing::config cfg;
  try {
    cfg = routing::parse_config_text(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
  } catch (const routing::config_error& e) {
    check(std::string(e.what()).size() > e.field().size());  // a reason, not just a path
    return 0;
  }

  check(!cfg.domain.empty() && !cfg.state_file.empty());
  check(!cfg.listen.https || !cfg.tls.certificates.empty());
  check(cfg.limits.max_header_bytes >= 1024);
  const routing::route_table table(cfg);
  std::set<std::string> labels;
  for (const auto& app : cfg.apps) {
    check(app.active() != nullptr);
    check(labels.insert(app.label()).second);
    for (const auto& v : app.versions)
      check((!v.endpoints.empty()) + (!v.command.empty()) + (!v.image_ref.empty()) == 1);
    check(table.find(app.label()) && table.find(app.label())->spec.label() == app.label());
    // Whatever the config accepts as a domain, the app's public host reaches it.
    const auto host = app.label() + "." + cfg.domain;
    const auto label = routing::label_of_host(host, cfg.domain);
    check(label && label->view() == app.label());
  }
  check(table.apps().size() == cfg.apps.size());
  routing::check_versions_unchanged(cfg, cfg);  // the same file again is no change
  return 0;
}
