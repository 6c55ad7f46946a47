#pragma once

namespace ignite::test {

// How a child process ended.
struct process_exit {
  int code = -1;   // exit code when it exited normally
  int signal = 0;  // the terminating signal otherwise

  bool exited_normally() const { return signal == 0; }
  bool succeeded() const { return signal == 0 && code == 0; }
};

}  // namespace ignite::test
