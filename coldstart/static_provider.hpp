#pragma once
// Pods that run elsewhere: a version's `endpoints`. Starting one means resolving its
// address and probing until it listens; it never exits unless stopped.

#include <memory>
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
    std::shared_ptr<readiness_probe> probe;
  };
  void watch(pod_id id, endpoint_pod& pod);

  boost::asio::io_context& ctx_;
  std::unordered_map<pod_id, endpoint_pod> pods_;  // ctx_ thread only
};

}  // namespace ignite::coldstart
