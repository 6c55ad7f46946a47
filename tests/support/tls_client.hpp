#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "support/close_result.hpp"
#include "support/raw_response.hpp"

namespace ignite::test {

// What a TLS client offers in its ClientHello.
struct tls_options {
  std::optional<std::string> server_name;     // SNI; none: no SNI extension
  std::vector<std::string> alpn{"http/1.1"};  // empty: no ALPN extension
  int min_version = 0;                        // TLS1_2_VERSION, ...; 0: the library's
  int max_version = 0;
  std::string ciphers;                  // TLS 1.2 cipher list; empty: the library's
  std::shared_ptr<SSL_SESSION> resume;  // offer this session (a ticket) to resume
  std::string ca_file;                  // set: verify the chain and server_name
};

// A blocking TLS client to 127.0.0.1:<port>, like raw_client but over TLS. The handshake
// runs in the constructor; whether it succeeded is handshake_error(). Every operation is
// capped. Not thread-safe.
class tls_client {
 public:
  // Connects and handshakes; throws std::system_error only if the TCP connect fails.
  tls_client(std::uint16_t port, tls_options options, std::chrono::milliseconds cap = std::chrono::seconds(5));
  tls_client(const tls_client&) = delete;
  tls_client& operator=(const tls_client&) = delete;
  ~tls_client();

  boost::beast::error_code handshake_error() const { return handshake_error_; }
  bool ok() const { return !handshake_error_; }
  // The OpenSSL reason code of a failed handshake (SSL_R_...), 0 if none.
  int handshake_reason() const;

  std::string version() const;  // "TLSv1.3"
  std::string alpn() const;     // the protocol the server selected, "" if none
  std::string cipher() const;
  std::vector<std::string> served_names() const;  // the DNS names of the certificate served
  bool resumed() const;
  // The session to resume later (after a response, so a TLS 1.3 ticket has arrived).
  std::shared_ptr<SSL_SESSION> session() const;

  boost::beast::error_code send(std::string_view bytes);
  std::optional<raw_response> read_response();
  close_result read_until_closed();
  boost::beast::error_code last_error() const { return last_error_; }

 private:
  void run();

  boost::asio::io_context ioc_;
  boost::asio::ssl::context ctx_;
  boost::asio::ssl::stream<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
  std::chrono::milliseconds cap_;
  boost::beast::error_code handshake_error_;
  boost::beast::error_code last_error_;
};

}  // namespace ignite::test
