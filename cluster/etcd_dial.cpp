#include "cluster/etcd_dial.hpp"

#include <openssl/ssl.h>

#include <fstream>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>

#include "routing/state_store.hpp"

namespace ignite::cluster {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

// Checked before OpenSSL sees it: "cannot read" names the file, where OpenSSL would
// only say "system lib".
void require_readable(const std::string& file, const char* key) {
  if (!std::ifstream(file)) throw routing::state_error(std::string(key) + ": cannot read " + file);
}

}  // namespace

std::unique_ptr<ssl::context> etcd_tls_context(const routing::etcd_spec& spec) {
  if (!spec.tls) return nullptr;
  const auto& tls = *spec.tls;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  beast::error_code ec;
  require_readable(tls.ca_file, "tls.ca_file");
  ctx->load_verify_file(tls.ca_file, ec);
  if (ec) throw routing::state_error("tls.ca_file: no CA certificate in " + tls.ca_file + ": " + ec.message());
  if (!tls.cert_file.empty()) {
    require_readable(tls.cert_file, "tls.cert_file");
    require_readable(tls.key_file, "tls.key_file");
    ctx->use_certificate_chain_file(tls.cert_file, ec);
    if (ec) throw routing::state_error("tls.cert_file: no certificate in " + tls.cert_file + ": " + ec.message());
    ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
    if (ec) throw routing::state_error("tls.key_file: no private key in " + tls.key_file + ": " + ec.message());
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
      throw routing::state_error("tls.key_file: " + tls.key_file + " is not the key of " + tls.cert_file);
  }
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

std::string dial(net::io_context& ioc, std::optional<etcd_stream>& stream, const common::host_port& member,
                 std::chrono::milliseconds timeout, ssl::context* tls) {
  stream.reset();
  beast::error_code ec;
  tcp::resolver resolver(ioc);
  tcp::resolver::results_type results;
  resolver.async_resolve(member.host, std::to_string(member.port),
                         [&](beast::error_code e, tcp::resolver::results_type r) {
                           ec = e;
                           results = std::move(r);
                         });
  ioc.restart();
  ioc.run();
  if (ec) return ec.message();
  if (tls)
    stream.emplace(ioc, *tls);
  else
    stream.emplace(ioc);
  auto& tcp_layer = stream->tcp();
  tcp_layer.expires_after(timeout);
  tcp_layer.async_connect(results, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  ioc.restart();
  ioc.run();
  if (!ec) tcp_layer.socket().set_option(tcp::no_delay(true), ec);
  if (ec) {
    stream.reset();
    return ec.message();
  }
  if (!tls) return {};
  auto& s = *stream->tls();
  // SNI carries names only (RFC 6066); the certificate is checked against the host as
  // written in the endpoint, a name or an IP address.
  if (!common::is_ip_literal(member.host)) SSL_set_tlsext_host_name(s.native_handle(), member.host.c_str());
  s.set_verify_mode(ssl::verify_peer);
  s.set_verify_callback(ssl::host_name_verification(member.host));
  tcp_layer.expires_after(timeout);
  s.async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
  ioc.restart();
  ioc.run();
  if (!ec) return {};
  // OpenSSL's error queue may name a step inside the check ("EVP lib"); the verdict on
  // the certificate says what an operator needs to know.
  std::string why = "TLS handshake: ";
  if (const long verdict = SSL_get_verify_result(s.native_handle()); verdict != X509_V_OK)
    why += std::string("certificate verify failed: ") + X509_verify_cert_error_string(verdict);
  else
    why += ec.message();
  stream.reset();
  return why;
}

}  // namespace ignite::cluster
