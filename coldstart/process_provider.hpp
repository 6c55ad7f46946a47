#pragma once
// Pods as local child processes: a version's `command` argv, run with PORT (a free
// loopback port), IGNITE_APP_ID and IGNITE_VERSION in its environment. Each child gets
// its own process group and dies with the proxy (PR_SET_PDEATHSIG), so not even a
// SIGKILLed proxy leaves pods behind. Output is captured per pod, line by line.

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>
#include <unordered_map>

#include <boost/asio/io_context.hpp>

#include "coldstart/pod_provider.hpp"

namespace ignite::coldstart {

// One line a pod wrote: stream is "stdout" or "stderr".
struct pod_output {
  const pod_spec& spec;
  pod_id id;
  std::string_view stream;
  std::string_view line;
};

class process_provider final : public pod_provider {
 public:
  static constexpr std::size_t k_stderr_tail_lines = 10;

  // All work runs on `ctx` (the supervisor's event loop); `sink` sees every output line
  // there. `stop_grace` is how long SIGTERM gets before SIGKILL. With `port_placeholder`,
  // every "{PORT}" in the argv becomes the port (for a command that passes it on, as
  // `podman run -p` does).
  process_provider(boost::asio::io_context& ctx, std::function<void(const pod_output&)> sink,
                   std::chrono::milliseconds stop_grace = std::chrono::seconds(5), bool port_placeholder = false);
  ~process_provider() override;  // SIGKILLs whatever still runs

  void start(pod_id id, const pod_spec& spec, pod_events& events) override;
  void probe(pod_id id) override;
  void stop(pod_id id) override;

  // ctx thread: pods still running.
  std::size_t running() const noexcept { return children_.size(); }

 private:
  struct child;
  void launch(pod_id id, const pod_spec& spec, pod_events& events);
  void start_probe(const std::shared_ptr<child>& c);
  void read_output(const std::shared_ptr<child>& c, bool is_stderr);
  void watch_exit(const std::shared_ptr<child>& c);
  void report_exit(const std::shared_ptr<child>& c);

  boost::asio::io_context& ctx_;
  std::function<void(const pod_output&)> sink_;
  std::chrono::milliseconds stop_grace_;
  bool port_placeholder_;
  std::unordered_map<pod_id, std::shared_ptr<child>> children_;  // ctx_ thread only
};

}  // namespace ignite::coldstart
