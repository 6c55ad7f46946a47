#pragma once
// Everything images need from the rest of the process, in one place: the podman pod
// provider, the registry checks a publish makes, the digests pinned for the config
// file's image versions, and the images this node holds (pulled ahead, collected when
// no version references them), with what must survive a restart kept in the state store.

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <boost/asio/io_context.hpp>

#include "admin/control_plane.hpp"
#include "coldstart/image_cache.hpp"
#include "coldstart/image_registry.hpp"
#include "coldstart/podman_provider.hpp"
#include "coldstart/process_provider.hpp"
#include "routing/config.hpp"
#include "routing/state_store.hpp"

namespace ignite::app {

class image_service {
 public:
  // `supervisor` runs the pods; `sink` sees their output. The instance is named after
  // the state file, so that a restart finds its own leftovers and no one else's.
  image_service(boost::asio::io_context& supervisor, std::function<void(const coldstart::pod_output&)> sink,
                const routing::config& cfg, routing::state_store& store, admin::control_plane& plane);

  coldstart::pod_provider& provider() noexcept { return *provider_; }
  const std::string& instance() const noexcept { return instance_; }

  // Start-up: starts collecting images and, if this instance has run containers before
  // or `cfg` has image versions, prepares the engine in the background (leftover
  // containers removed, the private network set up) before the first container.
  void start(const routing::config& cfg);

  // Gives every image version of `cfg` without a digest the digest pinned for it: the
  // one stored when the version was first loaded, else the registry's answer now (then
  // stored), so a tag moved later never changes the version. Prefetches each image.
  // Blocking. Throws routing::config_error naming the version.
  void pin(routing::config& cfg);

  // The control plane's publish hook: checks the image with its credentials, resolves
  // its digest, starts pulling it. Throws admin::api_error (image_unavailable 422).
  admin::image_check check(const routing::version_spec& v, const std::optional<coldstart::registry_credentials>& creds);

  // The config file in use (its versions count as referenced).
  void set_file_config(const routing::config& cfg);

  // Runs a collection pass now; `done` runs when it is over (tests, admin).
  void collect_now(std::function<void()> done) { cache_->collect_now(std::move(done)); }

 private:
  coldstart::image_request request_for(const std::string& org, const routing::version_spec& v) const;
  std::set<std::string> referenced();
  void tracked_changed(const std::string& image, bool tracked);

  routing::state_store& store_;
  admin::control_plane& plane_;
  std::string instance_;
  std::unique_ptr<coldstart::image_registry> registry_;
  std::unique_ptr<coldstart::podman_provider> provider_;
  std::unique_ptr<coldstart::image_cache> cache_;
  std::mutex config_mutex_;
  std::set<std::string> file_images_;  // pinned images of the config file's versions
};

}  // namespace ignite::app
