// The bounded chunked-body decoder: well-formed bodies however they are split, the
// bounds on chunk-size lines and trailer sections, and every malformed shape.
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "proxy/chunked_decoder.hpp"

namespace ignite::proxy {
namespace {

using status = chunked_decoder::status;
using namespace std::string_literals;

chunked_decoder::limits default_limits() { return {}; }

struct outcome {
  status last = status::need_more;
  std::string body;
  std::size_t consumed = 0;  // bytes of the input consumed when it stopped
};

// Feeds `input` in pieces of `step` bytes, as a caller with a growing buffer would:
// unconsumed bytes stay in front of the next piece.
outcome decode(std::string_view input, std::size_t step, chunked_decoder::limits l = default_limits()) {
  chunked_decoder d(l);
  outcome out;
  std::string buffered;
  std::size_t fed = 0;
  for (;;) {
    std::size_t used = 0;
    std::string_view data;
    auto s = d.next(buffered, used, data);
    if (s == status::data) out.body.append(data);
    buffered.erase(0, used);
    out.consumed += used;
    if (s == status::data) continue;
    out.last = s;
    if (s != status::need_more || fed == input.size()) return out;
    auto piece = input.substr(fed, step);
    buffered.append(piece);
    fed += piece.size();
  }
}

TEST(chunked_decoder, decodes_a_body_however_it_is_split) {
  const std::string wire = "5\r\nhello\r\n1;ext=1\r\n,\r\nA\r\n0123456789\r\n0\r\n\r\n";
  for (std::size_t step = 1; step <= wire.size(); ++step) {
    auto r = decode(wire, step);
    EXPECT_EQ(r.last, status::done) << "step " << step;
    EXPECT_EQ(r.body, "hello,0123456789") << "step " << step;
    EXPECT_EQ(r.consumed, wire.size()) << "step " << step;
  }
}

TEST(chunked_decoder, stops_exactly_at_the_end_of_the_message) {
  const std::string wire = "2\r\nhi\r\n0\r\n\r\n";
  chunked_decoder d(default_limits());
  const std::string with_next = wire + "POST / HTTP/1.1\r\n";
  std::string body;
  std::size_t at = 0;
  for (;;) {
    std::size_t used = 0;
    std::string_view data;
    auto s = d.next(std::string_view(with_next).substr(at), used, data);
    at += used;
    if (s == status::data) {
      body.append(data);
      continue;
    }
    ASSERT_EQ(s, status::done);
    break;
  }
  EXPECT_EQ(at, wire.size()) << "the next request's bytes are left alone";
  EXPECT_EQ(body, "hi");
  EXPECT_TRUE(d.done());
}

TEST(chunked_decoder, counts_wire_bytes_with_framing_and_body_bytes_apart) {
  const std::string wire = "1\r\na\r\n1\r\nb\r\n0\r\n\r\n";
  chunked_decoder d(default_limits());
  std::size_t at = 0;
  for (;;) {
    std::size_t used = 0;
    std::string_view data;
    auto s = d.next(std::string_view(wire).substr(at), used, data);
    at += used;
    if (s != status::data) break;
  }
  EXPECT_EQ(d.body_bytes(), 2u);
  EXPECT_EQ(d.wire_bytes(), wire.size());
}

TEST(chunked_decoder, announces_a_chunk_before_its_data_arrives) {
  chunked_decoder d(default_limits());
  std::size_t used = 0;
  std::string_view data;
  EXPECT_EQ(d.announced_bytes(), 0u);
  // "10000\r\n" (7 bytes) announces 65536 data bytes and their CRLF.
  EXPECT_EQ(d.next("10000\r\nab", used, data), status::data);
  EXPECT_EQ(d.wire_bytes(), 9u);
  EXPECT_EQ(d.announced_bytes(), 7u + 65536u + 2u);
  // The announcement never exceeds what the complete chunk consumes.
  chunked_decoder whole(default_limits());
  const std::string wire = "3\r\nabc\r\n";
  std::size_t at = 0;
  for (;;) {
    auto s = whole.next(std::string_view(wire).substr(at), used, data);
    at += used;
    EXPECT_LE(whole.announced_bytes(), wire.size());
    if (s != status::data) break;
  }
  EXPECT_EQ(whole.announced_bytes(), wire.size());
  EXPECT_EQ(whole.wire_bytes(), wire.size());
}

TEST(chunked_decoder, trailer_fields_are_consumed_and_never_returned_as_data) {
  auto r = decode("2\r\nhi\r\n0\r\nAuthorization: Bearer smuggled\r\nCookie: a=b\r\n\r\n", 3);
  EXPECT_EQ(r.last, status::done);
  EXPECT_EQ(r.body, "hi");
}

TEST(chunked_decoder, uppercase_and_leading_zero_sizes) {
  auto r = decode("000A\r\n0123456789\r\n00\r\n\r\n", 4);
  EXPECT_EQ(r.last, status::done);
  EXPECT_EQ(r.body, "0123456789");
}

struct bad_case {
  const char* name;
  std::string wire;
  status expected;
};

void PrintTo(const bad_case& c, std::ostream* os) { *os << c.name; }

class chunked_decoder_refuses : public ::testing::TestWithParam<bad_case> {};

TEST_P(chunked_decoder_refuses, whole_or_byte_by_byte) {
  for (std::size_t step : {std::size_t{1}, std::size_t{7}, GetParam().wire.size()}) {
    auto r = decode(GetParam().wire, step);
    EXPECT_EQ(r.last, GetParam().expected) << "step " << step;
  }
}

const std::string k_big(65534, 'a');

INSTANTIATE_TEST_SUITE_P(
    shapes, chunked_decoder_refuses,
    ::testing::Values(
        bad_case{"no_size", "\r\nhi\r\n0\r\n\r\n", status::bad_chunk},
        bad_case{"not_hex", "z\r\nhi\r\n0\r\n\r\n", status::bad_chunk},
        bad_case{"negative", "-2\r\nhi\r\n0\r\n\r\n", status::bad_chunk},
        bad_case{"space_before_size", " 2\r\nhi\r\n0\r\n\r\n", status::bad_chunk},
        bad_case{"garbage_after_size", "2 x\r\nhi\r\n0\r\n\r\n", status::bad_chunk},
        bad_case{"bare_lf_after_size", "2\nhi\r\n0\r\n\r\n", status::bad_chunk},
        bad_case{"bare_cr_in_extension", "2;a\rb\r\nhi\r\n0\r\n\r\n", status::bad_chunk},
        bad_case{"nul_in_extension", "2;a\0b\r\nhi\r\n0\r\n\r\n"s, status::bad_chunk},
        bad_case{"size_overflow", "10000000000000000\r\n", status::bad_chunk},
        bad_case{"data_longer_than_size", "2\r\nhello\r\n0\r\n\r\n", status::bad_chunk},
        bad_case{"data_not_followed_by_crlf", "2\r\nhi\n0\r\n\r\n", status::bad_chunk},
        bad_case{"extension_over_the_line_bound", "2;" + std::string(5000, 'e') + "\r\nhi\r\n0\r\n\r\n",
                 status::chunk_line_too_long},
        bad_case{"unterminated_huge_extension", "2;" + std::string(100000, 'e'), status::chunk_line_too_long},
        bad_case{"folded_trailer", "0\r\nX-A: b\r\n c\r\n\r\n", status::bad_trailer},
        bad_case{"bare_lf_in_trailer", "0\r\nX-A: b\n\r\n", status::bad_trailer},
        bad_case{"nul_in_trailer", "0\r\nX-A: \0\r\n\r\n"s, status::bad_trailer},
        bad_case{"trailer_without_colon", "0\r\nnot a field\r\n\r\n", status::bad_trailer},
        bad_case{"space_before_colon_in_trailer", "0\r\nX-A : b\r\n\r\n", status::bad_trailer},
        bad_case{"trailer_value_65534", "0\r\nX: " + k_big + "\r\n\r\n", status::trailer_too_large},
        bad_case{"trailer_name_65534", "0\r\n" + k_big + ": x\r\n\r\n", status::trailer_too_large},
        bad_case{"unterminated_trailer", "0\r\nX: " + std::string(200000, 'a'), status::trailer_too_large}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(chunked_decoder, the_trailer_section_is_bounded_in_bytes) {
  chunked_decoder::limits l;
  l.max_trailer_bytes = 20;
  EXPECT_EQ(decode("0\r\nX-A: 1234567890\r\n\r\n", 5, l).last, status::done);  // 17 + 2 = 19 bytes
  EXPECT_EQ(decode("0\r\nX-A: 123456789012\r\n\r\n", 5, l).last, status::trailer_too_large);
}

TEST(chunked_decoder, the_trailer_section_is_bounded_in_fields) {
  chunked_decoder::limits l;
  l.max_trailer_fields = 2;
  EXPECT_EQ(decode("0\r\nA: 1\r\nB: 2\r\n\r\n", 4, l).last, status::done);
  EXPECT_EQ(decode("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 4, l).last, status::trailer_too_large);
}

TEST(chunked_decoder, a_trailer_field_of_65533_bytes_passes_the_field_rule) {
  chunked_decoder::limits l;
  l.max_trailer_bytes = 70000;
  EXPECT_EQ(decode("0\r\nX: " + std::string(65533, 'a') + "\r\n\r\n", 4096, l).last, status::done);
  EXPECT_EQ(decode("0\r\nX: " + std::string(65534, 'a') + "\r\n\r\n", 4096, l).last, status::trailer_too_large);
}

TEST(chunked_decoder, the_chunk_line_bound_includes_extensions) {
  chunked_decoder::limits l;
  l.max_chunk_line = 16;
  EXPECT_EQ(decode("2;abcdefghij\r\nhi\r\n0\r\n\r\n", 3, l).last, status::done);  // 14 bytes
  EXPECT_EQ(decode("2;abcdefghijklmn\r\nhi\r\n0\r\n\r\n", 3, l).last, status::chunk_line_too_long);
}

TEST(chunked_decoder, an_error_is_sticky) {
  chunked_decoder d(default_limits());
  std::size_t used = 0;
  std::string_view data;
  EXPECT_EQ(d.next("zz\r\n", used, data), status::bad_chunk);
  EXPECT_EQ(d.next("2\r\nhi\r\n0\r\n\r\n", used, data), status::bad_chunk);
  EXPECT_EQ(used, 0u);
}

}  // namespace
}  // namespace ignite::proxy
