#pragma once
// Lifecycle lines the process writes about its pods: pod_starting, pod_ready,
// pod_stopping, pod_exited, and pod_output (one line per line a pod writes).

#include <string>

#include "coldstart/process_provider.hpp"
#include "coldstart/version_pool.hpp"

namespace ignite::app {

// The fields of a pod lifecycle line, after "event" (exposed for tests).
std::string pod_note_fields(const coldstart::pod_spec& spec, const coldstart::pod_note& note);
std::string pod_output_fields(const coldstart::pod_output& out);

// Writes the line.
void log_pod_note(const coldstart::pod_spec& spec, const coldstart::pod_note& note);
void log_pod_output(const coldstart::pod_output& out);

}  // namespace ignite::app
