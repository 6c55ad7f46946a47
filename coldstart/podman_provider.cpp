#include "coldstart/podman_provider.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "coldstart/command.hpp"
#include "common/log.hpp"

namespace ignite::coldstart {

namespace net = boost::asio;

namespace {

constexpr auto k_engine_timeout = std::chrono::seconds(60);

std::string json_string(std::string_view s) {
  std::string out;
  common::append_json_string(out, s);
  return out;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// podman's own complaint among a pod's last lines: its "Error: …" line.
std::string engine_error(const std::vector<std::string>& lines) {
  for (auto it = lines.rbegin(); it != lines.rend(); ++it)
    if (it->starts_with("Error: ")) return it->substr(7);
  return lines.empty() ? std::string() : lines.back();
}

bool mentions(const std::vector<std::string>& lines, std::string_view what) {
  for (const auto& l : lines)
    if (l.find(what) != std::string::npos) return true;
  return false;
}

}  // namespace

podman_provider::podman_provider(net::io_context& ctx, std::function<void(const pod_output&)> sink, settings s,
                                 const image_registry& registry, credentials_lookup credentials)
    : ctx_(ctx),
      settings_(std::move(s)),
      registry_(registry),
      credentials_(std::move(credentials)),
      processes_(ctx, std::move(sink), settings_.stop_grace, true) {}

podman_provider::~podman_provider() {
  if (preparation_.joinable()) preparation_.join();
  // The `podman run` clients die with processes_; their containers would not.
  if (started_any_) remove_leftovers();
}

std::size_t podman_provider::remove_leftovers() {
  auto listed = run_command(
      {settings_.podman, "ps", "--all", "--quiet", "--filter", "label=ignite.instance=" + settings_.instance},
      k_engine_timeout);
  if (!listed.ok()) return 0;
  std::vector<std::string> argv{settings_.podman, "rm", "--force", "--ignore", "--time", "0"};
  std::size_t found = 0;
  std::size_t start = 0;
  const auto& out = listed.out;
  while (start < out.size()) {
    auto end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    if (end > start) {
      argv.push_back(out.substr(start, end - start));
      ++found;
    }
    start = end + 1;
  }
  if (found) run_command(argv, k_engine_timeout);
  return found;
}

void podman_provider::prepare() {
  net::post(ctx_, [this] {
    if (engine_ != engine::unprepared) return;
    engine_ = engine::preparing;
    preparation_ = std::thread([this] {
      auto [engine_error, network_error] = prepare_engine();
      net::post(ctx_, [this, engine_error, network_error] { prepared(engine_error, network_error); });
    });
  });
}

std::pair<std::string, std::string> podman_provider::prepare_engine() {
  auto version = run_command({settings_.podman, "version", "--format", "{{.Client.Version}}"}, k_engine_timeout);
  if (!version.ok())
    return {version.status < 0 ? "podman is not installed (" + version.err + ")"
                               : "podman does not work here: " + trimmed(version.err),
            {}};
  if (auto removed = remove_leftovers())
    common::log_event("containers_reaped",
                      "\"instance\":" + json_string(settings_.instance) + ",\"containers\":" + std::to_string(removed));
  return {{}, isolate_network()};
}

void podman_provider::prepared(std::string engine_error, std::string network_error) {
  engine_ = engine::ready;
  engine_error_ = std::move(engine_error);
  network_error_ = std::move(network_error);
  if (!engine_error_.empty()) common::log_event("containers_unavailable", "\"error\":" + json_string(engine_error_));
  if (!network_error_.empty())
    common::log_event("container_network_unavailable", "\"error\":" + json_string(network_error_));
  auto waiting = std::move(pending_);
  pending_.clear();
  for (auto& p : waiting) launch(p.id, p.spec, *p.events);
}

// The private network: podman's bridge of its own, and two rules on it, because a
// bridge lets its containers talk to each other, and the portmap that publishes on
// 127.0.0.1 lets packets to 127.0.0.0/8 in from the bridge (route_localnet).
std::string podman_provider::isolate_network() {
  const auto& name = settings_.network_name;
  if (!run_command({settings_.podman, "network", "exists", name}, k_engine_timeout).ok()) {
    auto created = run_command({settings_.podman, "network", "create", "--disable-dns", name}, k_engine_timeout);
    // Another instance may have created it meanwhile.
    if (!created.ok() && !run_command({settings_.podman, "network", "exists", name}, k_engine_timeout).ok())
      return "podman network create " + name + ": " + trimmed(created.err);
  }
  auto inspected = run_command({settings_.podman, "network", "inspect", "--format", "{{.NetworkInterface}}", name},
                               k_engine_timeout);
  const auto bridge = trimmed(inspected.out);
  if (!inspected.ok() || bridge.empty()) return "podman network inspect " + name + ": " + trimmed(inspected.err);
  const std::vector<std::vector<std::string>> rules{
      {"FORWARD", "-i", bridge, "-o", bridge, "-j", "DROP"},
      // New connections only: the answers of the published port come back this way.
      {"INPUT", "-i", bridge, "-d", "127.0.0.0/8", "-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED", "-j",
       "DROP"},
  };
  for (const auto& rule : rules) {
    std::vector<std::string> check{"iptables", "-w", "-C"};
    check.insert(check.end(), rule.begin(), rule.end());
    auto checked = run_command(check, k_engine_timeout);
    if (checked.ok()) continue;
    if (checked.status < 0) return "iptables is not installed: the private network cannot be isolated";
    std::vector<std::string> insert{"iptables", "-w", "-I", rule[0], "1"};
    insert.insert(insert.end(), rule.begin() + 1, rule.end());
    auto inserted = run_command(insert, k_engine_timeout);
    if (!inserted.ok()) return "iptables -I " + rule[0] + ": " + trimmed(inserted.err);
  }
  return {};
}

std::string podman_provider::network_of(const pod_spec& spec) const {
  return spec.network.empty() ? settings_.network : spec.network;
}

void podman_provider::start(pod_id id, const pod_spec& spec, pod_events& events) {
  net::post(ctx_, [this, id, spec, events = &events] { launch(id, spec, *events); });
}

std::vector<std::string> podman_provider::run_arguments(pod_id id, const pod_spec& spec, const container& c) const {
  std::vector<std::string> argv{settings_.podman, "run", "--rm", "--name", c.name};
  for (const auto& label : {"ignite.instance=" + settings_.instance, "ignite.app=" + spec.app_id,
                            "ignite.version=" + spec.version, "ignite.pod=" + std::to_string(id)})
    argv.insert(argv.end(), {"--label", label});
  // The port inside is the port outside: with the host's network they are one.
  argv.insert(argv.end(), {"--env", "PORT={PORT}", "--env", "IGNITE_APP_ID=" + spec.app_id, "--env",
                           "IGNITE_VERSION=" + spec.version});
  if (network_of(spec) == "host")
    argv.insert(argv.end(), {"--network", "host"});
  else
    argv.insert(argv.end(),
                {"--network", settings_.network_name, "--cap-drop", "NET_RAW", "--publish", "127.0.0.1:{PORT}:{PORT}"});
  // The output is read from the attached client; podman keeps no log file of its own.
  argv.insert(argv.end(), {"--log-driver", "none", "--pull", "missing"});
  if (c.auth) argv.insert(argv.end(), {"--authfile", c.auth->path().string()});
  for (auto& a : registry_.tls_arguments(spec.registry)) argv.push_back(a);
  argv.push_back(spec.image);
  return argv;
}

void podman_provider::launch(pod_id id, const pod_spec& spec, pod_events& events) {
  // Summaries complete "the app's pod …": see pod_exit.
  auto fail = [&](const std::string& cause, const std::string& why) {
    events.on_exit(id, {cause, {}, "could not be started: " + why, -1, false});
  };
  if (engine_ != engine::ready) {
    pending_.push_back({id, spec, &events});
    if (engine_ == engine::unprepared) prepare();
    return;
  }
  if (!engine_error_.empty()) return fail(engine_error_, "the container engine is not available");
  if (spec.image.empty()) return fail("no image to run", "it has no image");
  if (network_of(spec) != "host" && !network_error_.empty())
    return fail("the private network is not usable: " + network_error_, "the container network is not available");
  container c;
  c.events = &events;
  c.name = "ignite-" + settings_.instance + "-" + std::to_string(id);
  c.image = {spec.image, spec.registry, spec.registry_secret_ref, std::nullopt};
  if (!spec.registry_secret_ref.empty()) {
    c.image.credentials = credentials_ ? credentials_(spec) : std::nullopt;
    const auto missing = "registry_secret_ref \"" + spec.registry_secret_ref + "\" names no secret of this app's org";
    if (!c.image.credentials) return fail(missing, "the image could not be pulled: " + missing);
    try {
      check_secret_server(c.image);
      c.auth = std::make_unique<auth_file>(registry_.options().auth_dir, *c.image.credentials);
    } catch (const registry_error& e) {
      return fail(e.what(), std::string("the image could not be pulled: ") + e.what());
    } catch (const std::exception& e) {
      return fail(e.what(), "its registry credentials could not be handed to the engine");
    }
  }
  pod_spec run = spec;
  run.command = run_arguments(id, spec, c);
  containers_.emplace(id, std::move(c));
  if (!started_any_ && first_container_) first_container_();
  started_any_ = true;
  processes_.start(id, run, *this);
}

void podman_provider::probe(pod_id id) { processes_.probe(id); }

void podman_provider::stop(pod_id id) {
  net::post(ctx_, [this, id] {
    if (auto p = std::find_if(pending_.begin(), pending_.end(), [id](const auto& p) { return p.id == id; });
        p != pending_.end()) {
      auto events = p->events;
      pending_.erase(p);
      return events->on_exit(id, {"was stopped before it started", {}, "was stopped"});
    }
    auto it = containers_.find(id);
    if (it == containers_.end()) return;
    it->second.stopping = true;
    // SIGTERM to the attached client, which passes it to the container (--sig-proxy);
    // after the grace the client is killed and on_exit removes the container.
    processes_.stop(id);
  });
}

void podman_provider::on_ready(pod_id id, const endpoint& at, bool) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return;
  it->second.auth.reset();  // the image is here: the credentials are no longer needed
  it->second.events->on_ready(id, at);
}

pod_exit podman_provider::explain(const container& c, const pod_exit& how) const {
  pod_exit out = how;
  if (c.stopping) return out;
  if (!how.ran) {  // `podman` itself could not be run
    out.summary = "could not be started: the container engine is not available";
    return out;
  }
  if (how.exit_status < 0) return out;  // killed: said already
  auto not_started = [&](const std::string& why, const std::string& cause) {
    out.summary = "could not be started: " + why;
    out.cause = cause;
    out.ran = false;
    return out;
  };
  if (how.exit_status == 125) {
    std::string text;
    for (const auto& line : how.last_stderr) text += line + "\n";
    if (auto failure = registry_failure(text, c.image))
      return not_started(std::string("the image could not be pulled: ") + failure->what(),
                         "podman could not pull " + c.image.image + ": " + failure->detail());
    return not_started("the container engine refused to run it",
                       "podman run exited with status 125: " + engine_error(how.last_stderr));
  }
  if ((how.exit_status == 126 || how.exit_status == 127) && mentions(how.last_stderr, "OCI runtime"))
    return not_started(
        "the image's entrypoint could not be run",
        "podman run exited with status " + std::to_string(how.exit_status) + ": " + engine_error(how.last_stderr));
  return out;  // the container's own exit: "exited with status 3"
}

void podman_provider::on_exit(pod_id id, const pod_exit& how) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return;
  auto c = std::move(it->second);
  containers_.erase(it);
  c.auth.reset();
  auto explained = explain(c, how);
  // A client that was killed (or failed) may leave its container behind: removed before
  // the pod counts as gone, so that a stopped app holds nothing.
  if (how.exit_status < 0 || how.exit_status == 125 || c.stopping) {
    async_command(ctx_, {settings_.podman, "rm", "--force", "--ignore", "--time", "0", c.name}, k_engine_timeout,
                  [id, events = c.events, explained](command_result) { events->on_exit(id, explained); });
    return;
  }
  c.events->on_exit(id, explained);
}

}  // namespace ignite::coldstart
