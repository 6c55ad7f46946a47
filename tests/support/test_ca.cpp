#include "support/test_ca.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <stdexcept>

namespace ignite::test {

namespace {

EVP_PKEY* new_key() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (!key) throw std::runtime_error("test_ca: cannot make a key");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) throw std::runtime_error(std::string("test_ca: bad extension ") + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named `cn` (none if empty), valid from an hour ago for a day, signed by
// issuer_key (self-signed when issuer is null).
X509* make_cert(EVP_PKEY* key, const std::string& cn, long serial, X509* issuer, EVP_PKEY* issuer_key) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Ignite test"), -1, -1, 0);
  if (!cn.empty())
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
  return cert;
}

void sign(X509* cert, EVP_PKEY* key) {
  if (!X509_sign(cert, key, EVP_sha256())) throw std::runtime_error("test_ca: cannot sign");
}

void write_pem(const std::string& path, const std::function<int(FILE*)>& w) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error("test_ca: cannot write " + path);
  int ok = w(f);
  std::fclose(f);
  if (!ok) throw std::runtime_error("test_ca: cannot write " + path);
}

}  // namespace

test_ca::test_ca() {
  std::string pattern = (std::filesystem::temp_directory_path() / "ignite-ca-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("test_ca: mkdtemp failed");
  dir_ = pattern;
  auto* key = new_key();
  X509* cert = make_cert(key, "Ignite test CA", serial_++, nullptr, nullptr);
  add_extension(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
  add_extension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(cert, cert, NID_subject_key_identifier, "hash");
  sign(cert, key);
  ca_key_ = key;
  ca_cert_ = cert;
  ca_file_ = (dir_ / "ca.crt").string();
  write_pem(ca_file_, [&](FILE* f) { return PEM_write_X509(f, cert); });
}

test_ca::~test_ca() {
  X509_free(static_cast<X509*>(ca_cert_));
  EVP_PKEY_free(static_cast<EVP_PKEY*>(ca_key_));
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

test_ca::issued test_ca::issue(const std::vector<std::string>& dns_names, const std::string& stem) {
  if (dns_names.empty()) throw std::invalid_argument("test_ca: no name");
  auto* ca_cert = static_cast<X509*>(ca_cert_);
  auto* key = new_key();
  X509* cert = make_cert(key, dns_names.front(), serial_++, ca_cert, static_cast<EVP_PKEY*>(ca_key_));
  std::string san;
  for (const auto& n : dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
  add_extension(cert, ca_cert, NID_subject_alt_name, san.c_str());
  add_extension(cert, ca_cert, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert, ca_cert, NID_ext_key_usage, "serverAuth");
  sign(cert, static_cast<EVP_PKEY*>(ca_key_));
  return write(cert, key, stem);
}

test_ca::issued test_ca::issue_for(const std::string& common_name, const std::vector<std::string>& alt_names,
                                   const std::string& stem) {
  auto* ca_cert = static_cast<X509*>(ca_cert_);
  auto* key = new_key();
  X509* cert = make_cert(key, common_name, serial_++, ca_cert, static_cast<EVP_PKEY*>(ca_key_));
  std::string san;
  for (const auto& n : alt_names) san += (san.empty() ? "" : ",") + n;
  if (!san.empty()) add_extension(cert, ca_cert, NID_subject_alt_name, san.c_str());
  add_extension(cert, ca_cert, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert, ca_cert, NID_ext_key_usage, "serverAuth,clientAuth");
  sign(cert, static_cast<EVP_PKEY*>(ca_key_));
  return write(cert, key, stem);
}

test_ca::issued test_ca::issue_cn_only(const std::string& common_name, const std::string& stem) {
  auto* ca_cert = static_cast<X509*>(ca_cert_);
  auto* key = new_key();
  X509* cert = make_cert(key, common_name, serial_++, ca_cert, static_cast<EVP_PKEY*>(ca_key_));
  add_extension(cert, ca_cert, NID_basic_constraints, "critical,CA:FALSE");
  sign(cert, static_cast<EVP_PKEY*>(ca_key_));
  return write(cert, key, stem);
}

test_ca::issued test_ca::write(void* cert_ptr, void* key_ptr, const std::string& stem) {
  auto* cert = static_cast<X509*>(cert_ptr);
  auto* key = static_cast<EVP_PKEY*>(key_ptr);
  issued out{(dir_ / (stem + ".crt")).string(), (dir_ / (stem + ".key")).string()};
  write_pem(out.cert_file,
            [&](FILE* f) { return PEM_write_X509(f, cert) && PEM_write_X509(f, static_cast<X509*>(ca_cert_)); });
  write_pem(out.key_file, [&](FILE* f) { return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr); });
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace ignite::test
