#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace ignite::test {

// A one-shot signal from the test to a fake pod's connection thread: "now send the
// answer" / "now send the next chunk". Once open it stays open.
class gate {
 public:
  void open();
  bool is_open() const;

  // Blocks until open() was called or `cap` passed; returns whether it is open.
  bool wait(std::chrono::milliseconds cap) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable opened_;
  bool open_ = false;
};

}  // namespace ignite::test
