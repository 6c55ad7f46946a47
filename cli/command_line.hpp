#pragma once
// The `ignite` command line: parses argv (CLI11), runs the one command it names, and
// returns the exit code. main() only forwards to it, so tests drive the whole CLI in
// process with their own streams and environment.

#include <iosfwd>
#include <string>
#include <vector>

#include "cli/environment.hpp"

namespace ignite::cli {

// `args` is argv without the program name. Exit codes: 0 success, 1 the API refused or
// could not be reached (the server's "code: message" on `err`), 2 bad usage (CLI11's own
// errors included). --help and --version print to `out` and return 0.
int run(std::vector<std::string> args, std::istream& in, std::ostream& out, std::ostream& err, const environment& env);

}  // namespace ignite::cli
