#pragma once
// A request waiting in a version's hold queue, as the worker sees it: the pool's answer
// (from whatever thread made it) is posted to the worker, where it wakes the waiting
// coroutine by cancelling a timer that never expires on its own. A grant that arrives
// after its request was abandoned is handed straight back to the pool, so a pod's
// in-flight count never leaks.

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/post.hpp>

#include "coldstart/version_pool.hpp"
#include "proxy/io_types.hpp"

namespace ignite::proxy {

class held_request final : public coldstart::waiter, public std::enable_shared_from_this<held_request> {
 public:
  held_request(const io_executor& ex, std::shared_ptr<coldstart::version_pool> pool)
      : wake_(ex, steady_timer::time_point::max()), pool_(std::move(pool)) {}

  void granted(const coldstart::grant& g) override {
    boost::asio::post(wake_.get_executor(), [self = shared_from_this(), g] {
      if (self->orphaned_) return self->pool_->release(g.pod);
      self->grant_ = g;
      self->answered_ = true;
      self->wake_.cancel();
    });
  }

  void failed(coldstart::failure why, const coldstart::failure_reason& reason) override {
    boost::asio::post(wake_.get_executor(), [self = shared_from_this(), why, reason] {
      self->failure_ = why;
      self->reason_ = reason;
      self->answered_ = true;
      self->wake_.cancel();
    });
  }

  // Worker thread only.
  steady_timer& wake() noexcept { return wake_; }
  bool answered() const noexcept { return answered_; }
  const std::optional<coldstart::grant>& grant() const noexcept { return grant_; }
  coldstart::failure failure_kind() const noexcept { return failure_; }
  const coldstart::failure_reason& reason() const noexcept { return reason_; }
  // Nobody will read the answer any more: a grant still on its way is released.
  void orphan() noexcept { orphaned_ = true; }

 private:
  steady_timer wake_;
  std::shared_ptr<coldstart::version_pool> pool_;
  std::optional<coldstart::grant> grant_;
  coldstart::failure failure_ = coldstart::failure::pod_start_failed;
  coldstart::failure_reason reason_;
  bool answered_ = false;
  bool orphaned_ = false;
};

}  // namespace ignite::proxy
