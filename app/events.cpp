#include "app/events.hpp"

#include "common/log.hpp"

namespace ignite::app {

namespace {

const char* event_name(coldstart::pod_note::kind what) {
  using kind = coldstart::pod_note::kind;
  switch (what) {
    case kind::starting:
      return "pod_starting";
    case kind::ready:
      return "pod_ready";
    case kind::stopping:
      return "pod_stopping";
    case kind::exited:
      return "pod_exited";
  }
  return "pod";
}

std::string pod_fields(const coldstart::pod_spec& spec, coldstart::pod_id pod) {
  std::string fields = "\"app\":";
  common::append_json_string(fields, spec.app_id);
  fields += ",\"version\":" + spec.version + ",\"pod\":" + std::to_string(pod);
  return fields;
}

}  // namespace

std::string pod_note_fields(const coldstart::pod_spec& spec, const coldstart::pod_note& note) {
  using kind = coldstart::pod_note::kind;
  auto fields = pod_fields(spec, note.pod);
  const char* key = note.what == kind::ready ? "address" : note.what == kind::starting ? "endpoint" : "reason";
  if (!note.detail.empty()) {
    fields += ",\"" + std::string(key) + "\":";
    common::append_json_string(fields, note.detail);
  }
  if (note.start_ms >= 0) fields += ",\"start_ms\":" + std::to_string(note.start_ms);
  return fields;
}

std::string pod_output_fields(const coldstart::pod_output& out) {
  auto fields = pod_fields(out.spec, out.id);
  fields += ",\"stream\":\"" + std::string(out.stream) + "\",\"line\":";
  common::append_json_string(fields, out.line);
  return fields;
}

void log_pod_note(const coldstart::pod_spec& spec, const coldstart::pod_note& note) {
  common::log_event(event_name(note.what), pod_note_fields(spec, note));
}

void log_pod_output(const coldstart::pod_output& out) { common::log_event("pod_output", pod_output_fields(out)); }

}  // namespace ignite::app
