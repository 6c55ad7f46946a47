#pragma once
// podman, as the tests that run real containers use it: running it, asking once whether it
// can run containers here, and the policy for when it cannot (skip locally, fail in CI).

#include <chrono>
#include <string>
#include <vector>

#include "support/program.hpp"

namespace ignite::test {

// Where podman is, or empty if it is not installed.
const std::string& podman_path();

// Runs `podman <args…>` to completion (see run_program). Throws std::runtime_error
// ("podman is not installed") if there is no podman.
program_result run_podman(const std::vector<std::string>& args,
                          std::chrono::milliseconds cap = std::chrono::seconds(120));

// Empty if podman can run containers here; otherwise why not: "podman is not installed",
// "podman cannot start a container: <podman's error>". Checked by really running
// `podman run --rm --network=none <image_ref> --help` (an image in the local store whose
// entrypoint exits 0 given --help, such as the greeter's), once per image and process;
// later calls return the answer remembered. Thread-safe.
std::string container_engine_status(const std::string& image_ref);

// True when CI=true is in the environment: a test that needs containers then fails with
// the reason instead of skipping.
bool container_tests_required();

// "<what>-<pid>-<n>": a name no other test process (and no other call here) uses, for
// images, containers and tags, so test binaries running at once never share one.
std::string unique_test_name(const std::string& what);

}  // namespace ignite::test
