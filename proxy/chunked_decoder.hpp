#pragma once
// Decodes a chunked message body (RFC 9112 7.1) with bounds on everything a peer can
// make the proxy hold: a chunk-size line with its extensions, and the trailer section.
// Beast's parser (1.81) bounds neither and throws from its field container on a trailer
// field over 65533 bytes, so both directions of the proxy decode chunked bodies here.
//
// Pure and incremental: next() looks at the bytes the caller has buffered, consumes
// what it can and says what it found. It never copies: data it yields points into the
// caller's bytes. A line (chunk-size or trailer field) is consumed only once it is
// complete, so the caller's buffer holds at most one line beyond what was consumed.
// Trailer fields are checked by the head's rules and then discarded: they never become
// header fields.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ignite::proxy {

class chunked_decoder {
 public:
  struct limits {
    std::size_t max_chunk_line = 4096;      // chunk-size, extensions and CRLF
    std::size_t max_trailer_bytes = 16384;  // the trailer section, final CRLF included
    std::size_t max_trailer_fields = 100;
  };

  enum class status : std::uint8_t {
    need_more,            // nothing more can be decoded from these bytes: read more
    data,                 // `data` holds body bytes (a span of the input)
    done,                 // the last chunk and the trailer section are consumed
    bad_chunk,            // malformed chunk-size line or chunk framing
    chunk_line_too_long,  // a chunk-size line over max_chunk_line
    bad_trailer,          // a malformed trailer field (obs-fold, bare LF, NUL, no colon, ...)
    trailer_too_large,    // trailer section over max_trailer_bytes or max_trailer_fields
  };

  explicit chunked_decoder(limits l) noexcept : limits_(l) {}

  // Decodes from the front of `in`. `used` is set to the bytes consumed (always set);
  // `data` is set when the result is status::data. Call again with the bytes after the
  // consumed ones until need_more, done or an error. After an error the decoder stays
  // in error.
  status next(std::string_view in, std::size_t& used, std::string_view& data) noexcept;

  // Bytes consumed so far, framing included: what a body limit counts.
  std::uint64_t wire_bytes() const noexcept { return wire_bytes_; }
  // wire_bytes() once the chunk in progress is complete, its CRLF included: what a body
  // limit can refuse as soon as a chunk-size line announces it.
  std::uint64_t announced_bytes() const noexcept {
    return wire_bytes_ + (state_ == state::data ? remaining_ + 2 : state_ == state::data_crlf ? 2 : 0);
  }
  // Body bytes yielded so far.
  std::uint64_t body_bytes() const noexcept { return body_bytes_; }
  bool done() const noexcept { return state_ == state::done; }
  static bool is_error(status s) noexcept { return s > status::done; }

 private:
  enum class state : std::uint8_t { size_line, data, data_crlf, trailer, done, failed };

  status fail(status s) noexcept;
  std::optional<status> size_line(std::string_view in, std::size_t& used) noexcept;
  std::optional<status> trailer_line(std::string_view in, std::size_t& used) noexcept;

  limits limits_;
  state state_ = state::size_line;
  std::uint64_t remaining_ = 0;  // of the current chunk's data
  std::uint64_t wire_bytes_ = 0;
  std::uint64_t body_bytes_ = 0;
  std::size_t trailer_bytes_ = 0;
  std::size_t trailer_fields_ = 0;
  status failure_ = status::bad_chunk;
};

}  // namespace ignite::proxy
