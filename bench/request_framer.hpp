#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bench {

// Finds where HTTP/1.1 requests end in a byte stream, which is all a benchmark backend
// needs to know: it answers every request the same way, so it never looks at a target
// or a body. Bodies must be framed by Content-Length (a proxy in front of it always
// sends one); Transfer-Encoding is refused as malformed rather than misframed.
class request_framer {
 public:
  struct result {
    std::size_t requests = 0;  // requests completed by these bytes, in order
    bool close = false;        // the last of them asked for the connection to close
    bool malformed = false;    // the stream can no longer be framed: close it
  };

  // Consumes the next bytes read from the connection. Bytes of an incomplete header
  // are kept until the rest arrives; body bytes are skipped without a copy. After a
  // result with close or malformed set, the rest of the bytes are ignored.
  result feed(std::string_view bytes);

 private:
  static constexpr std::size_t k_max_header_bytes = 64 * 1024;

  // Reads the framing out of one complete header (request line up to the empty line).
  bool on_header(std::string_view header);

  std::string partial_header_;
  std::uint64_t body_left_ = 0;
  bool in_body_ = false;
  bool close_after_ = false;
};

}  // namespace bench
