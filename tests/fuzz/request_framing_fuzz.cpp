// libFuzzer target: a client's request bytes through the proxy's framing, as the
// session reads them: find_head_end, check_request_head, Beast's parser on a head that
// passed the checks, then the chunked decoder over the body with the session's bounds.
// Crashes are what it looks for: an exception out of Beast on a checked head, a decoder
// that consumes bytes it was not given, or memory errors (built with ASan and UBSan).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "proxy/chunked_decoder.hpp"
#include "proxy/request_head_check.hpp"

namespace {

namespace http = boost::beast::http;
using ignite::proxy::chunked_decoder;

// The largest max_header_bytes the config accepts.
constexpr std::size_t k_max_header_bytes = 1 << 20;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // The first byte picks how the body arrives: in pieces of 1..256 bytes.
  const std::size_t step = size ? 1 + data[0] : 1;
  std::size_t scanned = 0;
  const auto head_size = ignite::proxy::find_head_end(in, scanned);
  if (head_size == 0 || head_size > k_max_header_bytes) return 0;
  check(head_size <= in.size());
  const auto facts = ignite::proxy::check_request_head(in.substr(0, head_size));
  if (facts.error != ignite::proxy::proxy_error::none) return 0;

  // A head the checks accept must never make Beast throw.
  http::request_parser<http::empty_body> parser;
  parser.eager(false);
  parser.header_limit(static_cast<std::uint32_t>(k_max_header_bytes));
  boost::system::error_code ec;
  try {
    parser.put(boost::asio::buffer(in.data(), head_size), ec);
  } catch (...) {
    std::abort();
  }
  if (ec || !facts.chunked) return 0;

  chunked_decoder decoder({.max_chunk_line = 4096,
                           .max_trailer_bytes = k_max_header_bytes - head_size,
                           .max_trailer_fields = ignite::proxy::k_max_header_fields - facts.fields});
  auto body = in.substr(head_size);
  std::size_t available = std::min(step, body.size());
  std::size_t at = 0;
  for (;;) {
    std::size_t used = 0;
    std::string_view chunk;
    auto status = decoder.next(body.substr(at, available - at), used, chunk);
    check(at + used <= available);
    if (status == chunked_decoder::status::data) {
      check(!chunk.empty() && chunk.data() >= body.data() + at && chunk.end() <= body.data() + at + used);
    }
    at += used;
    check(decoder.wire_bytes() == at);
    if (status == chunked_decoder::status::data) continue;
    if (status != chunked_decoder::status::need_more) break;
    if (available == body.size()) break;
    available = std::min(available + step, body.size());
  }
  return 0;
}
