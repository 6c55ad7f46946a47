#include "coldstart/image_cache.hpp"

#include <algorithm>
#include <memory>

#include <boost/asio/post.hpp>

#include "coldstart/command.hpp"
#include "common/log.hpp"

namespace ignite::coldstart {

namespace net = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto k_pull_timeout = std::chrono::minutes(30);
constexpr auto k_engine_timeout = std::chrono::seconds(60);
constexpr auto k_referenced = clock_type::time_point::max();

std::string json_string(std::string_view s) {
  std::string out;
  common::append_json_string(out, s);
  return out;
}

}  // namespace

image_cache::image_cache(settings s, const image_registry& registry, referenced_images referenced,
                         tracked_changed changed)
    : settings_(std::move(s)), registry_(registry), referenced_(std::move(referenced)), changed_(std::move(changed)) {}

image_cache::~image_cache() {
  work_.reset();
  ctx_.stop();
  if (thread_.joinable()) thread_.join();
}

void image_cache::adopt(const std::vector<std::string>& images) {
  std::lock_guard lock(mutex_);
  for (const auto& image : images) tracked_.emplace(image, k_referenced);
}

void image_cache::start() {
  schedule_collection();
  thread_ = std::thread([this] { ctx_.run(); });
}

std::set<std::string> image_cache::tracked() const {
  std::lock_guard lock(mutex_);
  std::set<std::string> out;
  for (const auto& [image, since] : tracked_) out.insert(image);
  return out;
}

void image_cache::prefetch(const image_request& request) {
  net::post(ctx_, [this, request] {
    if (!pulling_.insert(request.image).second) return;
    async_command(
        ctx_, {settings_.podman, "image", "exists", request.image}, k_engine_timeout,
        [this, request](command_result exists) {
          if (exists.ok()) return pulled(request.image);
          std::shared_ptr<auth_file> auth;
          std::vector<std::string> argv{settings_.podman, "pull", "--quiet"};
          if (request.credentials) {
            try {
              auth = std::make_shared<auth_file>(registry_.options().auth_dir, *request.credentials);
              argv.insert(argv.end(), {"--authfile", auth->path().string()});
            } catch (const std::exception& e) {
              common::log_event("image_pull_failed",
                                "\"image\":" + json_string(request.image) + ",\"error\":" + json_string(e.what()));
              pulling_.erase(request.image);
              return;
            }
          }
          for (auto& a : registry_.tls_arguments(request.registry)) argv.push_back(a);
          argv.push_back(request.image);
          const auto began = clock_type::now();
          async_command(ctx_, argv, k_pull_timeout, [this, request, auth, began](command_result result) {
            if (result.ok()) {
              const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - began);
              common::log_event("image_pulled", "\"image\":" + json_string(request.image) +
                                                    ",\"duration_ms\":" + std::to_string(ms.count()));
              return pulled(request.image);
            }
            auto failure = registry_failure(result.err, request);
            common::log_event("image_pull_failed",
                              "\"image\":" + json_string(request.image) + ",\"error\":" +
                                  json_string(failure ? failure->what() : "podman pull " + result.describe()) +
                                  ",\"detail\":" + json_string(result.err));
            pulling_.erase(request.image);
          });
        });
  });
}

void image_cache::pulled(const std::string& image) {
  pulling_.erase(image);
  bool fresh = false;
  {
    std::lock_guard lock(mutex_);
    fresh = tracked_.emplace(image, k_referenced).second;
  }
  if (fresh && changed_) changed_(image, true);
}

void image_cache::schedule_collection() {
  auto every = std::clamp<std::chrono::milliseconds>(settings_.gc_grace / 2, std::chrono::milliseconds(100),
                                                     std::chrono::seconds(60));
  timer_.expires_after(every);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    collect();
    schedule_collection();
  });
}

void image_cache::collect_now(std::function<void()> done) {
  net::post(ctx_, [this, done = std::move(done)] {
    collect();
    if (done) done();
  });
}

void image_cache::collect() {
  {
    std::lock_guard lock(mutex_);
    if (tracked_.empty()) return;  // nothing to collect: the scan of every version is spared
  }
  const auto referenced = referenced_ ? referenced_() : std::set<std::string>{};
  const auto now = clock_type::now();
  std::vector<std::string> expired;
  {
    std::lock_guard lock(mutex_);
    for (auto& [image, since] : tracked_) {
      if (referenced.contains(image)) {
        since = k_referenced;
      } else if (since == k_referenced) {
        since = now;
      }
      if (since != k_referenced && now - since >= settings_.gc_grace && !pulling_.contains(image))
        expired.push_back(image);
    }
  }
  for (const auto& image : expired) {
    // Blocking on this thread: removals are rare, and a pass must not overlap the next.
    auto removed = run_command({settings_.podman, "rmi", image}, k_engine_timeout);
    const bool gone = removed.ok() || removed.err.find("image not known") != std::string::npos ||
                      removed.err.find("no such image") != std::string::npos;
    if (!gone) {
      // In use by a container (a pod still stopping): the next pass tries again.
      common::log_event("image_remove_failed",
                        "\"image\":" + json_string(image) + ",\"error\":" + json_string(removed.err));
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      tracked_.erase(image);
    }
    common::log_event("image_removed", "\"image\":" + json_string(image));
    if (changed_) changed_(image, false);
  }
}

}  // namespace ignite::coldstart
