#pragma once
// Human text for the parts of the API's answers that several commands print.

#include <string>

#include <nlohmann/json.hpp>

namespace ignite::cli {

// A version source on one line: "image ghcr.io/acme-corp/greeter:1.0.0 (sha256:…,
// registry secret greeter-registry)", "command ./greeter --port 0",
// "endpoints 127.0.0.1:9001, 127.0.0.1:9002"; "none" for null.
std::string source_text(const nlohmann::json& source);

// A JSON value as a cell: strings bare, null as "-", numbers and arrays as written
// ("1,2" for [1,2]).
std::string cell_text(const nlohmann::json& value);

// The value at `key`, or null if absent (or `object` is not an object).
const nlohmann::json& value_at(const nlohmann::json& object, const char* key);

// The string at `key`, or "" if absent or not a string: answers are printed, never
// trusted to have every field.
std::string string_at(const nlohmann::json& object, const char* key);

}  // namespace ignite::cli
