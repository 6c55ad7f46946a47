#include "support/tls_client.hpp"

#include "support/raw_client.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <system_error>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

namespace ignite::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

tls_client::tls_client(std::uint16_t port, tls_options options, std::chrono::milliseconds cap)
    : ctx_(net::ssl::context::tls_client), stream_(ioc_, ctx_), cap_(cap) {
  // Clients keep the session themselves (session()), not in a client-side cache.
  SSL_CTX_set_session_cache_mode(ctx_.native_handle(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  // The SSL object exists already (stream_): what it offers is set on it, not the context.
  SSL* ssl = stream_.native_handle();
  if (options.min_version) SSL_set_min_proto_version(ssl, options.min_version);
  if (options.max_version) SSL_set_max_proto_version(ssl, options.max_version);
  if (!options.ciphers.empty()) SSL_set_cipher_list(ssl, options.ciphers.c_str());
  if (options.server_name) SSL_set_tlsext_host_name(ssl, options.server_name->c_str());
  if (!options.alpn.empty()) {
    std::string wire;
    for (const auto& p : options.alpn) {
      wire.push_back(static_cast<char>(p.size()));
      wire += p;
    }
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()), static_cast<unsigned>(wire.size()));
  }
  // A copy: OpenSSL spends a TLS 1.3 session object once it is used, and the caller may
  // offer the same ticket again (as a client that stored it would).
  if (options.resume) {
    SSL_SESSION* copy = SSL_SESSION_dup(options.resume.get());
    SSL_set_session(ssl, copy);
    SSL_SESSION_free(copy);
  }
  if (!options.ca_file.empty()) {
    SSL_CTX_load_verify_locations(ctx_.native_handle(), options.ca_file.c_str(), nullptr);
    stream_.set_verify_mode(net::ssl::verify_peer);
    if (options.server_name) SSL_set1_host(ssl, options.server_name->c_str());
  }

  beast::error_code ec;
  beast::get_lowest_layer(stream_).expires_after(cap_);
  beast::get_lowest_layer(stream_).async_connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                                                 [&ec](beast::error_code e) { ec = e; });
  run();
  if (ec) throw std::system_error(ec, "tls_client: connect to 127.0.0.1:" + std::to_string(port));
  beast::get_lowest_layer(stream_).expires_after(cap_);
  stream_.async_handshake(net::ssl::stream_base::client, [this](beast::error_code e) { handshake_error_ = e; });
  run();
}

tls_client::~tls_client() {
  // Ended as a polite client ends: without this, OpenSSL marks the session (which
  // session() may have shared) as not resumable, as it does after a broken connection.
  if (ok()) SSL_set_shutdown(stream_.native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  beast::error_code ignored;
  beast::get_lowest_layer(stream_).socket().close(ignored);
}

void tls_client::run() {
  ioc_.restart();
  ioc_.run();
}

int tls_client::handshake_reason() const {
  if (!handshake_error_ || handshake_error_.category() != net::error::get_ssl_category()) return 0;
  return ERR_GET_REASON(static_cast<unsigned long>(handshake_error_.value()));
}

std::string tls_client::version() const {
  return SSL_get_version(const_cast<tls_client*>(this)->stream_.native_handle());
}

std::string tls_client::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(const_cast<tls_client*>(this)->stream_.native_handle(), &data, &length);
  return data ? std::string(reinterpret_cast<const char*>(data), length) : std::string();
}

std::string tls_client::cipher() const {
  return SSL_get_cipher_name(const_cast<tls_client*>(this)->stream_.native_handle());
}

std::vector<std::string> tls_client::served_names() const {
  std::vector<std::string> names;
  X509* cert = SSL_get1_peer_certificate(const_cast<tls_client*>(this)->stream_.native_handle());
  if (!cert) return names;
  if (auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type == GEN_DNS)
        names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                           static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)));
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    char cn[256];
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    if (n > 0) names.emplace_back(cn, static_cast<std::size_t>(n));
  }
  X509_free(cert);
  return names;
}

bool tls_client::resumed() const { return SSL_session_reused(const_cast<tls_client*>(this)->stream_.native_handle()); }

std::shared_ptr<SSL_SESSION> tls_client::session() const {
  SSL_SESSION* s = SSL_get1_session(const_cast<tls_client*>(this)->stream_.native_handle());
  if (!s) return nullptr;
  return {s, SSL_SESSION_free};
}

beast::error_code tls_client::send(std::string_view bytes) {
  beast::get_lowest_layer(stream_).expires_after(cap_);
  net::async_write(stream_, net::buffer(bytes.data(), bytes.size()),
                   [this](beast::error_code ec, std::size_t) { last_error_ = ec; });
  run();
  return last_error_;
}

std::optional<raw_response> tls_client::read_response() {
  http::response_parser<http::string_body> parser;
  parser.header_limit(1u << 20);
  parser.body_limit(boost::none);
  beast::get_lowest_layer(stream_).expires_after(cap_);
  http::async_read(stream_, buffer_, parser, [this](beast::error_code ec, std::size_t) { last_error_ = ec; });
  run();
  if (last_error_) return std::nullopt;
  return to_raw_response(parser);
}

close_result tls_client::read_until_closed() {
  close_result out;
  out.data = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  beast::get_lowest_layer(stream_).expires_after(cap_);
  for (;;) {
    char chunk[4096];
    std::size_t got = 0;
    beast::error_code ec;
    stream_.async_read_some(net::buffer(chunk), [&](beast::error_code e, std::size_t n) {
      ec = e;
      got = n;
    });
    run();
    out.data.append(chunk, got);
    if (ec) {
      // A close_notify, a bare FIN (stream_truncated) and a reset all end the connection.
      out.ec = ec == net::ssl::error::stream_truncated ? beast::error_code(net::error::eof) : ec;
      if (ec == beast::error::timeout) out.ec = beast::error::timeout;
      return out;
    }
  }
}

}  // namespace ignite::test
