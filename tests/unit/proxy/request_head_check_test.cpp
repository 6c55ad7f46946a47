// Raw request-head checks that Beast does not make (smuggling and resource vectors):
// find_head_end on partial input, and check_request_head rule by rule.
#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <tuple>

#include <gtest/gtest.h>

#include "proxy/request_head_check.hpp"

namespace ignite::proxy {
namespace {

const std::string k_head =
    "POST /?q HTTP/1.1\r\n"
    "Host: greeter-acme-corp.ignite.dodil.cloud\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 5\r\n"
    "\r\n";

// A head with these field lines (each without its CRLF) after `request_line`.
std::string head_of(std::initializer_list<std::string_view> fields, std::string_view request_line = "POST / HTTP/1.1") {
  std::string out(request_line);
  out += "\r\n";
  for (auto f : fields) out.append(f).append("\r\n");
  out += "\r\n";
  return out;
}

proxy_error error_of(const std::string& head) { return check_request_head(head).error; }

// --- find_head_end --------------------------------------------------------------------

TEST(find_head_end, complete_head_ends_after_the_blank_line) {
  std::size_t scanned = 0;
  EXPECT_EQ(find_head_end(k_head, scanned), k_head.size());
}

TEST(find_head_end, body_bytes_after_the_head_are_not_included) {
  std::size_t scanned = 0;
  const std::string data = k_head + "hello\r\n\r\nmore";
  EXPECT_EQ(find_head_end(data, scanned), k_head.size());
}

TEST(find_head_end, incomplete_head_gives_zero) {
  for (std::size_t n = 0; n < k_head.size(); ++n) {
    std::size_t scanned = 0;
    EXPECT_EQ(find_head_end(std::string_view(k_head).substr(0, n), scanned), 0u) << "prefix of " << n;
  }
}

TEST(find_head_end, bytes_fed_one_at_a_time_find_the_end_exactly_once) {
  std::size_t scanned = 0;
  std::size_t found_at = 0;
  int found = 0;
  for (std::size_t n = 1; n <= k_head.size(); ++n) {
    auto end = find_head_end(std::string_view(k_head).substr(0, n), scanned);
    EXPECT_LE(scanned, n);
    if (end != 0) {
      ++found;
      found_at = n;
      EXPECT_EQ(end, k_head.size());
    }
  }
  EXPECT_EQ(found, 1);
  EXPECT_EQ(found_at, k_head.size());
}

TEST(find_head_end, chunks_of_any_size_find_the_end_at_the_same_offset) {
  const std::string data = k_head + "hello";
  for (std::size_t step = 1; step <= 9; ++step) {
    std::size_t scanned = 0;
    std::size_t end = 0;
    std::size_t n = 0;
    while (end == 0 && n < data.size()) {
      n = std::min(data.size(), n + step);
      end = find_head_end(std::string_view(data).substr(0, n), scanned);
    }
    EXPECT_EQ(end, k_head.size()) << "step " << step;
    EXPECT_GE(n, k_head.size()) << "step " << step;
    EXPECT_LT(n, k_head.size() + step) << "step " << step;
  }
}

TEST(find_head_end, scanning_resumes_instead_of_restarting) {
  // After a miss the next call starts near the end: work stays linear for slow clients.
  std::size_t scanned = 0;
  EXPECT_EQ(find_head_end(std::string_view(k_head).substr(0, 20), scanned), 0u);
  EXPECT_GE(scanned, 18u);
  EXPECT_LE(scanned, 20u);
}

TEST(find_head_end, head_ending_in_bare_lf_is_found_so_it_can_be_refused) {
  std::size_t scanned = 0;
  const std::string bare = "POST / HTTP/1.1\nHost: x\n\n";
  EXPECT_EQ(find_head_end(bare, scanned), bare.size());
  EXPECT_EQ(check_request_head(bare).error, proxy_error::bad_request);
}

// --- check_request_head: accepted heads ----------------------------------------------

TEST(check_request_head, content_length_request_passes_and_reports_facts) {
  auto f = check_request_head(k_head);
  EXPECT_EQ(f.error, proxy_error::none) << f.why;
  EXPECT_TRUE(f.has_content_length);
  EXPECT_FALSE(f.chunked);
  EXPECT_FALSE(f.http10);
  EXPECT_EQ(f.host_count, 1u);
}

TEST(check_request_head, chunked_request_passes_and_reports_facts) {
  auto f = check_request_head(head_of({"Host: h", "Transfer-Encoding: chunked"}));
  EXPECT_EQ(f.error, proxy_error::none) << f.why;
  EXPECT_TRUE(f.chunked);
  EXPECT_FALSE(f.has_content_length);
  EXPECT_FALSE(f.http10);
  EXPECT_EQ(f.host_count, 1u);
}

TEST(check_request_head, transfer_coding_and_names_are_case_insensitive) {
  auto f = check_request_head(head_of({"host: h", "transfer-encoding:  Chunked "}));
  EXPECT_EQ(f.error, proxy_error::none) << f.why;
  EXPECT_TRUE(f.chunked);
  EXPECT_EQ(f.host_count, 1u);

  f = check_request_head(head_of({"HOST: h", "CONTENT-LENGTH:0"}));
  EXPECT_EQ(f.error, proxy_error::none) << f.why;
  EXPECT_TRUE(f.has_content_length);
  EXPECT_EQ(f.host_count, 1u);
}

TEST(check_request_head, request_without_body_headers_passes) {
  auto f = check_request_head(head_of({"Host: h"}));
  EXPECT_EQ(f.error, proxy_error::none) << f.why;
  EXPECT_FALSE(f.has_content_length);
  EXPECT_FALSE(f.chunked);
}

TEST(check_request_head, http10_is_reported) {
  auto f = check_request_head(head_of({"Host: h", "Content-Length: 3"}, "POST / HTTP/1.0"));
  EXPECT_EQ(f.error, proxy_error::none) << f.why;
  EXPECT_TRUE(f.http10);
  EXPECT_TRUE(f.has_content_length);
}

TEST(check_request_head, missing_host_is_counted_not_refused_here) {
  auto f = check_request_head(head_of({"Content-Length: 0"}));
  EXPECT_EQ(f.error, proxy_error::none) << f.why;
  EXPECT_EQ(f.host_count, 0u);
}

// --- check_request_head: framing -------------------------------------------------------

TEST(check_request_head, content_length_then_transfer_encoding_is_bad_request) {
  EXPECT_EQ(error_of(head_of({"Host: h", "Content-Length: 5", "Transfer-Encoding: chunked"})),
            proxy_error::bad_request);
}

TEST(check_request_head, transfer_encoding_then_content_length_is_bad_request) {
  EXPECT_EQ(error_of(head_of({"Host: h", "Transfer-Encoding: chunked", "Content-Length: 5"})),
            proxy_error::bad_request);
}

TEST(check_request_head, duplicate_equal_content_length_is_bad_request) {
  EXPECT_EQ(error_of(head_of({"Host: h", "Content-Length: 5", "Content-Length: 5"})), proxy_error::bad_request);
}

TEST(check_request_head, conflicting_content_length_is_bad_request) {
  EXPECT_EQ(error_of(head_of({"Host: h", "Content-Length: 5", "Content-Length: 6"})), proxy_error::bad_request);
}

TEST(check_request_head, content_length_list_is_bad_request) {
  EXPECT_EQ(error_of(head_of({"Host: h", "Content-Length: 5, 5"})), proxy_error::bad_request);
  EXPECT_EQ(error_of(head_of({"Host: h", "Content-Length: 5,6"})), proxy_error::bad_request);
}

TEST(check_request_head, non_digit_content_length_is_bad_request) {
  for (const char* value : {"abc", "+5", "-1", "0x10", "5a", "5 5", "1.0", ""}) {
    auto field = std::string("Content-Length: ") + value;
    EXPECT_EQ(error_of(head_of({"Host: h", field})), proxy_error::bad_request) << value;
  }
}

TEST(check_request_head, other_transfer_codings_are_bad_request) {
  EXPECT_EQ(error_of(head_of({"Host: h", "Transfer-Encoding: gzip"})), proxy_error::bad_request);
  EXPECT_EQ(error_of(head_of({"Host: h", "Transfer-Encoding: gzip, chunked"})), proxy_error::bad_request);
  EXPECT_EQ(error_of(head_of({"Host: h", "Transfer-Encoding: chunked, chunked"})), proxy_error::bad_request);
  EXPECT_EQ(error_of(head_of({"Host: h", "Transfer-Encoding: identity"})), proxy_error::bad_request);
  EXPECT_EQ(error_of(head_of({"Host: h", "Transfer-Encoding: xchunked"})), proxy_error::bad_request);
  EXPECT_EQ(error_of(head_of({"Host: h", "Transfer-Encoding:"})), proxy_error::bad_request);
}

TEST(check_request_head, two_transfer_encoding_fields_are_bad_request) {
  EXPECT_EQ(error_of(head_of({"Host: h", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked"})),
            proxy_error::bad_request);
  EXPECT_EQ(error_of(head_of({"Host: h", "Transfer-Encoding: gzip", "Transfer-Encoding: chunked"})),
            proxy_error::bad_request);
}

TEST(check_request_head, transfer_encoding_in_http10_is_bad_request) {
  EXPECT_EQ(error_of(head_of({"Host: h", "Transfer-Encoding: chunked"}, "POST / HTTP/1.0")), proxy_error::bad_request);
}

// --- check_request_head: syntax --------------------------------------------------------

TEST(check_request_head, obs_fold_with_space_is_bad_request) {
  EXPECT_EQ(error_of(head_of({"Host: h", "X-Long: first", " continued"})), proxy_error::bad_request);
}

TEST(check_request_head, obs_fold_with_htab_is_bad_request) {
  EXPECT_EQ(error_of(head_of({"Host: h", "X-Long: first", "\tcontinued"})), proxy_error::bad_request);
}

TEST(check_request_head, folded_transfer_encoding_is_bad_request) {
  // The smuggling shape: a fold hiding a coding from one parser but not another.
  EXPECT_EQ(error_of(head_of({"Host: h", "Transfer-Encoding: chunked", " gzip"})), proxy_error::bad_request);
}

TEST(check_request_head, whitespace_before_the_first_field_is_bad_request) {
  EXPECT_EQ(error_of(head_of({" Host: h"})), proxy_error::bad_request);
}

TEST(check_request_head, two_host_fields_are_bad_request) {
  EXPECT_EQ(error_of(head_of({"Host: a", "Host: b"})), proxy_error::bad_request);
  EXPECT_EQ(error_of(head_of({"Host: a", "host: a"})), proxy_error::bad_request);
}

TEST(check_request_head, bare_lf_is_bad_request) {
  EXPECT_EQ(error_of("POST / HTTP/1.1\nHost: h\r\n\r\n"), proxy_error::bad_request);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\nContent-Length: 0\r\n\r\n"), proxy_error::bad_request);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\n\n"), proxy_error::bad_request);
}

TEST(check_request_head, bare_cr_is_bad_request) {
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\rX-A: 1\r\n\r\n"), proxy_error::bad_request);
}

TEST(check_request_head, whitespace_before_colon_is_bad_request) {
  EXPECT_EQ(error_of(head_of({"Host : h"})), proxy_error::bad_request);
  EXPECT_EQ(error_of(head_of({"Host: h", "Content-Length : 5"})), proxy_error::bad_request);
  EXPECT_EQ(error_of(head_of({"Host: h", "Transfer-Encoding\t: chunked"})), proxy_error::bad_request);
}

TEST(check_request_head, field_without_name_or_colon_is_bad_request) {
  EXPECT_EQ(error_of(head_of({"Host: h", "no colon here"})), proxy_error::bad_request);
  EXPECT_EQ(error_of(head_of({"Host: h", ": empty name"})), proxy_error::bad_request);
}

TEST(check_request_head, every_refusal_says_why) {
  auto f = check_request_head(head_of({"Host: h", "Content-Length: 5", "Transfer-Encoding: chunked"}));
  EXPECT_EQ(f.error, proxy_error::bad_request);
  EXPECT_FALSE(f.why.empty());
}

// --- check_request_head: field count ----------------------------------------------------

std::string head_with_fields(std::size_t count) {
  std::string out = "POST / HTTP/1.1\r\nHost: h\r\n";
  for (std::size_t i = 1; i < count; ++i) out += "X-F" + std::to_string(i) + ": v\r\n";
  out += "\r\n";
  return out;
}

TEST(check_request_head, one_hundred_fields_pass) {
  ASSERT_EQ(k_max_header_fields, 100u);
  auto f = check_request_head(head_with_fields(100));
  EXPECT_EQ(f.error, proxy_error::none) << f.why;
  EXPECT_EQ(f.host_count, 1u);
}

TEST(check_request_head, one_hundred_and_one_fields_are_headers_too_large) {
  EXPECT_EQ(error_of(head_with_fields(101)), proxy_error::headers_too_large);
  EXPECT_EQ(error_of(head_with_fields(1000)), proxy_error::headers_too_large);
}

}  // namespace
}  // namespace ignite::proxy

namespace ignite::proxy {
namespace {

// --- check_field_line: the rules heads and trailers share ---------------------------------

TEST(check_field_line, splits_name_and_trimmed_value) {
  auto f = check_field_line("X-Name: \t value with spaces \t");
  EXPECT_EQ(f.error, proxy_error::none);
  EXPECT_EQ(f.name, "X-Name");
  EXPECT_EQ(f.value, "value with spaces");
}

TEST(check_field_line, name_and_value_of_65533_bytes_pass_and_65534_are_too_large) {
  EXPECT_EQ(check_field_line("X: " + std::string(65533, 'a')).error, proxy_error::none);
  EXPECT_EQ(check_field_line(std::string(65533, 'n') + ": v").error, proxy_error::none);
  EXPECT_EQ(check_field_line("X: " + std::string(65534, 'a')).error, proxy_error::headers_too_large);
  EXPECT_EQ(check_field_line(std::string(65534, 'n') + ": v").error, proxy_error::headers_too_large);
}

TEST(check_field_line, control_bytes_in_the_value_are_bad_request) {
  using namespace std::string_literals;
  for (auto line : {"X: a\0b"s,
                    "X: a\x01"
                    "b"s,
                    "X: a\x7f"s, "X: a\x1b[31m"s}) {
    SCOPED_TRACE(line);
    EXPECT_EQ(check_field_line(line).error, proxy_error::bad_request);
  }
  EXPECT_EQ(check_field_line("X: tab\tinside").error, proxy_error::none);
  EXPECT_EQ(check_field_line("X: caf\xc3\xa9").error, proxy_error::none) << "obs-text is allowed";
}

TEST(check_field_line, names_are_tokens) {
  for (std::string_view line : {"X(A): v", "X/A: v", "X\"A: v", "X@A: v", "X A: v", "\x80X: v"}) {
    SCOPED_TRACE(line);
    EXPECT_EQ(check_field_line(line).error, proxy_error::bad_request);
  }
  EXPECT_EQ(check_field_line("X!#$%&'*+-.^_`|~9: v").error, proxy_error::none);
}

TEST(check_request_head, a_field_of_65534_bytes_is_headers_too_large) {
  EXPECT_EQ(error_of(head_of({"Host: h", "X: " + std::string(65534, 'a')})), proxy_error::headers_too_large);
  EXPECT_EQ(error_of(head_of({"Host: h", "X: " + std::string(65533, 'a')})), proxy_error::none);
}

TEST(check_request_head, a_nul_anywhere_is_bad_request) {
  using namespace std::string_literals;
  EXPECT_EQ(error_of("POST /\0 HTTP/1.1\r\nHost: h\r\n\r\n"s), proxy_error::bad_request);
  EXPECT_EQ(error_of(head_of({"Host: h\0"s})), proxy_error::bad_request);
}

TEST(check_request_head, counts_fields) { EXPECT_EQ(check_request_head(k_head).fields, 3u); }

// --- reading the head (request_head) --------------------------------------------------

TEST(request_head, the_request_line_and_the_fields_are_read_in_wire_order) {
  request_head h;
  const auto head = head_of({"Host: a.example", "X-B: 1", "x-a:  two ", "X-B: 3"}, "POST /p?q=1 HTTP/1.1");
  const auto facts = check_request_head(head, &h);
  ASSERT_EQ(facts.error, proxy_error::none) << facts.why;
  EXPECT_EQ(h.method, "POST");
  EXPECT_EQ(h.target, "/p?q=1");
  ASSERT_EQ(h.field_count, 4u);
  EXPECT_EQ(h.fields[1].name(), "X-B");
  EXPECT_EQ(h.fields[2].name(), "x-a");
  EXPECT_EQ(h.fields[2].value(), "two");
  EXPECT_EQ(h.fields[3].value(), "3");
  EXPECT_EQ(h.find("x-b").value_or(""), "1") << "the first of a name, any case";
  EXPECT_EQ(h.find("HOST").value_or(""), "a.example");
  EXPECT_FALSE(h.find("x-c"));
}

TEST(request_head, content_length_is_read_and_one_past_the_largest_number_is_refused) {
  request_head h;
  ASSERT_EQ(check_request_head(head_of({"Content-Length: 18446744073709551615"}), &h).error, proxy_error::none);
  EXPECT_EQ(h.content_length, 18446744073709551615u);
  EXPECT_EQ(error_of(head_of({"Content-Length: 18446744073709551616"})), proxy_error::bad_request);
  EXPECT_EQ(error_of(head_of({"Content-Length: 99999999999999999999999"})), proxy_error::bad_request);
}

TEST(request_head, keep_alive_unless_http10_or_a_connection_field_lists_close) {
  for (auto [line, fields, keep] : std::initializer_list<std::tuple<std::string_view, std::string_view, bool>>{
           {"POST / HTTP/1.1", "X: y", true},
           {"POST / HTTP/1.1", "Connection: close", false},
           {"POST / HTTP/1.1", "Connection: x-a, CLOSE", false},
           {"POST / HTTP/1.1", "Connection: closed", true},
           {"POST / HTTP/1.0", "Connection: keep-alive", false},
       }) {
    request_head h;
    const auto facts = check_request_head(head_of({fields}, line), &h);
    ASSERT_EQ(facts.error, proxy_error::none) << line << " / " << fields;
    EXPECT_EQ(h.keep_alive(facts), keep) << line << " / " << fields;
  }
}

TEST(request_head, malformed_request_lines_are_refused) {
  for (auto line : {"POST  / HTTP/1.1", "POST / HTTP/1.1 ", " POST / HTTP/1.1", "POST / HTTP/2.0", "POST / HTTP/1.2",
                    "POST / http/1.1", "POST /a b HTTP/1.1", "PO(ST / HTTP/1.1", "POST", "POST /", "POST  HTTP/1.1",
                    "POST /\x7f HTTP/1.1"}) {
    std::string request_line(line);
    EXPECT_EQ(error_of(head_of({"Host: a"}, request_line)), proxy_error::bad_request) << line;
  }
  // A method is any token, in its case: routing answers 405 for all but POST.
  request_head h;
  const auto head = head_of({"Host: a"}, "post * HTTP/1.0");  // h's views point into it
  ASSERT_EQ(check_request_head(head, &h).error, proxy_error::none);
  EXPECT_EQ(h.method, "post");
  EXPECT_EQ(h.target, "*");
}

}  // namespace
}  // namespace ignite::proxy
