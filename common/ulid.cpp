#include "common/ulid.hpp"

namespace ignite::common {

namespace {
constexpr char k_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}

ulid_generator::ulid_generator() : random_(std::random_device{}()) {}

ulid ulid_generator::next(std::uint64_t unix_ms) {
  if (unix_ms > last_ms_) {
    last_ms_ = unix_ms;
    random_low_ = random_();
    // Leave the top bit clear so a millisecond has 2^79 increments of headroom.
    random_high_ = static_cast<std::uint16_t>(random_() & 0x7fff);
  } else if (++random_low_ == 0) {
    ++random_high_;
  }
  // 128 bits: time (48) | random_high (16) | random_low (64), written 5 bits at a time
  // from the least significant end.
  unsigned __int128 value = (static_cast<unsigned __int128>(last_ms_ & 0xffffffffffffull) << 80) |
                            (static_cast<unsigned __int128>(random_high_) << 64) | random_low_;
  ulid id;
  for (int i = ulid::size - 1; i >= 0; --i) {
    id.text_[static_cast<std::size_t>(i)] = k_alphabet[static_cast<unsigned>(value & 31)];
    value >>= 5;
  }
  return id;
}

bool is_ulid(std::string_view text) noexcept {
  if (text.size() != ulid::size || text[0] > '7') return false;
  for (char c : text) {
    bool ok = false;
    for (const char* a = k_alphabet; *a; ++a) ok = ok || *a == c;
    if (!ok) return false;
  }
  return true;
}

}  // namespace ignite::common
