#pragma once
// Why a command stopped, and the exit code that says so. Commands throw it; run() is the
// one place that prints it ("ignite: <message>") and turns it into the exit code.

#include <stdexcept>
#include <string>

namespace ignite::cli {

// Exit codes (DESIGN.md, "CLI"): success, the API (or reaching it) failed, bad usage.
inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_failed = 1;
inline constexpr int k_exit_usage = 2;

class failure : public std::runtime_error {
 public:
  failure(int exit_code, const std::string& message) : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

// The command line asked for something that cannot work: exit 2.
inline failure usage_error(const std::string& message) { return failure(k_exit_usage, message); }
// The API refused, or could not be reached or understood: exit 1.
inline failure api_failure(const std::string& message) { return failure(k_exit_failed, message); }

}  // namespace ignite::cli
