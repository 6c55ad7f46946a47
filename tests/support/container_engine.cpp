#include "support/container_engine.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string_view>

#include "common/executable.hpp"

namespace ignite::test {

const std::string& podman_path() {
  static const std::string path = [] {
    std::string why;
    return common::find_executable("podman", why);
  }();
  return path;
}

program_result run_podman(const std::vector<std::string>& args, std::chrono::milliseconds cap) {
  if (podman_path().empty()) throw std::runtime_error("podman is not installed");
  return run_program(podman_path(), args, {}, {}, cap);
}

std::string container_engine_status(const std::string& image_ref) {
  static std::mutex mutex;
  static std::map<std::string, std::string> answers;
  std::lock_guard lock(mutex);
  if (auto it = answers.find(image_ref); it != answers.end()) return it->second;

  std::string answer;
  if (podman_path().empty()) {
    answer = "podman is not installed";
  } else {
    // No network: the check is about the runtime (namespaces, cgroups, runc), not ports.
    // Named, so that a run killed at the cap can still be removed.
    const std::string name = unique_test_name("ignite-engine-check");
    const auto r =
        run_podman({"run", "--rm", "--name", name, "--network=none", image_ref, "--help"}, std::chrono::seconds(60));
    if (r.timed_out) {
      run_podman({"rm", "--force", "--ignore", name}, std::chrono::seconds(30));
      answer = "podman cannot start a container: `podman run` did not finish within 60 s";
    } else if (r.exit_code != 0) {
      answer =
          "podman cannot start a container: " + (r.err.empty() ? "exit code " + std::to_string(r.exit_code) : r.err);
    }
    while (!answer.empty() && answer.back() == '\n') answer.pop_back();
  }
  answers.emplace(image_ref, answer);
  return answer;
}

bool container_tests_required() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

std::string unique_test_name(const std::string& what) {
  static std::atomic<unsigned> next{0};
  return what + "-" + std::to_string(::getpid()) + "-" + std::to_string(next++);
}

}  // namespace ignite::test
