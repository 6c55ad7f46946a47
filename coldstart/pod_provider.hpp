#pragma once
// Where pods come from. A provider starts a pod of a version, says when it listens and
// when it dies, and stops it. Implementations: static endpoints (pods run elsewhere; only
// readiness is checked), local processes, and containers. Pulling an image is part of
// starting; a failed pull is a death before listening, with the reason.

#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "common/host_port.hpp"

namespace ignite::coldstart {

using pod_id = std::uint64_t;
// Where a ready pod accepts connections: an IP address and port, resolved once.
using endpoint = boost::asio::ip::tcp::endpoint;

// What to start. Exactly one source is set, as in the config.
struct pod_spec {
  std::string app_id;          // "acme-corp:greeter", also IGNITE_APP_ID
  std::string version;         // "3", also IGNITE_VERSION
  common::host_port endpoint;  // static: where the pod that runs elsewhere listens
  std::vector<std::string> command;
  std::string image_ref;     // as given (for display)
  std::string image_digest;  // "sha256:…": what runs, when resolved
  std::string image;         // what the engine runs: "registry/repo@sha256:…" once pinned
  std::string registry;      // the image's registry: "ghcr.io", "127.0.0.1:5000"
  std::string registry_secret_ref;
  std::string network;  // images: "host" or "private"; empty: the provider's default
  // The pool's container_concurrency when it asked for this pod. A cluster lets nodes
  // wait for one another's starts only when it is 0 (one pod then serves any demand).
  unsigned container_concurrency = 0;
};

// How a pod ended. `summary` may be shown to anyone who called the app: it names what
// happened, never a local path, a command line or the pod's output. `cause` and
// `last_stderr` are for the log and for the app's owner.
struct pod_exit {
  std::string cause;  // "exited with status 3", "could not start: ./app does not exist", …
  std::vector<std::string> last_stderr;
  // Completes "the app's pod …": "exited with status 3", "could not be started: …";
  // empty: "stopped".
  std::string summary;
  int exit_status = -1;  // a process's exit status; -1 if it was killed or never ran
  bool ran = true;       // false: it never ran (could not be started, its image not pulled)
};

// Receives a provider's news about pods. Called from the provider's thread; must not
// call back into the provider synchronously.
class pod_events {
 public:
  virtual ~pod_events() = default;
  // The pod accepts TCP connections at `at`. `remote`: it runs on another node of the
  // cluster (requests prefer the local pods).
  virtual void on_ready(pod_id id, const endpoint& at, bool remote = false) = 0;
  // The pod is gone (or never came up). After this no event names `id` again.
  virtual void on_exit(pod_id id, const pod_exit& how) = 0;
};

class pod_provider {
 public:
  virtual ~pod_provider() = default;

  // Starts pod `id` and watches it: on_ready once it listens, on_exit when it ends.
  // Thread-safe; returns at once (the work happens on the provider's thread).
  virtual void start(pod_id id, const pod_spec& spec, pod_events& events) = 0;

  // Pod `id` refused a connection after it was ready: watch for it to listen again
  // (on_ready) or to die (on_exit). Thread-safe.
  virtual void probe(pod_id id) = 0;

  // Stops pod `id`: SIGTERM (or the equivalent), SIGKILL after the grace period;
  // on_exit follows. Thread-safe; unknown ids are ignored.
  virtual void stop(pod_id id) = 0;

  // Another node of the cluster sends requests to pod `id` (one this node started), so
  // it is not idle although this node sends it none. Called with a pool's lock held:
  // must not call into a pool.
  virtual bool in_use_elsewhere(pod_id /*id*/) { return false; }
};

}  // namespace ignite::coldstart
