// "host:port" as a config writes it: IPv4, bracketed IPv6 and names; every refusal with
// the reason it gives; to_string back to the written form; is_ip_literal.
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "common/host_port.hpp"

namespace ignite::common {
namespace {

constexpr std::string_view k_must_be_host_port = "must be host:port";
constexpr std::string_view k_brackets = "an IPv6 address must be written in brackets, like [::1]:9001";
constexpr std::string_view k_not_a_number = "port must be a number";
constexpr std::string_view k_too_large = "port must be at most 65535";
constexpr std::string_view k_zero = "port must not be 0";

// Parses `text`, expecting success.
host_port parsed(std::string_view text, bool allow_port_zero = false) {
  std::string why;
  auto hp = parse_host_port(text, allow_port_zero, why);
  EXPECT_TRUE(hp) << text << ": " << why;
  return hp.value_or(host_port{});
}

// The reason `text` is refused, or "accepted".
std::string refusal(std::string_view text, bool allow_port_zero = false) {
  std::string why;
  if (auto hp = parse_host_port(text, allow_port_zero, why)) return "accepted";
  EXPECT_FALSE(why.empty()) << text;
  return why;
}

// --- accepted --------------------------------------------------------------------------

TEST(parse_host_port, ipv4_literal) { EXPECT_EQ(parsed("127.0.0.1:9001"), (host_port{"127.0.0.1", 9001})); }

TEST(parse_host_port, bracketed_ipv6_is_stored_without_brackets) {
  EXPECT_EQ(parsed("[::1]:9001"), (host_port{"::1", 9001}));
  EXPECT_EQ(parsed("[2001:db8::17]:443"), (host_port{"2001:db8::17", 443}));
  EXPECT_EQ(parsed("[::ffff:10.0.0.1]:80"), (host_port{"::ffff:10.0.0.1", 80}));
}

TEST(parse_host_port, name_is_kept_as_written) {
  EXPECT_EQ(parsed("pods.internal:8080"), (host_port{"pods.internal", 8080}));
  EXPECT_EQ(parsed("localhost:1"), (host_port{"localhost", 1}));
  EXPECT_EQ(parsed("Pods.Internal:8080").host, "Pods.Internal");
}

TEST(parse_host_port, port_range_edges) {
  EXPECT_EQ(parsed("127.0.0.1:1").port, 1);
  EXPECT_EQ(parsed("127.0.0.1:65535").port, 65535);
  EXPECT_EQ(refusal("127.0.0.1:65536"), k_too_large);
}

TEST(parse_host_port, leading_zeros_in_the_port_are_read_as_decimal) {
  EXPECT_EQ(parsed("127.0.0.1:0080").port, 80);
  EXPECT_EQ(parsed("127.0.0.1:000000000009001").port, 9001);
}

TEST(parse_host_port, port_zero_only_when_allowed) {
  EXPECT_EQ(refusal("127.0.0.1:0"), k_zero);
  EXPECT_EQ(refusal("127.0.0.1:000"), k_zero);
  EXPECT_EQ(parsed("127.0.0.1:0", true), (host_port{"127.0.0.1", 0}));
  EXPECT_EQ(parsed("[::1]:0", true), (host_port{"::1", 0}));
}

TEST(parse_host_port, allowing_port_zero_changes_nothing_else) {
  EXPECT_EQ(parsed("127.0.0.1:9001", true), (host_port{"127.0.0.1", 9001}));
  EXPECT_EQ(refusal("127.0.0.1:x", true), k_not_a_number);
  EXPECT_EQ(refusal("127.0.0.1:65536", true), k_too_large);
  EXPECT_EQ(refusal("127.0.0.1", true), k_must_be_host_port);
}

TEST(parse_host_port, why_is_untouched_on_success) {
  std::string why = "earlier";
  EXPECT_TRUE(parse_host_port("127.0.0.1:9001", false, why));
  EXPECT_EQ(why, "earlier");
}

// --- refused ---------------------------------------------------------------------------

TEST(parse_host_port, missing_colon_host_or_port) {
  EXPECT_EQ(refusal(""), k_must_be_host_port);
  EXPECT_EQ(refusal("127.0.0.1"), k_must_be_host_port);
  EXPECT_EQ(refusal("localhost"), k_must_be_host_port);
  EXPECT_EQ(refusal(":9001"), k_must_be_host_port);
  EXPECT_EQ(refusal("127.0.0.1:"), k_must_be_host_port);
  EXPECT_EQ(refusal(":"), k_must_be_host_port);
  EXPECT_EQ(refusal("[::1]:"), k_must_be_host_port);
}

TEST(parse_host_port, extra_colons_outside_brackets_are_refused) {
  EXPECT_EQ(refusal("localhost:80:90"), k_brackets);
  EXPECT_EQ(refusal("localhost::80"), k_brackets);
  EXPECT_EQ(refusal("localhost:80:"), k_must_be_host_port);
}

TEST(parse_host_port, unbracketed_ipv6_is_refused) {
  EXPECT_EQ(refusal("::1:9001"), k_brackets);
  EXPECT_EQ(refusal("2001:db8::17:443"), k_brackets);
  EXPECT_EQ(refusal("fe80::1"), k_brackets);
}

TEST(parse_host_port, brackets_must_hold_an_ip_literal_and_close) {
  EXPECT_EQ(refusal("[]:9001"), k_brackets);
  EXPECT_EQ(refusal("[::1:9001"), k_brackets);
  EXPECT_EQ(refusal("[pods.internal]:9001"), k_brackets);
  EXPECT_EQ(refusal("[::1]x:9001"), k_brackets);
  EXPECT_EQ(refusal("[::1]"), k_brackets);  // the last colon is inside the brackets
}

TEST(parse_host_port, port_must_be_digits_only) {
  EXPECT_EQ(refusal("127.0.0.1:http"), k_not_a_number);
  EXPECT_EQ(refusal("127.0.0.1:-1"), k_not_a_number);
  EXPECT_EQ(refusal("127.0.0.1:+80"), k_not_a_number);
  EXPECT_EQ(refusal("127.0.0.1: 80"), k_not_a_number);
  EXPECT_EQ(refusal("127.0.0.1:80 "), k_not_a_number);
  EXPECT_EQ(refusal("127.0.0.1:0x50"), k_not_a_number);
  EXPECT_EQ(refusal("[::1]:9o01"), k_not_a_number);
}

TEST(parse_host_port, port_out_of_range_is_refused_however_long) {
  EXPECT_EQ(refusal("127.0.0.1:99999"), k_too_large);
  EXPECT_EQ(refusal("127.0.0.1:4294967297"), k_too_large);  // 2^32 + 1 must not wrap
  EXPECT_EQ(refusal("127.0.0.1:" + std::string(200, '9')), k_too_large);
  EXPECT_EQ(refusal("[::1]:70000", true), k_too_large);
}

// --- to_string -------------------------------------------------------------------------

TEST(host_port_to_string, writes_the_config_form) {
  EXPECT_EQ((host_port{"127.0.0.1", 9001}).to_string(), "127.0.0.1:9001");
  EXPECT_EQ((host_port{"::1", 9001}).to_string(), "[::1]:9001");
  EXPECT_EQ((host_port{"pods.internal", 0}).to_string(), "pods.internal:0");
  EXPECT_EQ((host_port{"10.0.0.1", 65535}).to_string(), "10.0.0.1:65535");
}

TEST(host_port_to_string, round_trips_through_parse) {
  for (std::string_view text : {"127.0.0.1:9001", "[::1]:9001", "[2001:db8::17]:443", "pods.internal:8080",
                                "localhost:65535", "[::ffff:10.0.0.1]:1"}) {
    EXPECT_EQ(parsed(text).to_string(), text);
    EXPECT_EQ(parsed(parsed(text).to_string()), parsed(text)) << text;
  }
  EXPECT_EQ(parsed("127.0.0.1:0", true).to_string(), "127.0.0.1:0");
}

// --- is_ip_literal ---------------------------------------------------------------------

TEST(is_ip_literal, ipv4_and_ipv6_without_brackets) {
  EXPECT_TRUE(is_ip_literal("127.0.0.1"));
  EXPECT_TRUE(is_ip_literal("0.0.0.0"));
  EXPECT_TRUE(is_ip_literal("255.255.255.255"));
  EXPECT_TRUE(is_ip_literal("::1"));
  EXPECT_TRUE(is_ip_literal("::"));
  EXPECT_TRUE(is_ip_literal("2001:db8::17"));
  EXPECT_TRUE(is_ip_literal("::ffff:10.0.0.1"));
}

TEST(is_ip_literal, names_brackets_and_malformed_addresses_are_not) {
  EXPECT_FALSE(is_ip_literal(""));
  EXPECT_FALSE(is_ip_literal("localhost"));
  EXPECT_FALSE(is_ip_literal("pods.internal"));
  EXPECT_FALSE(is_ip_literal("[::1]"));
  EXPECT_FALSE(is_ip_literal("256.0.0.1"));
  EXPECT_FALSE(is_ip_literal("127.0.0"));
  EXPECT_FALSE(is_ip_literal("127.0.0.1 "));
  EXPECT_FALSE(is_ip_literal("127.0.0.1:80"));
  EXPECT_FALSE(is_ip_literal("1:2:3:4:5:6:7:8:9"));
  EXPECT_FALSE(is_ip_literal(std::string(65, '1')));
}

TEST(is_ip_literal, reads_only_the_view_not_what_follows_it) {
  // The view ends before ":80"; a NUL-terminated read past it would see "127.0.0.1:80".
  const std::string_view text = "127.0.0.1:80";
  EXPECT_TRUE(is_ip_literal(text.substr(0, 9)));
  EXPECT_FALSE(is_ip_literal(text.substr(0, 8)));  // "127.0.0."
}

}  // namespace
}  // namespace ignite::common

namespace ignite::common {
namespace {

TEST(parse_host_port, brackets_are_for_ipv6_only) {
  std::string why;
  EXPECT_FALSE(parse_host_port("[127.0.0.1]:80", false, why));
  EXPECT_FALSE(parse_host_port("[pods.internal]:80", false, why));
  EXPECT_TRUE(parse_host_port("[::1]:80", false, why));
}

}  // namespace
}  // namespace ignite::common
