// Request smuggling shapes, one case each, against the real proxy over raw sockets. Each
// case checks the error table's answer, that the connection is closed after it, and that
// nothing reached the pod. The shapes already covered elsewhere (CL+TE in both orders,
// duplicate and list Content-Length, TE other than chunked, obs-fold, HTTP/1.0 with TE,
// duplicate Host: error_responses_test; NUL and control bytes, chunk extensions over the
// line bound, malformed trailers: hostile_framing_test) are not repeated here.
#include <string>

#include <gtest/gtest.h>

#include "proxy_fixture.hpp"

namespace ignite::test {
namespace {

using namespace std::string_literals;

const std::string h = std::string(k_host);
const std::string k_chunked_head = "POST / HTTP/1.1\r\nHost: " + h + "\r\nTransfer-Encoding: chunked\r\n\r\n";

struct shape {
  std::string name;
  std::string raw;
  unsigned status;
  std::string code;
};

void PrintTo(const shape& c, std::ostream* os) { *os << c.name; }

class smuggling_shape : public proxy_fixture, public ::testing::WithParamInterface<shape> {};

TEST_P(smuggling_shape, is_refused_closed_and_never_forwarded) {
  start_proxy(greeter_config({{"max_body_bytes", 65536}}));
  auto client = connect();
  client->send(GetParam().raw);  // may fail part-way: the proxy answers and closes early
  expect_proxy_error(client->read_response(), GetParam().status, GetParam().code);
  const auto end = client->read_until_closed();
  EXPECT_TRUE(end.closed()) << end.ec.message();
  EXPECT_EQ(end.data, "") << "nothing may follow the error answer";
  EXPECT_EQ(pod_.request_count(), 0u) << "a smuggled request reached the pod";
}

std::string with_fields(std::string fields, std::string body = "") {
  return "POST / HTTP/1.1\r\nHost: " + h + "\r\n" + fields + "\r\n" + body;
}

INSTANTIATE_TEST_SUITE_P(
    shapes, smuggling_shape,
    ::testing::Values(
        // Transfer-Encoding that is not exactly one "chunked".
        shape{"te_chunked_twice_in_one_field", with_fields("Transfer-Encoding: chunked, chunked\r\n"), 400,
              "bad_request"},
        shape{"te_identity", with_fields("Transfer-Encoding: identity\r\nContent-Length: 2\r\n", "hi"), 400,
              "bad_request"},
        shape{"te_xchunked", with_fields("Transfer-Encoding: xchunked\r\n"), 400, "bad_request"},
        shape{"te_chunked_with_a_parameter", with_fields("Transfer-Encoding: chunked;q=1\r\n"), 400, "bad_request"},
        shape{"te_with_a_vertical_tab",
              with_fields("Transfer-Encoding:\x0b"
                          "chunked\r\n"),
              400, "bad_request"},
        shape{"te_empty_then_chunked", with_fields("Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n"), 400,
              "bad_request"},
        shape{"te_in_an_http10_request_with_cl",
              "POST / HTTP/1.0\r\nHost: " + h + "\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nhi", 400,
              "bad_request"},
        // Content-Length that two parsers could read differently.
        shape{"cl_with_a_sign", with_fields("Content-Length: +2\r\n", "hi"), 400, "bad_request"},
        shape{"cl_hex", with_fields("Content-Length: 0x2\r\n", "hi"), 400, "bad_request"},
        shape{"cl_with_inner_space", with_fields("Content-Length: 1 2\r\n", "hi"), 400, "bad_request"},
        shape{"cl_empty", with_fields("Content-Length:\r\n"), 400, "bad_request"},
        shape{"cl_overflowing_64_bits", with_fields("Content-Length: 99999999999999999999999\r\n"), 400, "bad_request"},
        // Duplicate Host, one of them differently cased.
        shape{"host_twice_other_case", with_fields("host: other-acme-corp.ignite.dodil.cloud\r\nContent-Length: 0\r\n"),
              400, "bad_request"},
        // Line endings.
        shape{"bare_lf_after_the_request_line", "POST / HTTP/1.1\nHost: " + h + "\r\nContent-Length: 0\r\n\r\n", 400,
              "bad_request"},
        shape{"bare_lf_after_a_field", "POST / HTTP/1.1\r\nHost: " + h + "\nContent-Length: 0\r\n\r\n", 400,
              "bad_request"},
        shape{"bare_lf_ending_the_head", "POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 0\r\n\n", 400,
              "bad_request"},
        shape{"bare_cr_in_a_field", with_fields("X-A: a\rContent-Length: 5\r\nContent-Length: 0\r\n"), 400,
              "bad_request"},
        shape{"bare_cr_in_the_request_line", "POST /\r HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 0\r\n\r\n", 400,
              "bad_request"},
        // Field names.
        shape{"space_before_the_colon", with_fields("Content-Length : 2\r\n", "hi"), 400, "bad_request"},
        shape{"tab_before_the_colon", with_fields("Transfer-Encoding\t: chunked\r\n"), 400, "bad_request"},
        shape{"space_before_the_colon_of_host", "POST / HTTP/1.1\r\nHost : " + h + "\r\nContent-Length: 0\r\n\r\n", 400,
              "bad_request"},
        shape{"empty_field_name", with_fields(": x\r\nContent-Length: 0\r\n"), 400, "bad_request"},
        shape{"field_without_a_colon", with_fields("Content-Length 0\r\n"), 400, "bad_request"},
        // NUL bytes.
        shape{"nul_in_the_request_line", "POST /\0 HTTP/1.1\r\nHost: "s + h + "\r\nContent-Length: 0\r\n\r\n", 400,
              "bad_request"},
        shape{"nul_in_a_field_name", with_fields("X-\0A: b\r\nContent-Length: 0\r\n"s), 400, "bad_request"},
        // Chunk sizes.
        shape{"chunk_size_not_hex", k_chunked_head + "zz\r\nhi\r\n0\r\n\r\n", 400, "bad_request"},
        shape{"chunk_size_negative", k_chunked_head + "-2\r\nhi\r\n0\r\n\r\n", 400, "bad_request"},
        shape{"chunk_size_with_0x", k_chunked_head + "0x2\r\nhi\r\n0\r\n\r\n", 400, "bad_request"},
        shape{"chunk_size_empty", k_chunked_head + "\r\nhi\r\n0\r\n\r\n", 400, "bad_request"},
        shape{"chunk_size_with_a_leading_space", k_chunked_head + " 2\r\nhi\r\n0\r\n\r\n", 400, "bad_request"},
        shape{"chunk_size_overflowing_64_bits", k_chunked_head + "1ffffffffffffffff\r\nhi\r\n0\r\n\r\n", 400,
              "bad_request"},
        shape{"chunk_size_of_16_hex_digits", k_chunked_head + "0000000000000002\r\nhi\r\n0\r\n\r\n", 400,
              "bad_request"},
        shape{"chunk_size_over_max_body_bytes", k_chunked_head + "ffffff\r\nhi", 413, "payload_too_large"},
        shape{"chunk_shorter_than_its_size", k_chunked_head + "5\r\nhi\r\n0\r\n\r\nPOST / HTTP/1.1\r\n\r\n", 400,
              "bad_request"},
        shape{"chunk_size_line_with_bare_lf", k_chunked_head + "2\nhi\r\n0\r\n\r\n", 400, "bad_request"},
        shape{"chunk_data_with_bare_lf", k_chunked_head + "2\r\nhi\n0\r\n\r\n", 400, "bad_request"},
        // Chunk extensions that could split or end the line.
        shape{"chunk_extension_with_a_bare_cr", k_chunked_head + "2;a=b\rX\r\nhi\r\n0\r\n\r\n", 400, "bad_request"},
        shape{"chunk_extension_with_nul", k_chunked_head + "2;a=\0\r\nhi\r\n0\r\n\r\n"s, 400, "bad_request"},
        shape{"chunk_extension_without_a_semicolon", k_chunked_head + "2 a=b\r\nhi\r\n0\r\n\r\n", 400, "bad_request"},
        // Request lines.
        shape{"request_line_over_max_header_bytes",
              "POST /?" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 0\r\n\r\n", 431,
              "headers_too_large"},
        shape{"request_line_alone_over_max_header_bytes", "POST /?" + std::string(40000, 'a'), 431,
              "headers_too_large"},
        shape{"request_line_with_two_spaces", "POST  / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 0\r\n\r\n", 400,
              "bad_request"},
        shape{"request_line_http2_version", "POST / HTTP/2.0\r\nHost: " + h + "\r\nContent-Length: 0\r\n\r\n", 400,
              "bad_request"},
        // Bodies over the limit (65536 here), declared and streamed.
        shape{"content_length_over_the_limit", with_fields("Content-Length: 65537\r\n", std::string(100, 'x')), 413,
              "payload_too_large"},
        shape{"chunked_body_over_the_limit",
              k_chunked_head + "8000\r\n" + std::string(0x8000, 'x') + "\r\n8000\r\n" + std::string(0x8000, 'x') +
                  "\r\n0\r\n\r\n",
              413, "payload_too_large"}),
    [](const auto& info) { return info.param.name; });

// Shapes that are allowed: they reach the pod as one clean request, never two.
class smuggling_allowed : public proxy_fixture {};

TEST_F(smuggling_allowed, a_valid_chunk_extension_is_passed_over_and_never_forwarded) {
  start_proxy();
  const auto r = round_trip(k_chunked_head + "2;name=value;x=\"q\"\r\nhi\r\n1;e\r\n!\r\n0;last\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  ASSERT_EQ(pod_.request_count(), 1u);
  EXPECT_EQ(pod_.requests()[0].body, "hi!");
  EXPECT_FALSE(pod_.requests()[0].chunked) << "the pod gets a Content-Length body";
}

TEST_F(smuggling_allowed, transfer_encoding_chunked_in_any_case_is_one_request) {
  start_proxy();
  const auto r =
      round_trip("POST / HTTP/1.1\r\nHost: " + h + "\r\nTransfer-Encoding: ChUnKeD\r\n\r\n2\r\nhi\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  ASSERT_EQ(pod_.request_count(), 1u);
  EXPECT_EQ(pod_.requests()[0].body, "hi");
}

// The classic: a body that holds what looks like a second request stays a body.
TEST_F(smuggling_allowed, a_request_inside_a_content_length_body_stays_a_body) {
  start_proxy();
  const std::string inner = "POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 0\r\n\r\n";
  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, inner)));
  const auto r = client->read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  ASSERT_TRUE(pod_.wait_for_requests(1, k_cap));
  EXPECT_EQ(pod_.request_count(), 1u);
  EXPECT_EQ(pod_.requests()[0].body, inner);
}

// --- pipelined garbage -------------------------------------------------------------------

struct garbage {
  std::string name;
  std::string bytes;
};

void PrintTo(const garbage& g, std::ostream* os) { *os << g.name; }

class pipelined_garbage : public proxy_fixture, public ::testing::WithParamInterface<garbage> {};

TEST_P(pipelined_garbage, the_good_request_is_answered_then_400_and_close) {
  start_proxy();
  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, "good") + GetParam().bytes));
  const auto first = client->read_response();
  ASSERT_TRUE(first) << client->last_error().message();
  EXPECT_EQ(first->status, 200u);
  EXPECT_TRUE(first->keep_alive);
  expect_proxy_error(client->read_response(), 400, "bad_request");
  const auto end = client->read_until_closed();
  EXPECT_TRUE(end.closed()) << end.ec.message();
  EXPECT_EQ(end.data, "");
  ASSERT_TRUE(pod_.wait_for_requests(1, k_cap));
  EXPECT_EQ(pod_.request_count(), 1u) << "only the good request reaches the pod";
  EXPECT_EQ(pod_.requests()[0].body, "good");
}

INSTANTIATE_TEST_SUITE_P(
    garbage, pipelined_garbage,
    ::testing::Values(garbage{"text", "THIS IS NOT HTTP\r\n\r\n"},
                      garbage{"binary", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"s},
                      garbage{"crlf_only_lines", "\r\n\r\n\r\n\r\n"},
                      garbage{"a_smuggled_second_request",
                              "POST / HTTP/1.1\r\nHost: " + h +
                                  "\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
                      garbage{"nul_bytes", "\0\0\0\0\r\n\r\n"s}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace ignite::test
