#pragma once
// The keys that seal TLS session tickets, so that a returning client resumes without a
// full handshake and without a server-side session cache (every worker can resume any
// ticket). Keys rotate: the current key seals new tickets for one period, then only
// opens tickets for one more period, then is forgotten; a ticket opened with the older
// key is renewed. Keys are random per process and never written anywhere.
//
// Thread-safe: OpenSSL calls the ticket callback on every worker thread.

#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <mutex>
#include <optional>

namespace ignite::proxy {

class session_ticket_keys {
 public:
  using clock = std::chrono::steady_clock;

  explicit session_ticket_keys(std::chrono::milliseconds rotation);

  // Makes `ctx` seal and open its tickets with these keys; `this` must outlive `ctx`'s use.
  void install(SSL_CTX* ctx);

  // How many keys open tickets now (1 or 2): for tests.
  std::size_t usable_keys();

 private:
  struct key {
    std::array<unsigned char, 16> name;
    std::array<unsigned char, 32> cipher_key;  // AES-256-CBC
    std::array<unsigned char, 32> mac_key;     // HMAC-SHA256
    clock::time_point made;
  };
  static int on_ticket(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac,
                       int encrypt);
  void rotate_if_due(clock::time_point now);  // mutex_ held
  static key fresh_key(clock::time_point now);

  std::chrono::milliseconds rotation_;
  std::mutex mutex_;
  key current_;
  std::optional<key> previous_;
};

}  // namespace ignite::proxy
