#pragma once
// The version every binary reports (ignite-proxy --version, ignite --version and its
// User-Agent); bumped with each release.

namespace ignite::common {

inline constexpr const char* k_version = "0.4.0";

}  // namespace ignite::common
