#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "support/close_result.hpp"
#include "support/raw_response.hpp"

namespace ignite::test {

// A complete response as a parser holds it, as a test reads it (tls_client shares it).
raw_response to_raw_response(const boost::beast::http::response_parser<boost::beast::http::string_body>& parser);

// A blocking TCP client to 127.0.0.1:<port> that speaks whatever bytes a test gives it and
// parses what comes back. Every operation is capped: an operation that does not complete
// within the cap fails with a timeout and the connection is closed. Not thread-safe; use
// one per thread.
class raw_client {
 public:
  // Connects; throws std::system_error if that fails.
  explicit raw_client(std::uint16_t port, std::chrono::milliseconds cap = std::chrono::seconds(5));
  // The same, to another loopback address ("127.0.0.2").
  raw_client(const std::string& address, std::uint16_t port, std::chrono::milliseconds cap = std::chrono::seconds(5));
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  // Tries to connect once and returns the outcome (success, connection_refused, timeout, ...).
  static boost::beast::error_code probe(std::uint16_t port, std::chrono::milliseconds cap = std::chrono::seconds(2));

  void set_cap(std::chrono::milliseconds cap) { cap_ = cap; }

  // Writes all of `bytes`.
  boost::beast::error_code send(std::string_view bytes);

  // Reads one response (a 1xx interim response counts as one). nullopt on error, timeout
  // or end of stream; last_error() tells which.
  std::optional<raw_response> read_response();

  // Reads raw bytes until `needle` has arrived; returns everything up to and including
  // it (and consumes that), or nullopt on error/timeout/end of stream.
  std::optional<std::string> read_until(std::string_view needle);

  // Reads until the server ends the connection, or the cap passes.
  close_result read_until_closed();

  // Bytes received but not yet consumed.
  std::string pending() const;

  boost::beast::error_code last_error() const { return last_error_; }
  void close();

 private:
  explicit raw_client(std::chrono::milliseconds cap);  // not connected yet
  boost::beast::error_code open(const std::string& address, std::uint16_t port);

  // Runs the io_context until the operation started on it completes.
  void run();

  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::chrono::milliseconds cap_;
  boost::beast::error_code last_error_;
};

}  // namespace ignite::test
