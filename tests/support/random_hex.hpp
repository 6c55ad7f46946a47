#pragma once

#include <cstddef>
#include <random>
#include <string>

namespace ignite::test {

// `n` random hex digits: names, tokens and passwords a test makes up, unique per run.
inline std::string random_hex(std::size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += k_hex[rng() % 16];
  return out;
}

}  // namespace ignite::test
