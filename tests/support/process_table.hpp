#pragma once
// Processes as /proc shows them, for tests that check which pods a proxy runs and that
// none outlives it.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace ignite::test {

// start_ticks tells a process apart from a later one with its pid.
struct process_info {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = '?';
  unsigned long long start_ticks = 0;
};

std::optional<process_info> read_process(pid_t pid);
// Live (not zombie) processes whose parent is `parent`.
std::vector<process_info> children_of(pid_t parent);
// Still the same process, and not a zombie.
bool is_running(const process_info& p);
bool any_running(const std::vector<process_info>& ps);
// "123(running) 456(gone) ", for failure messages.
std::string pids(const std::vector<process_info>& ps);

}  // namespace ignite::test
