// Host and request-target parsing (DESIGN.md "Hosts"): `<name>-<org>.<domain>`,
// case-insensitive, port and one trailing dot ignored, nothing else accepted.
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "routing/host.hpp"

namespace ignite::routing {
namespace {

constexpr std::string_view k_domain = "ignite.dodil.cloud";

// The label for `host`, or "<none>" so failures print something readable.
std::string label(std::string_view host) {
  auto l = label_of_host(host, k_domain);
  return l ? std::string(l->view()) : std::string("<none>");
}

TEST(label_of_host, plain_host_gives_the_whole_label) {
  EXPECT_EQ(label("greeter-acme.ignite.dodil.cloud"), "greeter-acme");
}

TEST(label_of_host, matching_is_case_insensitive_and_the_label_is_lowercased) {
  EXPECT_EQ(label("Greeter-ACME.ignite.dodil.cloud"), "greeter-acme");
  EXPECT_EQ(label("greeter-acme.IGNITE.Dodil.CLOUD"), "greeter-acme");
  EXPECT_EQ(label("GREETER-ACME.IGNITE.DODIL.CLOUD"), "greeter-acme");
}

TEST(label_of_host, port_is_ignored) {
  EXPECT_EQ(label("greeter-acme.ignite.dodil.cloud:8080"), "greeter-acme");
  EXPECT_EQ(label("greeter-acme.ignite.dodil.cloud:80"), "greeter-acme");
  EXPECT_EQ(label("Greeter-Acme.Ignite.Dodil.Cloud:443"), "greeter-acme");
}

TEST(label_of_host, malformed_port_is_rejected) {
  EXPECT_EQ(label("greeter-acme.ignite.dodil.cloud:"), "<none>");
  EXPECT_EQ(label("greeter-acme.ignite.dodil.cloud:http"), "<none>");
  EXPECT_EQ(label("greeter-acme.ignite.dodil.cloud:80:80"), "<none>");
  EXPECT_EQ(label("greeter-acme.ignite.dodil.cloud:123456"), "<none>");
}

TEST(label_of_host, one_trailing_dot_is_ignored) {
  EXPECT_EQ(label("greeter-acme.ignite.dodil.cloud."), "greeter-acme");
  EXPECT_EQ(label("greeter-acme.ignite.dodil.cloud.:8080"), "greeter-acme");
}

TEST(label_of_host, two_trailing_dots_are_rejected) {
  EXPECT_EQ(label("greeter-acme.ignite.dodil.cloud.."), "<none>");
  EXPECT_EQ(label("greeter-acme.ignite.dodil.cloud..:8080"), "<none>");
}

TEST(label_of_host, other_domains_are_rejected) {
  EXPECT_EQ(label("greeter-acme.example.com"), "<none>");
  EXPECT_EQ(label("greeter-acme.dodil.cloud"), "<none>");
  EXPECT_EQ(label("greeter-acme.ignite.dodil.cloud.evil.com"), "<none>");
  EXPECT_EQ(label("greeter-acme.xignite.dodil.cloud"), "<none>");
  EXPECT_EQ(label("greeter-acmeignite.dodil.cloud"), "<none>");
  EXPECT_EQ(label("greeter-acme.ignite.dodil.clou"), "<none>");
}

TEST(label_of_host, the_bare_domain_and_an_empty_label_are_rejected) {
  EXPECT_EQ(label("ignite.dodil.cloud"), "<none>");
  EXPECT_EQ(label(".ignite.dodil.cloud"), "<none>");
  EXPECT_EQ(label("ignite.dodil.cloud:8080"), "<none>");
}

TEST(label_of_host, extra_labels_are_rejected) {
  EXPECT_EQ(label("www.greeter-acme.ignite.dodil.cloud"), "<none>");
  EXPECT_EQ(label("greeter.acme.ignite.dodil.cloud"), "<none>");
  EXPECT_EQ(label("a.b.c.ignite.dodil.cloud"), "<none>");
}

TEST(label_of_host, ip_literals_are_rejected) {
  EXPECT_EQ(label("127.0.0.1"), "<none>");
  EXPECT_EQ(label("127.0.0.1:8080"), "<none>");
  EXPECT_EQ(label("[::1]"), "<none>");
  EXPECT_EQ(label("[::1]:8080"), "<none>");
  EXPECT_EQ(label("[2001:db8::1]:443"), "<none>");
  EXPECT_EQ(label("10.0.0.1.ignite.dodil.cloud"), "<none>");
}

TEST(label_of_host, empty_host_is_rejected) {
  EXPECT_EQ(label(""), "<none>");
  EXPECT_EQ(label(":8080"), "<none>");
  EXPECT_EQ(label("."), "<none>");
}

TEST(label_of_host, characters_outside_letters_digits_and_hyphen_are_rejected) {
  EXPECT_EQ(label("greeter_acme.ignite.dodil.cloud"), "<none>");
  EXPECT_EQ(label("greeter acme.ignite.dodil.cloud"), "<none>");
  EXPECT_EQ(label("greeter%2dacme.ignite.dodil.cloud"), "<none>");
  EXPECT_EQ(label("greeter@acme.ignite.dodil.cloud"), "<none>");
  EXPECT_EQ(label("greeter/acme.ignite.dodil.cloud"), "<none>");
  EXPECT_EQ(label("gr\xc3\xa9\x65ter-acme.ignite.dodil.cloud"), "<none>");  // UTF-8 'é'
  EXPECT_EQ(label(std::string_view("greeter\0acme.ignite.dodil.cloud", 31)), "<none>");
}

TEST(label_of_host, digits_are_allowed_in_the_label) { EXPECT_EQ(label("app2-org9.ignite.dodil.cloud"), "app2-org9"); }

TEST(label_of_host, label_of_63_characters_is_accepted_and_64_rejected) {
  const std::string l63 = std::string(40, 'a') + "-" + std::string(22, 'b');
  ASSERT_EQ(l63.size(), 63u);
  EXPECT_EQ(label(l63 + ".ignite.dodil.cloud"), l63);
  EXPECT_EQ(label(l63 + ".ignite.dodil.cloud.:8080"), l63);

  const std::string l64 = l63 + "b";
  EXPECT_EQ(label(l64 + ".ignite.dodil.cloud"), "<none>");
  EXPECT_EQ(label(std::string(200, 'x') + ".ignite.dodil.cloud"), "<none>");
}

TEST(label_of_host, hyphens_in_name_and_org_stay_in_one_label) {
  // The route table is keyed by the whole label; the host never says where name ends.
  EXPECT_EQ(label("my-app-acme-corp.ignite.dodil.cloud"), "my-app-acme-corp");
  EXPECT_EQ(label("a-b-c.ignite.dodil.cloud"), "a-b-c");
  EXPECT_EQ(label("My-App-Acme-Corp.ignite.dodil.cloud:8080"), "my-app-acme-corp");
}

TEST(label_of_host, other_configured_domains_work) {
  auto l = label_of_host("greeter-acme.example.test", "example.test");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->view(), "greeter-acme");
  EXPECT_FALSE(label_of_host("greeter-acme.ignite.dodil.cloud", "example.test"));
}

// --- parse_target -------------------------------------------------------------------

TEST(parse_target, origin_form_root) {
  auto t = parse_target("/");
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->absolute);
  EXPECT_EQ(t->authority, "");
  EXPECT_EQ(t->path, "/");
  EXPECT_EQ(t->query, "");
}

TEST(parse_target, origin_form_with_query) {
  auto t = parse_target("/?q");
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->absolute);
  EXPECT_EQ(t->path, "/");
  EXPECT_EQ(t->query, "q");

  t = parse_target("/a/b?x=1&y=2");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/a/b");
  EXPECT_EQ(t->query, "x=1&y=2");
  EXPECT_EQ(t->authority, "");

  // Only the first '?' splits.
  t = parse_target("/?a?b");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/");
  EXPECT_EQ(t->query, "a?b");
}

TEST(parse_target, origin_form_with_empty_query) {
  auto t = parse_target("/?");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/");
  EXPECT_EQ(t->query, "");
}

TEST(parse_target, origin_form_other_path) {
  auto t = parse_target("/other");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/other");
  EXPECT_EQ(t->query, "");
}

TEST(parse_target, absolute_http_without_path) {
  auto t = parse_target("http://greeter-acme.ignite.dodil.cloud");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->absolute);
  EXPECT_EQ(t->authority, "greeter-acme.ignite.dodil.cloud");
  EXPECT_EQ(t->path, "/");
  EXPECT_EQ(t->query, "");
}

TEST(parse_target, absolute_http_with_port_and_path) {
  auto t = parse_target("http://greeter-acme.ignite.dodil.cloud:8080/");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->absolute);
  EXPECT_EQ(t->authority, "greeter-acme.ignite.dodil.cloud:8080");
  EXPECT_EQ(t->path, "/");
  EXPECT_EQ(t->query, "");
}

TEST(parse_target, absolute_http_with_path_and_query) {
  auto t = parse_target("http://h.example/p/q?x=1");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->absolute);
  EXPECT_EQ(t->authority, "h.example");
  EXPECT_EQ(t->path, "/p/q");
  EXPECT_EQ(t->query, "x=1");
}

TEST(parse_target, absolute_http_with_query_but_no_path) {
  auto t = parse_target("http://h.example?x=1");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->absolute);
  EXPECT_EQ(t->authority, "h.example");
  EXPECT_EQ(t->path, "/");
  EXPECT_EQ(t->query, "x=1");
}

TEST(parse_target, absolute_https_forms) {
  auto t = parse_target("https://h.example");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->absolute);
  EXPECT_EQ(t->authority, "h.example");
  EXPECT_EQ(t->path, "/");
  EXPECT_EQ(t->query, "");

  t = parse_target("https://h.example:8443/?q");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->absolute);
  EXPECT_EQ(t->authority, "h.example:8443");
  EXPECT_EQ(t->path, "/");
  EXPECT_EQ(t->query, "q");
}

TEST(parse_target, scheme_is_case_insensitive) {
  auto t = parse_target("HTTP://h.example/");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->absolute);
  EXPECT_EQ(t->authority, "h.example");
  t = parse_target("HttpS://h.example/x");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->authority, "h.example");
  EXPECT_EQ(t->path, "/x");
}

TEST(parse_target, authority_form_is_rejected) {
  EXPECT_FALSE(parse_target("greeter-acme.ignite.dodil.cloud:443"));
  EXPECT_FALSE(parse_target("h.example:80"));
}

TEST(parse_target, asterisk_form_is_rejected) { EXPECT_FALSE(parse_target("*")); }

TEST(parse_target, garbage_is_rejected) {
  EXPECT_FALSE(parse_target(""));
  EXPECT_FALSE(parse_target("relative/path"));
  EXPECT_FALSE(parse_target("ftp://h.example/"));
  EXPECT_FALSE(parse_target("http://"));
  EXPECT_FALSE(parse_target("https://"));
  EXPECT_FALSE(parse_target("http:///p"));
  EXPECT_FALSE(parse_target("http://?q"));
  EXPECT_FALSE(parse_target("http:/h.example/"));
}

TEST(parse_target, userinfo_in_absolute_form_is_rejected) {
  EXPECT_FALSE(parse_target("http://user@h.example/"));
  EXPECT_FALSE(parse_target("http://user:pw@h.example/"));
}

}  // namespace
}  // namespace ignite::routing
