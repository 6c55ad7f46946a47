#pragma once
// A request waiting in a version's hold queue, as the session sees it: the pool's
// answer (from whatever thread made it) is posted to the session's worker, where it
// wakes the waiting coroutine by cancelling a timer that never expires on its own.

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/post.hpp>

#include "coldstart/version_pool.hpp"
#include "proxy/io_types.hpp"

namespace ignite::proxy {

class held_request final : public coldstart::waiter, public std::enable_shared_from_this<held_request> {
 public:
  explicit held_request(const io_executor& ex) : wake_(ex, steady_timer::time_point::max()) {}

  void granted(const coldstart::grant& g) override {
    boost::asio::post(wake_.get_executor(), [self = shared_from_this(), g] {
      self->grant_ = g;
      self->answered_ = true;
      self->wake_.cancel();
    });
  }

  void failed(coldstart::failure why, const std::string& message) override {
    boost::asio::post(wake_.get_executor(), [self = shared_from_this(), why, message] {
      self->failure_ = why;
      self->message_ = message;
      self->answered_ = true;
      self->wake_.cancel();
    });
  }

  // Worker thread only.
  steady_timer& wake() noexcept { return wake_; }
  bool answered() const noexcept { return answered_; }
  const std::optional<coldstart::grant>& grant() const noexcept { return grant_; }
  coldstart::failure failure_kind() const noexcept { return failure_; }
  const std::string& message() const noexcept { return message_; }

 private:
  steady_timer wake_;
  std::optional<coldstart::grant> grant_;
  coldstart::failure failure_ = coldstart::failure::pod_start_failed;
  std::string message_;
  bool answered_ = false;
};

}  // namespace ignite::proxy
