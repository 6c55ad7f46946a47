#include "cli/endpoint.hpp"

#include <gtest/gtest.h>

namespace ignite::cli {
namespace {

endpoint parsed(std::string_view text) {
  std::string why;
  auto e = parse_endpoint(text, why);
  EXPECT_TRUE(e) << text << ": " << why;
  return e.value_or(endpoint{});
}

std::string refusal(std::string_view text) {
  std::string why;
  EXPECT_FALSE(parse_endpoint(text, why)) << text;
  return why;
}

TEST(endpoint, url_and_bare_host_port) {
  auto e = parsed("http://127.0.0.1:9090");
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, 9090);
  EXPECT_EQ(e.url(), "http://127.0.0.1:9090");
  EXPECT_EQ(e.authority(), "127.0.0.1:9090");
  e = parsed("admin.internal:9090");
  EXPECT_EQ(e.host, "admin.internal");
  EXPECT_EQ(e.port, 9090);
  e = parsed("HTTP://Admin:1/");
  EXPECT_EQ(e.host, "Admin");
  EXPECT_EQ(e.port, 1);
}

TEST(endpoint, http_without_a_port_is_port_80) {
  auto e = parsed("http://admin.internal");
  EXPECT_EQ(e.port, 80);
  EXPECT_EQ(e.url(), "http://admin.internal:80");
}

TEST(endpoint, ipv6_literals_in_brackets) {
  auto e = parsed("http://[::1]:9090");
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.authority(), "[::1]:9090");
  EXPECT_EQ(parsed("http://[::1]").port, 80);
}

TEST(endpoint, refusals_say_why) {
  EXPECT_EQ(refusal("https://rpc.dev.dodil.io:443"), "https endpoints are not supported yet (use http://host:port)");
  EXPECT_EQ(refusal("ftp://x:1"), "only http:// endpoints are supported");
  EXPECT_EQ(refusal("http://x:1/api"), "an endpoint has no path: write http://host:port");
  EXPECT_EQ(refusal("admin.internal"), "expected http://host:port or host:port");
  EXPECT_EQ(refusal("http://"), "the host is missing");
  EXPECT_EQ(refusal("http://x:port"), "port must be a number");
  EXPECT_EQ(refusal("http://x:0"), "port must not be 0");
  EXPECT_EQ(refusal("http://x:70000"), "port must be at most 65535");
}

}  // namespace
}  // namespace ignite::cli
