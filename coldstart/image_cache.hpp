#pragma once
// The images this node holds for versions. Publishing a version pulls its image in the
// background, so the first cold start does not pay for the pull; an image that no
// version references any more is removed once a grace period has passed (a rollback or
// a re-publish within the grace finds it still here).
//
// Its own thread: a pull or a scan must never delay a readiness probe or a handoff.

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "coldstart/image_registry.hpp"

namespace ignite::coldstart {

class image_cache {
 public:
  struct settings {
    std::chrono::milliseconds gc_grace = std::chrono::hours(1);
    std::string podman = "podman";
  };
  // The images versions reference now (pinned references); called on the cache's
  // thread for every collection pass.
  using referenced_images = std::function<std::set<std::string>()>;
  // An image becomes tracked (true: pulled or found here for a version) or is removed
  // (false): for keeping the list across restarts. Called on the cache's thread.
  using tracked_changed = std::function<void(const std::string& image, bool tracked)>;

  image_cache(settings s, const image_registry& registry, referenced_images referenced, tracked_changed changed);
  ~image_cache();  // stops the thread (a pull in flight runs to its end alone)

  // Before start(): images tracked in an earlier run (their grace starts now).
  void adopt(const std::vector<std::string>& images);
  // Starts the thread and the periodic collection.
  void start();

  // Any thread: pulls `request.image` in the background unless it is here already.
  // Failures are logged; the first cold start then pulls (and says why it failed).
  void prefetch(const image_request& request);

  // Any thread: runs a collection pass now and calls `done` (on the cache's thread).
  void collect_now(std::function<void()> done = {});

  // Any thread: images tracked now (for tests and the admin).
  std::set<std::string> tracked() const;

 private:
  void collect();
  void schedule_collection();
  void pulled(const std::string& image);

  settings settings_;
  const image_registry& registry_;
  referenced_images referenced_;
  tracked_changed changed_;
  boost::asio::io_context ctx_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{ctx_.get_executor()};
  boost::asio::steady_timer timer_{ctx_};
  mutable std::mutex mutex_;
  // Tracked image → when it was last seen referenced (time_point::max(): referenced now).
  std::map<std::string, std::chrono::steady_clock::time_point> tracked_;
  std::set<std::string> pulling_;  // cache thread only
  std::thread thread_;
};

}  // namespace ignite::coldstart
