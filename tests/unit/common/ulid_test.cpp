// ULID execution ids (DESIGN.md: 26 chars Crockford base32, unique per request), strictly
// increasing per generator.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

#include <gtest/gtest.h>

#include "common/ulid.hpp"

namespace ignite::common {
namespace {

constexpr std::string_view k_crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// The 48-bit time of an id: its first 10 characters, base32.
std::uint64_t time_of(std::string_view id) {
  std::uint64_t t = 0;
  for (char c : id.substr(0, 10)) {
    auto digit = k_crockford.find(c);
    EXPECT_NE(digit, std::string_view::npos) << c;
    t = (t << 5) | digit;
  }
  return t;
}

TEST(ulid, is_26_crockford_base32_characters) {
  ulid_generator gen;
  const auto id = gen.next(now_ms());
  const auto text = id.view();
  ASSERT_EQ(text.size(), 26u);
  EXPECT_EQ(ulid::size, 26u);
  for (char c : text) EXPECT_NE(k_crockford.find(c), std::string_view::npos) << text;
  EXPECT_LE(text[0], '7') << text;
  EXPECT_TRUE(is_ulid(text)) << text;
}

TEST(ulid, time_prefix_encodes_the_milliseconds) {
  ulid_generator gen;
  // The example of the ULID specification.
  EXPECT_EQ(gen.next(1469918176385).view().substr(0, 10), "01ARYZ6S41");
  EXPECT_EQ(time_of(gen.next(1469918176386).view()), 1469918176386u);

  const auto now = now_ms();
  EXPECT_EQ(time_of(gen.next(now).view()), now);

  ulid_generator fresh;
  EXPECT_EQ(fresh.next(1).view().substr(0, 10), "0000000001");
  EXPECT_EQ(fresh.next((std::uint64_t{1} << 48) - 1).view().substr(0, 10), "7ZZZZZZZZZ");
}

TEST(ulid, ids_are_unique_over_100k) {
  ulid_generator gen;
  std::unordered_set<std::string> seen;
  constexpr int n = 100000;
  seen.reserve(n);
  for (int i = 0; i < n; ++i) {
    auto id = gen.next(now_ms());
    ASSERT_TRUE(is_ulid(id.view())) << id.view();
    ASSERT_TRUE(seen.emplace(id.view()).second) << "duplicate " << id.view() << " after " << i;
  }
}

TEST(ulid, two_generators_in_the_same_millisecond_do_not_collide) {
  ulid_generator a;
  ulid_generator b;
  std::unordered_set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(seen.emplace(a.next(1700000000000).view()).second);
    ASSERT_TRUE(seen.emplace(b.next(1700000000000).view()).second);
  }
}

TEST(ulid, strictly_increasing_within_one_millisecond) {
  ulid_generator gen;
  std::string last(gen.next(1700000000000).view());
  for (int i = 0; i < 100000; ++i) {
    std::string id(gen.next(1700000000000).view());
    ASSERT_LT(last, id) << "at " << i;
    EXPECT_EQ(time_of(id), 1700000000000u);
    last = std::move(id);
  }
}

TEST(ulid, strictly_increasing_across_milliseconds) {
  ulid_generator gen;
  std::string last(gen.next(1700000000000).view());
  for (std::uint64_t ms = 1700000000001; ms < 1700000002001; ++ms) {
    // A few per millisecond, so the random part restarts below the last value often.
    for (int k = 0; k < 3; ++k) {
      std::string id(gen.next(ms).view());
      ASSERT_LT(last, id) << "at ms " << ms;
      EXPECT_EQ(time_of(id), ms);
      last = std::move(id);
    }
  }
}

TEST(ulid, a_clock_stepping_back_still_increases) {
  ulid_generator gen;
  std::string first(gen.next(1700000005000).view());
  std::string second(gen.next(1700000004000).view());  // NTP stepped the clock back a second
  std::string third(gen.next(1700000000000).view());
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  // The last time seen is kept until the clock catches up.
  EXPECT_EQ(time_of(second), 1700000005000u);
  EXPECT_EQ(time_of(third), 1700000005000u);

  std::string caught_up(gen.next(1700000005001).view());
  EXPECT_LT(third, caught_up);
  EXPECT_EQ(time_of(caught_up), 1700000005001u);
}

TEST(ulid, real_clock_ids_increase) {
  ulid_generator gen;
  std::string last(gen.next(now_ms()).view());
  for (int i = 0; i < 20000; ++i) {
    std::string id(gen.next(now_ms()).view());
    ASSERT_LT(last, id);
    last = std::move(id);
  }
}

TEST(is_ulid, accepts_valid_ids) {
  EXPECT_TRUE(is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
  EXPECT_TRUE(is_ulid("00000000000000000000000000"));
  EXPECT_TRUE(is_ulid("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"));
}

TEST(is_ulid, rejects_wrong_length) {
  EXPECT_FALSE(is_ulid(""));
  EXPECT_FALSE(is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FA"));
  EXPECT_FALSE(is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAVX"));
}

TEST(is_ulid, rejects_ids_over_128_bits) {
  EXPECT_FALSE(is_ulid("80000000000000000000000000"));
  EXPECT_FALSE(is_ulid("ZZZZZZZZZZZZZZZZZZZZZZZZZZ"));
}

TEST(is_ulid, rejects_characters_outside_crockford_base32) {
  // I, L, O and U are not in the alphabet.
  for (char bad : {'I', 'L', 'O', 'U', '-', ' ', '!', '\0'}) {
    std::string id = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    id[12] = bad;
    EXPECT_FALSE(is_ulid(id)) << "char " << static_cast<int>(bad);
  }
}

}  // namespace
}  // namespace ignite::common
