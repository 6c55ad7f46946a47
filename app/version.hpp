#pragma once
// The version the binaries report (--version); bumped with each release.

namespace ignite::app {

inline constexpr const char* k_version = "0.4.0";

}  // namespace ignite::app
