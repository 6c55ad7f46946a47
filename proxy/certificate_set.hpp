#pragma once
// The HTTPS listener's certificates, loaded once per config (start-up, SIGHUP) and then
// immutable: one TLS context per certificate, and SNI choosing among them. Exact names
// win over wildcards ("*.ignite.dodil.cloud" covers one label); a ClientHello without
// SNI, or naming nothing here, gets the default certificate if one is marked, else a
// handshake alert. Policy, the same for every certificate: TLS 1.2 at least (1.3
// preferred), AEAD ciphers only, the server's cipher order, no renegotiation, no
// compression, ALPN `http/1.1` (a client that offers ALPN without it is refused), and
// resumption by session tickets (session_ticket_keys), no server-side cache.
//
// A connection starts on front() and is moved to the chosen certificate's context from
// OpenSSL's servername callback, which also tells the connection's sni_listener what the
// client asked for (the session keeps it for the Host check; the worker may start the
// app's pod early).

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "proxy/session_ticket_keys.hpp"
#include "routing/config.hpp"

namespace ignite::proxy {

// A certificate that cannot be used: what() names the file and why.
class tls_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Why a handshake failed, as ignite_tls_handshake_failures_total{reason} counts it.
enum class tls_failure : std::uint8_t { none, no_sni, unknown_sni, protocol, timeout, other };
std::string_view to_string(tls_failure f) noexcept;

// One connection's view of its handshake, attached to its SSL object while it runs.
class sni_listener {
 public:
  virtual ~sni_listener() = default;
  // The ClientHello named `server_name` (lowercase); `known`: a certificate covers it.
  virtual void on_server_name(std::string_view server_name, bool known) = 0;
  // The handshake is refused for `why` (no SNI or an unknown one, and no default).
  virtual void on_refused(tls_failure why) = 0;
};

class certificate_set {
 public:
  // Loads every certificate and its key. Throws tls_error: unreadable file, no
  // certificate or key in it, a key that does not match, no name in the certificate.
  certificate_set(const std::vector<routing::tls_certificate>& certificates, std::shared_ptr<session_ticket_keys> keys);
  certificate_set(const certificate_set&) = delete;
  certificate_set& operator=(const certificate_set&) = delete;

  // The context every connection starts with.
  boost::asio::ssl::context& front() const noexcept { return *entries_.front().context; }

  // Attaches `listener` to a connection's SSL before its handshake (null: detach).
  static void listen(SSL* ssl, sni_listener* listener);

  // The names each certificate covers, in config order (tests, logs).
  std::vector<std::vector<std::string>> names() const;

 private:
  struct entry {
    std::unique_ptr<boost::asio::ssl::context> context;
    std::vector<std::string> names;
  };
  static int on_server_name(SSL* ssl, int* alert, void* self);
  static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
                     unsigned int in_length, void* self);
  const entry* choose(std::string_view server_name) const;

  std::shared_ptr<session_ticket_keys> keys_;
  std::vector<entry> entries_;
  std::unordered_map<std::string, std::size_t> exact_;
  std::unordered_map<std::string, std::size_t> wildcard_;  // "ignite.dodil.cloud" for "*.ignite.dodil.cloud"
  const entry* default_ = nullptr;
};

}  // namespace ignite::proxy
