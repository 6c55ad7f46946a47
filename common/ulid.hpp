#pragma once
// ULID execution ids: 48-bit Unix-millisecond time + 80 random bits, 26 chars of
// Crockford base32. Ids from one generator are strictly increasing, also within a
// millisecond (the random part is incremented), so logs sort by arrival.

#include <array>
#include <cstdint>
#include <random>
#include <string_view>

namespace ignite::common {

class ulid {
 public:
  static constexpr std::size_t size = 26;
  std::string_view view() const noexcept { return {text_.data(), size}; }

 private:
  friend class ulid_generator;
  std::array<char, size> text_{};
};

// Not thread-safe: one generator per thread (the proxy keeps one per worker).
class ulid_generator {
 public:
  ulid_generator();

  // `unix_ms` is the current time; a clock that steps back keeps the last time so ids
  // stay increasing.
  ulid next(std::uint64_t unix_ms);

 private:
  std::mt19937_64 random_;
  std::uint64_t last_ms_ = 0;
  std::uint16_t random_high_ = 0;  // top 16 of the 80 random bits
  std::uint64_t random_low_ = 0;   // low 64
};

// True if `text` is 26 Crockford base32 characters whose first is 0-7 (the 128-bit limit).
bool is_ulid(std::string_view text) noexcept;

}  // namespace ignite::common
