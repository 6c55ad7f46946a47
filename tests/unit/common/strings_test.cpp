// ASCII helpers for protocol text: case folding of ASCII letters only, case-blind
// comparison and prefix, OWS trimming, and lookups by string_view without a string.
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <gtest/gtest.h>

#include "common/strings.hpp"

namespace ignite::common {
namespace {

using namespace std::string_view_literals;

// --- lower -----------------------------------------------------------------------------

TEST(lower, folds_ascii_capitals_only) {
  EXPECT_EQ(lower('A'), 'a');
  EXPECT_EQ(lower('Z'), 'z');
  EXPECT_EQ(lower('M'), 'm');
  for (char c : "az09-_ @[`{~\t"sv) EXPECT_EQ(lower(c), c) << int(c);
}

TEST(lower, every_byte_outside_a_to_z_is_unchanged) {
  for (int i = 0; i < 256; ++i) {
    const char c = static_cast<char>(i);
    const char expected = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    EXPECT_EQ(lower(c), expected) << i;
  }
}

TEST(lower, is_usable_at_compile_time) { static_assert(lower('Q') == 'q'); }

// --- iequals ---------------------------------------------------------------------------

TEST(iequals, ignores_ascii_case) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_TRUE(iequals("HOST", "host"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_TRUE(iequals("x-Forwarded-FOR", "X-forwarded-for"));
}

TEST(iequals, different_text_or_length_is_not_equal) {
  EXPECT_FALSE(iequals("host", "hosts"));
  EXPECT_FALSE(iequals("hosts", "host"));
  EXPECT_FALSE(iequals("host", ""));
  EXPECT_FALSE(iequals("host", "hose"));
  EXPECT_FALSE(iequals("Transfer-Encoding", "Transfer_Encoding"));
}

TEST(iequals, only_letters_are_folded) {
  // '@' and '`' sit next to 'A' and 'a'; '[' and '{' next to 'Z' and 'z'.
  EXPECT_FALSE(iequals("@", "`"));
  EXPECT_FALSE(iequals("[", "{"));
  // Bytes above 0x7f compare as raw bytes: no locale folding of "É" to "é".
  EXPECT_FALSE(iequals("\xc3\x89", "\xc3\xa9"));
  EXPECT_TRUE(iequals("\xc3\xa9", "\xc3\xa9"));
}

TEST(iequals, embedded_nul_bytes_are_compared) {
  EXPECT_FALSE(iequals("a\0b"sv, "a\0c"sv));
  EXPECT_TRUE(iequals("A\0B"sv, "a\0b"sv));
  EXPECT_FALSE(iequals("a\0"sv, "a"sv));
}

TEST(iequals, is_usable_at_compile_time) { static_assert(iequals("Host", "hOST")); }

// --- istarts_with ----------------------------------------------------------------------

TEST(istarts_with, prefix_ignoring_case) {
  EXPECT_TRUE(istarts_with("Content-Type", "content-"));
  EXPECT_TRUE(istarts_with("chunked", "CHUNKED"));
  EXPECT_TRUE(istarts_with("anything", ""));
  EXPECT_TRUE(istarts_with("", ""));
}

TEST(istarts_with, not_a_prefix) {
  EXPECT_FALSE(istarts_with("Content-Type", "type"));
  EXPECT_FALSE(istarts_with("chunk", "chunked"));  // prefix longer than the text
  EXPECT_FALSE(istarts_with("", "x"));
  EXPECT_FALSE(istarts_with("X-Forwarded-For", "X-Forwarded-Host"));
}

// --- trim_ows --------------------------------------------------------------------------

TEST(trim_ows, removes_spaces_and_tabs_at_both_ends) {
  EXPECT_EQ(trim_ows("  chunked\t "), "chunked");
  EXPECT_EQ(trim_ows("\t\tgzip, chunked  "), "gzip, chunked");
  EXPECT_EQ(trim_ows("value"), "value");
}

TEST(trim_ows, keeps_inner_whitespace) { EXPECT_EQ(trim_ows(" a \t b "), "a \t b"); }

TEST(trim_ows, all_whitespace_or_empty_becomes_empty) {
  EXPECT_EQ(trim_ows(""), "");
  EXPECT_EQ(trim_ows(" "), "");
  EXPECT_EQ(trim_ows(" \t \t"), "");
}

TEST(trim_ows, other_whitespace_is_not_ows) {
  // CR, LF, VT, FF and NUL are not optional whitespace in HTTP: they stay, to be refused.
  EXPECT_EQ(trim_ows("\r\nvalue\r\n"), "\r\nvalue\r\n");
  EXPECT_EQ(trim_ows("\vvalue\f"), "\vvalue\f");
  EXPECT_EQ(trim_ows(" \0value\0 "sv), "\0value\0"sv);
}

TEST(trim_ows, returns_a_view_into_the_input) {
  const std::string text = "  token  ";
  const auto trimmed = trim_ows(text);
  EXPECT_EQ(trimmed.data(), text.data() + 2);
  EXPECT_EQ(trimmed.size(), 5u);
}

TEST(trim_ows, is_usable_at_compile_time) { static_assert(trim_ows(" \tx\t ") == "x"); }

// --- string_hash -----------------------------------------------------------------------

TEST(string_hash, same_hash_for_string_and_view) {
  const std::string key = "greeter-acme-corp";
  EXPECT_EQ(string_hash{}(key), string_hash{}(std::string_view(key)));
  EXPECT_EQ(string_hash{}(key), std::hash<std::string>{}(key));
}

TEST(string_hash, heterogeneous_lookup_by_string_view) {
  std::unordered_map<std::string, int, string_hash, std::equal_to<>> map;
  map.emplace("greeter-acme-corp", 1);
  map.emplace("billing-acme-corp", 2);

  // Keys taken out of a larger buffer, as a Host header would be: no string is built.
  const std::string_view host = "greeter-acme-corp.ignite.dodil.cloud";
  const auto label = host.substr(0, host.find('.'));
  auto it = map.find(label);
  ASSERT_NE(it, map.end());
  EXPECT_EQ(it->second, 1);
  EXPECT_TRUE(map.contains("billing-acme-corp"sv));
  EXPECT_EQ(map.count("billing-acme-corp"sv), 1u);
  EXPECT_EQ(map.find("greeter"sv), map.end());
  EXPECT_EQ(map.find(host), map.end());
  // The lookup is exact: case matters to the map.
  EXPECT_FALSE(map.contains("Greeter-Acme-Corp"sv));
}

TEST(string_hash, is_transparent) {
  static_assert(requires { typename string_hash::is_transparent; });
  std::unordered_map<std::string, int, string_hash, std::equal_to<>> map{{"a", 1}};
  const char* c_string = "a";
  EXPECT_TRUE(map.contains(c_string));
}

}  // namespace
}  // namespace ignite::common
