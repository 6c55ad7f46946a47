#pragma once
// What etcd's JSON gateway needs around the store's keys and values: keys and values are
// base64 in both directions, 64-bit numbers arrive as strings, and a prefix is a range
// [prefix, prefix_end).

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "routing/state_store.hpp"

namespace ignite::cluster {

std::string base64_encode(std::string_view bytes);
// Throws routing::state_error on text that is not base64.
std::string base64_decode(std::string_view text);

// The smallest key greater than every key starting with `prefix` ("\0" for all keys).
std::string prefix_end(std::string_view prefix);

// An int64 field that etcd writes as a string (absent: 0).
std::int64_t int_field(const nlohmann::json& object, const char* name);

// A kv from etcd, its key with `strip` (the store's etcd prefix) removed.
routing::key_value kv_from(const nlohmann::json& kv, std::string_view strip);

}  // namespace ignite::cluster
