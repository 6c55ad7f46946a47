#pragma once
// The byte stream to one etcd member: plain TCP, or TLS over it (https:// endpoints).
// Both are Beast streams, so one HTTP exchange is written once and visits either; the
// timeouts live on the TCP layer underneath both.

#include <variant>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace ignite::cluster {

class etcd_stream {
 public:
  using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

  explicit etcd_stream(boost::asio::io_context& ioc) : stream_(std::in_place_type<boost::beast::tcp_stream>, ioc) {}
  etcd_stream(boost::asio::io_context& ioc, boost::asio::ssl::context& tls)
      : stream_(std::in_place_type<tls_stream>, ioc, tls) {}
  etcd_stream(const etcd_stream&) = delete;
  etcd_stream& operator=(const etcd_stream&) = delete;

  // The TCP layer: its timeouts cap every operation of the TLS layer above it too.
  boost::beast::tcp_stream& tcp() {
    if (auto* s = std::get_if<tls_stream>(&stream_)) return s->next_layer();
    return std::get<boost::beast::tcp_stream>(stream_);
  }
  // The TLS layer, or null for plain TCP.
  tls_stream* tls() { return std::get_if<tls_stream>(&stream_); }

  // Calls `f` with the stream HTTP is read from and written to.
  template <class F>
  decltype(auto) visit(F&& f) {
    return std::visit(std::forward<F>(f), stream_);
  }

 private:
  std::variant<boost::beast::tcp_stream, tls_stream> stream_;
};

}  // namespace ignite::cluster
