#include "proxy/certificate_set.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>

namespace ignite::proxy {

namespace {

// OpenSSL's own words for the last error, for tls_error.
std::string openssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (!e) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(e, text, sizeof text);
  return text;
}

int listener_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

sni_listener* listener_of(SSL* ssl) { return static_cast<sni_listener*>(SSL_get_ex_data(ssl, listener_index())); }

std::string lowered(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// The DNS names a certificate is for: its subjectAltName DNS entries, or its common name
// when it has none (as browsers no longer accept, but some internal CAs still issue).
std::vector<std::string> names_of(X509* cert) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type != GEN_DNS) continue;
      const auto* s = n->d.dNSName;
      names.push_back(lowered(
          {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s))}));
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    char cn[256];
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    if (n > 0) names.push_back(lowered({cn, static_cast<std::size_t>(n)}));
  }
  return names;
}

constexpr const char* k_tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace

std::string_view to_string(tls_failure f) noexcept {
  switch (f) {
    case tls_failure::none:
      return "none";
    case tls_failure::no_sni:
      return "no_sni";
    case tls_failure::unknown_sni:
      return "unknown_sni";
    case tls_failure::protocol:
      return "protocol";
    case tls_failure::timeout:
      return "timeout";
    case tls_failure::other:
      return "other";
  }
  return "other";
}

certificate_set::certificate_set(const std::vector<routing::tls_certificate>& certificates,
                                 std::shared_ptr<session_ticket_keys> keys)
    : keys_(std::move(keys)) {
  if (certificates.empty()) throw tls_error("no certificate configured");
  entries_.reserve(certificates.size());
  for (std::size_t i = 0; i < certificates.size(); ++i) {
    const auto& c = certificates[i];
    const auto where = "tls.certificates[" + std::to_string(i) + "]";
    auto ctx = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
    SSL_CTX* native = ctx->native_handle();
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(native, c.cert_file.c_str()) != 1)
      throw tls_error(where + ".cert_file " + c.cert_file + ": " + openssl_error());
    if (SSL_CTX_use_PrivateKey_file(native, c.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
        ERR_clear_error();
        throw tls_error(where + ": the key in " + c.key_file + " does not match the certificate in " + c.cert_file);
      }
      throw tls_error(where + ".key_file " + c.key_file + ": " + openssl_error());
    }
    if (SSL_CTX_check_private_key(native) != 1)
      throw tls_error(where + ": the key in " + c.key_file + " does not match the certificate in " + c.cert_file);
    auto names = names_of(SSL_CTX_get0_certificate(native));
    if (names.empty()) throw tls_error(where + ".cert_file " + c.cert_file + ": the certificate names no host");

    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_set_cipher_list(native, k_tls12_ciphers) != 1)
      throw tls_error(where + ": cipher list refused: " + openssl_error());
    // TLS 1.3's suites are all AEAD; OpenSSL's default order (AES-GCM, ChaCha20) stays.
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(native, 1);
    keys_->install(native);
    SSL_CTX_set_tlsext_servername_callback(native, &certificate_set::on_server_name);
    SSL_CTX_set_tlsext_servername_arg(native, this);
    SSL_CTX_set_alpn_select_cb(native, &certificate_set::on_alpn, this);

    const std::size_t at = entries_.size();
    for (const auto& n : names) {
      if (n.starts_with("*."))
        wildcard_.emplace(n.substr(2), at);
      else
        exact_.emplace(n, at);
    }
    entries_.push_back({std::move(ctx), std::move(names)});
    if (c.is_default) default_ = &entries_.back();
  }
}

std::vector<std::vector<std::string>> certificate_set::names() const {
  std::vector<std::vector<std::string>> out;
  for (const auto& e : entries_) out.push_back(e.names);
  return out;
}

void certificate_set::listen(SSL* ssl, sni_listener* listener) { SSL_set_ex_data(ssl, listener_index(), listener); }

const certificate_set::entry* certificate_set::choose(std::string_view server_name) const {
  if (auto it = exact_.find(std::string(server_name)); it != exact_.end()) return &entries_[it->second];
  if (auto dot = server_name.find('.'); dot != std::string_view::npos && dot > 0)
    if (auto it = wildcard_.find(std::string(server_name.substr(dot + 1))); it != wildcard_.end())
      return &entries_[it->second];
  return nullptr;
}

int certificate_set::on_server_name(SSL* ssl, int* alert, void* arg) {
  const auto* self = static_cast<const certificate_set*>(arg);
  auto* listener = listener_of(ssl);
  const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  const entry* chosen = nullptr;
  tls_failure refusal = tls_failure::none;
  if (!sni || !*sni) {
    chosen = self->default_;
    if (!chosen) refusal = tls_failure::no_sni;
  } else {
    const auto name = lowered(sni);
    chosen = self->choose(name);
    if (listener) listener->on_server_name(name, chosen != nullptr);
    if (!chosen) chosen = self->default_;
    if (!chosen) refusal = tls_failure::unknown_sni;
  }
  if (!chosen) {
    if (listener) listener->on_refused(refusal);
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  if (chosen->context->native_handle() != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, chosen->context->native_handle());
  return SSL_TLSEXT_ERR_OK;
}

int certificate_set::on_alpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
                             unsigned int in_length, void*) {
  static constexpr unsigned char k_http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, k_http11, sizeof k_http11, in, in_length) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  // It offers ALPN and none of it is HTTP/1.1: RFC 7301 says refuse.
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

}  // namespace ignite::proxy
