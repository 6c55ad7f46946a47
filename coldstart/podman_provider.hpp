#pragma once
// Pods as containers: an image version runs with `podman run`, attached, as a child
// process of the proxy, so its output is the pod's output and its end is the pod's end.
// The container gets PORT, IGNITE_APP_ID and IGNITE_VERSION, labels that name this
// proxy instance, its app, version and pod, and --rm.
//
// Network: by default ("private") each container has its own network namespace on the
// proxy's own podman network, with only its port published on 127.0.0.1; the proxy
// keeps containers on that network from reaching each other and the host's loopback
// (iptables rules on its bridge), and drops NET_RAW. "host" shares the host's network:
// faster to start, for trusted single-tenant machines only.
//
// Readiness is a connect to the published port. Rootful podman publishes with the
// kernel's DNAT, set up before anything listens on the host side, so a connect succeeds
// only once the app itself accepts (tests/integration/container_test proves it with a
// container that never listens).
//
// A pull happens inside `podman run` when the image is not here; the registry secret's
// credentials go in an auth file (0600) that is removed when the pull is over. A SIGKILLed
// proxy leaves its containers behind (the parent-death signal reaches podman, not the
// container): prepare() removes them at the next start, by label. Preparing takes a few
// podman calls, so it happens on a thread of its own, at start-up when this instance
// has run containers before, else before its first container; pods wait for it.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "coldstart/image_registry.hpp"
#include "coldstart/pod_provider.hpp"
#include "coldstart/process_provider.hpp"
#include "coldstart/registry_auth.hpp"

namespace ignite::coldstart {

class podman_provider final : public pod_provider, private pod_events {
 public:
  struct settings {
    std::string instance;                 // the ignite.instance label: containers with it are this proxy's
    std::string network = "private";      // for versions that do not say: "private" or "host"
    std::string network_name = "ignite";  // the podman network of private containers
    std::chrono::milliseconds stop_grace = std::chrono::seconds(5);
    std::string podman = "podman";
  };
  // The credentials of a version's registry secret; nullopt if the secret does not exist.
  using credentials_lookup = std::function<std::optional<registry_credentials>(const pod_spec& spec)>;

  // All work runs on `ctx` (the supervisor's event loop); `sink` sees every line a
  // container writes. `registry` gives the TLS settings and the auth-file directory.
  podman_provider(boost::asio::io_context& ctx, std::function<void(const pod_output&)> sink, settings s,
                  const image_registry& registry, credentials_lookup credentials);
  // Removes the containers still running (blocking).
  ~podman_provider() override;

  // Any thread, at most once: on a thread of its own, checks that podman runs, removes
  // this instance's leftover containers and prepares the private network. Pods started
  // meanwhile wait for it; if it fails, they fail with its reason.
  void prepare();
  // Runs once on the provider's thread, when this instance starts its first container
  // (to remember that a later start must look for leftovers).
  void on_first_container(std::function<void()> f) { first_container_ = std::move(f); }
  // Removes every container labelled with this instance (blocking); returns how many.
  std::size_t remove_leftovers();

  void start(pod_id id, const pod_spec& spec, pod_events& events) override;
  void probe(pod_id id) override;
  void stop(pod_id id) override;

  // ctx thread: containers started and not yet reported gone.
  std::size_t running() const noexcept { return containers_.size(); }
  const settings& options() const noexcept { return settings_; }

 private:
  struct container {
    pod_events* events = nullptr;
    std::string name;
    image_request image;
    std::unique_ptr<auth_file> auth;
    bool stopping = false;
  };

  struct pending_start {
    pod_id id;
    pod_spec spec;
    pod_events* events;
  };
  enum class engine { unprepared, preparing, ready };

  void launch(pod_id id, const pod_spec& spec, pod_events& events);
  // Blocking, on the preparation thread: why no container can run, and why private
  // ones cannot (empty: they can).
  std::pair<std::string, std::string> prepare_engine();
  void prepared(std::string engine_error, std::string network_error);
  std::vector<std::string> run_arguments(pod_id id, const pod_spec& spec, const container& c) const;
  std::string network_of(const pod_spec& spec) const;
  std::string isolate_network();
  // What podman's exit means, in words for anyone who called the app.
  pod_exit explain(const container& c, const pod_exit& how) const;

  // From processes_: the `podman run` client listens, or has ended.
  void on_ready(pod_id id, const endpoint& at, bool remote = false) override;
  void on_exit(pod_id id, const pod_exit& how) override;

  boost::asio::io_context& ctx_;
  settings settings_;
  const image_registry& registry_;
  credentials_lookup credentials_;
  process_provider processes_;
  std::function<void()> first_container_;
  // ctx_ thread only:
  engine engine_ = engine::unprepared;
  std::string engine_error_;            // why no container can run; empty: they can
  std::string network_error_;           // why private containers cannot run; empty: they can
  std::vector<pending_start> pending_;  // started while preparing
  std::unordered_map<pod_id, container> containers_;
  bool started_any_ = false;
  std::thread preparation_;
};

}  // namespace ignite::coldstart
