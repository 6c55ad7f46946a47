#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ignite::test {

// A certificate authority made at test time (ECDSA P-256, in memory and in a scratch
// directory), so no key or certificate is ever committed. It issues server certificates
// for any names; clients trust ca_file().
class test_ca {
 public:
  struct issued {
    std::string cert_file;  // PEM: the certificate, then the CA's (the chain)
    std::string key_file;   // PEM private key
  };

  // Creates the CA in a fresh directory under the system's temp dir; throws on failure.
  test_ca();
  ~test_ca();
  test_ca(const test_ca&) = delete;
  test_ca& operator=(const test_ca&) = delete;

  // A certificate whose subjectAltName lists `dns_names` (the first is also the CN),
  // written as <stem>.crt / <stem>.key.
  issued issue(const std::vector<std::string>& dns_names, const std::string& stem);
  // A certificate for a server that is also a client of itself or of its peers (etcd's
  // gateway dials its own gRPC port with it): CN `common_name` (none if empty: etcd's
  // gateway refuses client certificates with one once auth is on), subjectAltName entries as
  // OpenSSL writes them ("IP:127.0.0.1", "DNS:localhost"; none: no extension), and
  // extendedKeyUsage serverAuth and clientAuth.
  issued issue_for(const std::string& common_name, const std::vector<std::string>& alt_names, const std::string& stem);
  // A certificate with no subjectAltName, only a CN.
  issued issue_cn_only(const std::string& common_name, const std::string& stem);

  const std::string& ca_file() const { return ca_file_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  issued write(void* cert, void* key, const std::string& stem);

  std::filesystem::path dir_;
  std::string ca_file_;
  void* ca_key_ = nullptr;   // EVP_PKEY*
  void* ca_cert_ = nullptr;  // X509*
  long serial_ = 1;
};

}  // namespace ignite::test
