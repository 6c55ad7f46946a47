#include "coldstart/static_provider.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

namespace ignite::coldstart {

namespace net = boost::asio;
using tcp = net::ip::tcp;

static_provider::static_provider(net::io_context& ctx) : ctx_(ctx) {}

void static_provider::start(pod_id id, const pod_spec& spec, pod_events& events) {
  net::post(ctx_, [this, id, configured = spec.endpoint, events = &events] {
    boost::system::error_code ec;
    tcp::endpoint address;
    if (auto ip = net::ip::make_address(configured.host, ec); !ec) {
      address = {ip, configured.port};
    } else {
      // A name is resolved once, when the pod is started (config load), never per request.
      tcp::resolver resolver(ctx_);
      auto results = resolver.resolve(configured.host, std::to_string(configured.port), ec);
      if (ec || results.empty()) {
        events->on_exit(id, {"cannot resolve " + configured.host + ": " + ec.message(), {}, "could not be resolved"});
        return;
      }
      address = results.begin()->endpoint();
    }
    auto& pod = pods_[id];
    pod.events = events;
    pod.address = address;
    watch(id, pod);
  });
}

void static_provider::watch(pod_id id, endpoint_pod& pod) {
  pod.probing = true;
  auto& group = probes_[pod.address];
  group.waiting.insert(id);
  if (group.probe) return;  // joins the probe already running for this address
  group.probe =
      std::make_shared<readiness_probe>(ctx_, pod.address, [this, address = pod.address] { listening(address); });
  group.probe->start();
}

void static_provider::unwatch(pod_id id, endpoint_pod& pod) {
  if (!pod.probing) return;
  pod.probing = false;
  auto group = probes_.find(pod.address);
  if (group == probes_.end()) return;
  group->second.waiting.erase(id);
  if (!group->second.waiting.empty()) return;
  group->second.probe->cancel();
  probes_.erase(group);
}

void static_provider::listening(const tcp::endpoint& address) {
  auto group = probes_.find(address);
  if (group == probes_.end()) return;
  const auto waiting = std::move(group->second.waiting);
  probes_.erase(group);
  for (auto id : waiting) {
    auto it = pods_.find(id);
    if (it == pods_.end()) continue;
    it->second.probing = false;
    it->second.events->on_ready(id, it->second.address);
  }
}

void static_provider::probe(pod_id id) {
  net::post(ctx_, [this, id] {
    auto it = pods_.find(id);
    if (it == pods_.end() || it->second.probing) return;
    watch(id, it->second);
  });
}

void static_provider::stop(pod_id id) {
  net::post(ctx_, [this, id] {
    auto it = pods_.find(id);
    if (it == pods_.end()) return;
    unwatch(id, it->second);
    auto* events = it->second.events;
    pods_.erase(it);
    events->on_exit(id, {"stopped", {}, "was stopped"});
  });
}

}  // namespace ignite::coldstart
