#pragma once
// The client side of a session: a plain TCP socket or TLS over one. A session is
// written once over `Stream`; what differs between the two is here.

#include <boost/asio/ssl/stream.hpp>

#include "proxy/io_types.hpp"

namespace ignite::proxy {

using tls_stream = boost::asio::ssl::stream<tcp_socket>;

template <class Stream>
struct client_stream;

template <>
struct client_stream<tcp_socket> {
  static constexpr bool is_tls = false;
  static constexpr const char* proto = "http";
  static tcp_socket& socket(tcp_socket& s) noexcept { return s; }
};

// Over TLS, bytes can be waiting inside the TLS layer (read from the socket along with
// an earlier record) while the socket itself has nothing: a connection between requests
// therefore waits with a read through TLS, never with a wait on the raw socket.
template <>
struct client_stream<tls_stream> {
  static constexpr bool is_tls = true;
  static constexpr const char* proto = "https";
  static tcp_socket& socket(tls_stream& s) noexcept { return s.next_layer(); }
  // The negotiated protocol ("TLSv1.3"), for the access log.
  static const char* tls_version(tls_stream& s) noexcept { return SSL_get_version(s.native_handle()); }
};

}  // namespace ignite::proxy
