#include "admin/crypto.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace ignite::admin {

namespace {

constexpr std::size_t k_nonce_bytes = 12;
constexpr std::size_t k_tag_bytes = 16;

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::optional<std::vector<unsigned char>> unbase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::vector<unsigned char> out(3 * text.size() / 4);
  int n =
      EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

struct cipher_ctx_free {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, cipher_ctx_free>;

}  // namespace

std::string random_token(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) throw crypto_error("RAND_bytes failed");
  auto out = base64(raw.data(), raw.size());
  for (auto& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), digest, &n, EVP_sha256(), nullptr);
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned i = 0; i < n; ++i) {
    out += k_hex[digest[i] >> 4];
    out += k_hex[digest[i] & 15];
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

secret_box secret_box::from_key_file(const std::filesystem::path& path) {
  std::array<unsigned char, 32> key{};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    std::error_code ec;
    if (path.has_parent_path() && !std::filesystem::exists(path.parent_path())) {
      std::filesystem::create_directories(path.parent_path(), ec);
      if (!ec) std::filesystem::permissions(path.parent_path(), std::filesystem::perms::owner_all, ec);
    }
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) throw crypto_error("RAND_bytes failed");
    int out = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) throw crypto_error("cannot create the secrets key " + path.string() + ": " + std::strerror(errno));
    bool ok = ::write(out, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(out) == 0;
    ::close(out);
    if (!ok) throw crypto_error("cannot write the secrets key " + path.string());
    return secret_box(key);
  }
  if (fd < 0) throw crypto_error("cannot read the secrets key " + path.string() + ": " + std::strerror(errno));
  struct stat st {};
  ::fstat(fd, &st);
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    ::close(fd);
    throw crypto_error("the secrets key " + path.string() + " can be read by others; chmod 600 it");
  }
  auto n = ::read(fd, key.data(), key.size());
  char extra;
  bool longer = ::read(fd, &extra, 1) > 0;
  ::close(fd);
  if (n != static_cast<ssize_t>(key.size()) || longer)
    throw crypto_error("the secrets key " + path.string() + " must hold exactly 32 bytes");
  return secret_box(key);
}

std::string secret_box::seal(std::string_view plaintext, std::string_view context) const {
  std::vector<unsigned char> out(k_nonce_bytes + plaintext.size() + k_tag_bytes);
  if (RAND_bytes(out.data(), static_cast<int>(k_nonce_bytes)) != 1) throw crypto_error("RAND_bytes failed");
  cipher_ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), out.data()) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(context.data()),
                              static_cast<int>(context.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), out.data() + k_nonce_bytes, &len,
                              reinterpret_cast<const unsigned char*>(plaintext.data()),
                              static_cast<int>(plaintext.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), out.data() + k_nonce_bytes + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(k_tag_bytes),
                                out.data() + k_nonce_bytes + plaintext.size()) == 1;
  if (!ok) throw crypto_error("AES-256-GCM encryption failed");
  return base64(out.data(), out.size());
}

std::optional<std::string> secret_box::open(std::string_view sealed, std::string_view context) const {
  auto raw = unbase64(sealed);
  if (!raw || raw->size() < k_nonce_bytes + k_tag_bytes) return std::nullopt;
  const std::size_t text_size = raw->size() - k_nonce_bytes - k_tag_bytes;
  std::string out(text_size, '\0');
  cipher_ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), raw->data()) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(context.data()),
                              static_cast<int>(context.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                              raw->data() + k_nonce_bytes, static_cast<int>(text_size)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(k_tag_bytes),
                                raw->data() + k_nonce_bytes + text_size) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) == 1;
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace ignite::admin
