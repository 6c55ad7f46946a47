#pragma once
// Pods that run elsewhere: a version's `endpoints`. Starting one means resolving its
// address and probing until it listens; it never exits unless stopped. Pods at one
// address share one probe: many versions, or many apps, routed to one backend cost one
// connection attempt per round, not one each (100,000 apps on one endpoint start as
// fast as one).

#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include <boost/asio/io_context.hpp>

#include "coldstart/pod_provider.hpp"
#include "coldstart/readiness_probe.hpp"

namespace ignite::coldstart {

class static_provider final : public pod_provider {
 public:
  // All work runs on `ctx` (the supervisor's event loop).
  explicit static_provider(boost::asio::io_context& ctx);

  void start(pod_id id, const pod_spec& spec, pod_events& events) override;
  void probe(pod_id id) override;
  void stop(pod_id id) override;

 private:
  struct endpoint_pod {
    pod_events* events;
    boost::asio::ip::tcp::endpoint address;
    bool probing = false;  // in its address's probe group
  };
  // The pods waiting for one address to listen, and the probe that tells them.
  struct probe_group {
    std::shared_ptr<readiness_probe> probe;
    std::set<pod_id> waiting;
  };
  void watch(pod_id id, endpoint_pod& pod);
  void unwatch(pod_id id, endpoint_pod& pod);
  void listening(const boost::asio::ip::tcp::endpoint& address);

  boost::asio::io_context& ctx_;
  std::unordered_map<pod_id, endpoint_pod> pods_;                 // ctx_ thread only
  std::map<boost::asio::ip::tcp::endpoint, probe_group> probes_;  // ctx_ thread only
};

}  // namespace ignite::coldstart
