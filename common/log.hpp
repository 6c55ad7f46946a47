#pragma once
// The process's log: JSON lines, one per event, on stderr. Whole lines from different
// threads never interleave. Writing never fails the caller: a log that cannot be
// written loses lines, not requests.

#include <string>
#include <string_view>

namespace ignite::common {

// Writes complete lines (each ending in '\n') at once. Any thread.
void log_write(std::string_view lines);

// `{"time":…,"event":event,<fields>}\n`. `fields_json` is empty or `"key":value,…`
// already escaped. Any thread.
void log_event(std::string_view event, std::string_view fields_json = {});

// Appends `s` as the inside of a JSON string (no quotes).
void append_json_escaped(std::string& out, std::string_view s);
// Appends `s` as a JSON string, quotes included.
void append_json_string(std::string& out, std::string_view s);
// "2026-11-27T07:12:33.123Z": UTC, milliseconds. The date part is cached per thread
// and second.
void append_log_time(std::string& out);

}  // namespace ignite::common
