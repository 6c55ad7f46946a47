#pragma once
// The few cryptographic pieces the control plane needs, all from OpenSSL:
//   - random tokens, and their SHA-256 for storage (a token is shown once, kept only
//     as a hash) compared in constant time;
//   - secret_box: AES-256-GCM for secrets at rest, with a key kept in a file of mode
//     0600 (generated on first start when missing).

#include <array>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ignite::admin {

// `bytes` random bytes from OpenSSL's CSPRNG, as base64url without padding.
std::string random_token(std::size_t bytes);

// SHA-256 of `data`, as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

// a == b without a time that depends on where they differ (CRYPTO_memcmp). Different
// lengths compare unequal at once: callers compare hashes of one fixed length.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

class crypto_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class secret_box {
 public:
  // The key in `path`: 32 bytes, created (mode 0600, parent directories 0700) when the
  // file is missing. Throws crypto_error if it cannot be read or created, has the wrong
  // size, or can be read by others (as ssh refuses a private key).
  static secret_box from_key_file(const std::filesystem::path& path);

  // nonce | ciphertext | tag, base64: a fresh 96-bit nonce per call. `context` is bound
  // in as associated data (the secret's id), so a sealed value cannot be moved to
  // another secret.
  std::string seal(std::string_view plaintext, std::string_view context) const;
  // The plaintext, or nullopt if `sealed` was not made by this key for this context.
  std::optional<std::string> open(std::string_view sealed, std::string_view context) const;

 private:
  explicit secret_box(const std::array<unsigned char, 32>& key) : key_(key) {}
  std::array<unsigned char, 32> key_;
};

}  // namespace ignite::admin
