#pragma once
// Running a helper program (podman, skopeo) to the end and reading what it said: the
// container engine and the registry tools are driven through their command lines, as
// an operator would, rather than through their daemons' sockets. Secrets never go on a
// command line (`ps` shows it to every user): they go in a file (registry_auth) or on
// standard input.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace ignite::coldstart {

struct command_result {
  int status = -1;  // the wait status; -1 if the program did not run
  bool timed_out = false;
  std::string out;  // standard output, the first k_max_output bytes
  std::string err;  // standard error, the first k_max_output bytes; or why it did not run

  static constexpr std::size_t k_max_output = 256 * 1024;

  bool ok() const noexcept;
  int exit_code() const noexcept;  // the exit status, or -1 if killed or not run
  // One line for a log: "exited with status 125", "timed out after 30 s", ….
  std::string describe() const;
};

// Runs `argv` (argv[0] found in PATH), feeding it `input`, and waits for it; after
// `timeout` its process group is killed. Blocking: for start-up and the admin thread.
command_result run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                           const std::string& input = {});

// The same without blocking: `done` runs on `ctx` when the program has ended.
void async_command(boost::asio::io_context& ctx, const std::vector<std::string>& argv,
                   std::chrono::milliseconds timeout, std::function<void(command_result)> done);

}  // namespace ignite::coldstart
