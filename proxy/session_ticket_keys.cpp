#include "proxy/session_ticket_keys.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>

namespace ignite::proxy {

namespace {

// Where a context keeps its keys, for the static callback.
int keys_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

}  // namespace

session_ticket_keys::session_ticket_keys(std::chrono::milliseconds rotation)
    : rotation_(rotation), current_(fresh_key(clock::now())) {}

session_ticket_keys::key session_ticket_keys::fresh_key(clock::time_point now) {
  key k;
  if (RAND_bytes(k.name.data(), static_cast<int>(k.name.size())) != 1 ||
      RAND_bytes(k.cipher_key.data(), static_cast<int>(k.cipher_key.size())) != 1 ||
      RAND_bytes(k.mac_key.data(), static_cast<int>(k.mac_key.size())) != 1)
    throw std::runtime_error("no randomness for a TLS session ticket key");
  k.made = now;
  return k;
}

void session_ticket_keys::install(SSL_CTX* ctx) {
  SSL_CTX_set_ex_data(ctx, keys_index(), this);
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &session_ticket_keys::on_ticket);
  // A ticket is worth nothing once its key is forgotten: two periods.
  SSL_CTX_set_timeout(ctx, static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(2 * rotation_).count()));
}

std::size_t session_ticket_keys::usable_keys() {
  std::lock_guard lock(mutex_);
  rotate_if_due(clock::now());
  return previous_ ? 2 : 1;
}

void session_ticket_keys::rotate_if_due(clock::time_point now) {
  if (now - current_.made < rotation_) {
    if (previous_ && now - previous_->made >= 2 * rotation_) previous_.reset();
    return;
  }
  // After a quiet spell longer than two periods both keys are stale: start afresh.
  if (now - current_.made >= 2 * rotation_)
    previous_.reset();
  else
    previous_ = current_;
  current_ = fresh_key(now);
}

int session_ticket_keys::on_ticket(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                                   EVP_MAC_CTX* mac, int encrypt) {
  auto* self = static_cast<session_ticket_keys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), keys_index()));
  if (!self) return 0;
  std::lock_guard lock(self->mutex_);
  self->rotate_if_due(clock::now());
  auto use = [&](const key& k) {
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(
                               OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(k.mac_key.data()), k.mac_key.size()),
                           OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    return EVP_MAC_CTX_set_params(mac, params) == 1;
  };
  if (encrypt) {
    const key& k = self->current_;
    std::memcpy(name, k.name.data(), k.name.size());
    if (RAND_bytes(iv, EVP_CIPHER_iv_length(EVP_aes_256_cbc())) != 1) return -1;
    if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, k.cipher_key.data(), iv) != 1 || !use(k)) return -1;
    return 1;
  }
  const key* k = nullptr;
  int answer = 1;  // 1: valid; 2: valid, but renew it (sealed with the older key)
  if (std::memcmp(name, self->current_.name.data(), self->current_.name.size()) == 0) {
    k = &self->current_;
  } else if (self->previous_ && std::memcmp(name, self->previous_->name.data(), self->previous_->name.size()) == 0) {
    k = &*self->previous_;
    answer = 2;
  }
  if (!k) return 0;  // unknown or forgotten key: a full handshake
  if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, k->cipher_key.data(), iv) != 1 || !use(*k)) return -1;
  return answer;
}

}  // namespace ignite::proxy
