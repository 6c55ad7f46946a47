#include "support/gate.hpp"

namespace ignite::test {

void gate::open() {
  {
    std::lock_guard lock(mutex_);
    open_ = true;
  }
  opened_.notify_all();
}

bool gate::is_open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

bool gate::wait(std::chrono::milliseconds cap) const {
  std::unique_lock lock(mutex_);
  return opened_.wait_for(lock, cap, [this] { return open_; });
}

}  // namespace ignite::test
