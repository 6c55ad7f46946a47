#pragma once
// Runs a program to completion, as a shell would: arguments, extra environment, stdin
// text; returns its exit code and everything it wrote. Capped: a program that does not
// finish within the cap is killed and the result says so.

#include <chrono>
#include <string>
#include <vector>

namespace ignite::test {

struct program_result {
  int exit_code = -1;  // -1: killed (signal or cap)
  bool timed_out = false;
  std::string out;
  std::string err;
};

program_result run_program(const std::string& path, const std::vector<std::string>& args,
                           const std::vector<std::string>& env = {}, const std::string& input = {},
                           std::chrono::milliseconds cap = std::chrono::seconds(30));

}  // namespace ignite::test
