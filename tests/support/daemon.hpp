#pragma once
// Starting a server program (a registry, an etcd member) as a test's child: its output to
// a log file, nothing inherited but the environment, and death with the test process.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ignite::test {

// A port the kernel had free a moment ago on 127.0.0.1 (bound to :0, read, released): the
// program binds it itself, so it can be taken in between.
std::uint16_t free_port();

// Forks and execs `args` (args[0] a path) with the test's environment minus variables
// starting with `drop_env_prefix` (empty: keep all), stdin from /dev/null, stdout and
// stderr appended to `log_path`. The child gets SIGKILL if the test process dies
// (PR_SET_PDEATHSIG). Returns its pid; throws std::runtime_error if fork fails.
pid_t spawn_daemon(const std::vector<std::string>& args, std::string_view drop_env_prefix, const std::string& log_path);

}  // namespace ignite::test
