#include "coldstart/registry_auth.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <openssl/evp.h>

#include "common/log.hpp"

namespace ignite::coldstart {

namespace {

std::string base64(const std::string& in) {
  std::vector<unsigned char> out(4 * ((in.size() + 2) / 3) + 1);
  int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  return {reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n)};
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("registry auth file: " + what + ": " + std::strerror(errno));
}

}  // namespace

auth_file::auth_file(const std::filesystem::path& dir, const registry_credentials& credentials) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (::chmod(dir.c_str(), 0700) != 0) fail(dir.string());
  std::string name = (dir / "auth-XXXXXX.json").string();
  int fd = ::mkstemps(name.data(), 5);  // mode 0600
  if (fd < 0) fail(name);
  path_ = name;
  std::string json = "{\"auths\":{";
  common::append_json_string(json, credentials.server);
  json += ":{\"auth\":";
  common::append_json_string(json, base64(credentials.username + ":" + credentials.password));
  json += "}}}\n";
  const char* p = json.data();
  std::size_t left = json.size();
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      ::close(fd);
      ::unlink(path_.c_str());
      fail(name);
    }
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  ::close(fd);
}

auth_file::~auth_file() { ::unlink(path_.c_str()); }

}  // namespace ignite::coldstart
