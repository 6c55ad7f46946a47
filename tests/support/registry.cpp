#include "support/registry.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/executable.hpp"
#include "support/daemon.hpp"
#include "support/raw_client.hpp"
#include "support/wait_until.hpp"

namespace ignite::test {

namespace {

using namespace std::chrono_literals;

constexpr auto k_start_cap = 15s;   // docker-registry listens within ~50 ms; this is for a loaded box
constexpr auto k_stop_cap = 5s;     // SIGTERM, then SIGKILL
constexpr int k_port_attempts = 5;  // another process may take the port between pick and bind
constexpr auto k_push_cap = 2min;

std::system_error errno_error(const std::string& what) { return {errno, std::generic_category(), what}; }

std::string executable(std::string_view name) {
  std::string why;
  return common::find_executable(name, why);
}

std::string random_hex(std::size_t bytes) {
  std::random_device rd;
  std::string out;
  constexpr std::string_view digits = "0123456789abcdef";
  for (std::size_t i = 0; i < bytes; ++i) {
    const auto b = static_cast<unsigned>(rd()) & 0xff;
    out += digits[b >> 4];
    out += digits[b & 0xf];
  }
  return out;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = ::EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Created with its final mode: a credential never exists, even briefly, readable by others.
void write_private_file(const std::filesystem::path& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw errno_error("private_registry: open " + path.string());
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const auto e = errno_error("private_registry: write " + path.string());
      ::close(fd);
      throw e;
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string config_yaml(const std::filesystem::path& dir, std::uint16_t port, const std::string& realm,
                        const std::string& secret) {
  std::ostringstream y;
  y << "version: 0.1\n"
    << "log:\n"
    << "  level: info\n"
    << "  accesslog:\n"
    << "    disabled: true\n"
    << "storage:\n"
    << "  filesystem:\n"
    << "    rootdirectory: \"" << (dir / "storage").string() << "\"\n"
    << "  delete:\n"
    << "    enabled: true\n"
    << "  maintenance:\n"
    << "    uploadpurging:\n"
    << "      enabled: false\n"
    << "http:\n"
    << "  addr: \"127.0.0.1:" << port
    << "\"\n"
    // A fixed secret, or the registry logs a warning and makes up one of its own.
    << "  secret: \"" << secret << "\"\n"
    << "auth:\n"
    << "  htpasswd:\n"
    << "    realm: \"" << realm << "\"\n"
    << "    path: \"" << (dir / "htpasswd").string() << "\"\n";
  return y.str();
}

}  // namespace

std::string private_registry::missing_tools() {
  std::string missing;
  const auto need = [&](std::string_view name, std::string_view package) {
    if (!executable(name).empty()) return;
    if (!missing.empty()) missing += "; ";
    missing += std::string(name) + " is not installed (Debian package " + std::string(package) + ")";
  };
  need("docker-registry", "docker-registry");
  need("htpasswd", "apache2-utils");
  need("skopeo", "skopeo");
  need("podman", "podman");
  return missing;
}

private_registry::private_registry() {
  if (const auto missing = missing_tools(); !missing.empty()) throw std::runtime_error(missing);
  std::string tmpl = (std::filesystem::temp_directory_path() / "ignite-registry-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw errno_error("private_registry: mkdtemp");  // mode 0700
  dir_ = tmpl;
  try {
    config_path_ = dir_ / "config.yml";
    log_path_ = dir_ / "registry.log";
    authfile_ = dir_ / "auth.json";
    // The realm names this registry alone, so the readiness probe cannot be answered by
    // another registry (of a test running at the same time) that holds our port.
    realm_ = "ignite-test-" + dir_.filename().string();
    password_ = random_hex(16);
    secret_ = random_hex(16);
    std::filesystem::create_directory(dir_ / "storage");

    // -B: bcrypt, the only hash docker-registry accepts; -i: the password from stdin, not argv.
    const auto hashed = run_program(executable("htpasswd"), {"-nBi", username_}, {}, password_, 30s);
    if (hashed.exit_code != 0) throw std::runtime_error("private_registry: htpasswd failed: " + hashed.err);
    write_private_file(dir_ / "htpasswd", hashed.out);

    for (int attempt = 0;; ++attempt) {
      if (start_on(free_port())) break;
      if (attempt + 1 == k_port_attempts)
        throw std::runtime_error("private_registry: every port picked was taken:\n" + output());
    }

    const nlohmann::json auth = {{"auths", {{host_, {{"auth", base64(username_ + ":" + password_)}}}}}};
    write_private_file(authfile_, auth.dump(2) + "\n");
  } catch (...) {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    throw;
  }
}

private_registry::~private_registry() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

bool private_registry::start_on(std::uint16_t port) {
  port_ = port;
  host_ = "127.0.0.1:" + std::to_string(port);
  write_private_file(config_path_, config_yaml(dir_, port, realm_, secret_));

  // REGISTRY_* variables override the config file: none from the test's environment.
  {
    // A fresh log per attempt: a port taken is recognised from this attempt's output.
    std::ofstream truncate(log_path_, std::ios::trunc);
  }
  exited_ = false;
  pid_ = spawn_daemon({executable("docker-registry"), "serve", config_path_.string()}, "REGISTRY_", log_path_.string());

  // Up when it refuses us for want of credentials, with our realm; or it has exited.
  const bool up = wait_until([this] { return reap_if_exited() || answers_with_our_realm(); }, k_start_cap);
  if (up && !exited_) return true;
  if (exited_ && output().find("address already in use") != std::string::npos) return false;
  const std::string why = exited_ ? "docker-registry exited while starting" : "docker-registry did not answer /v2/";
  throw std::runtime_error("private_registry: " + why + " on " + host_ + ":\n" + output());
}

bool private_registry::answers_with_our_realm() const {
  if (raw_client::probe(port_, 1s)) return false;  // not listening yet
  try {
    raw_client client(port_, 2s);
    if (client.send("GET /v2/ HTTP/1.1\r\nHost: " + host_ + "\r\nConnection: close\r\n\r\n")) return false;
    const auto response = client.read_response();
    if (!response || response->status != 401) return false;
    const auto challenge = response->headers.get("Www-Authenticate");
    return challenge && challenge->find("realm=\"" + realm_ + "\"") != std::string::npos;
  } catch (const std::exception&) {
    return false;  // refused between probe and connect: not up yet
  }
}

bool private_registry::reap_if_exited() {
  if (pid_ <= 0 || exited_) return exited_;
  int status = 0;
  pid_t r;
  do r = ::waitpid(pid_, &status, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == pid_ || (r < 0 && errno == ECHILD)) exited_ = true;
  return exited_;
}

void private_registry::stop() {
  if (pid_ <= 0 || reap_if_exited()) return;
  ::kill(pid_, SIGTERM);
  if (wait_until([this] { return reap_if_exited(); }, k_stop_cap)) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exited_ = true;
}

std::string private_registry::reference(const std::string& repo_tag) const { return host_ + "/" + repo_tag; }

std::string private_registry::push(const std::string& local_image_ref, const std::string& repo_tag) {
  const std::string target = reference(repo_tag);
  const auto digest_file = dir_ / ("digest-" + std::to_string(pushes_++));
  // Pushed under the registry's name directly (podman push SOURCE DESTINATION): the local
  // store gains no name that would outlive this registry.
  const auto pushed = run_podman({"push", "--quiet", "--authfile", authfile_.string(), "--tls-verify=false",
                                  "--digestfile", digest_file.string(), local_image_ref, "docker://" + target},
                                 k_push_cap);
  if (pushed.exit_code != 0)
    throw std::runtime_error("private_registry: podman push " + target + " failed: " +
                             (pushed.timed_out ? std::string("no answer within the cap") : trimmed(pushed.err)) +
                             "\nregistry output:\n" + output());
  auto digest = trimmed(read_file(digest_file));
  std::error_code ec;
  std::filesystem::remove(digest_file, ec);
  if (digest.rfind("sha256:", 0) != 0)
    throw std::runtime_error("private_registry: podman push wrote no digest for " + target);
  return digest;
}

program_result private_registry::inspect(const std::string& repo_tag, bool authenticated) const {
  std::vector<std::string> args{"inspect", "--tls-verify=false"};
  if (authenticated) {
    args.insert(args.end(), {"--authfile", authfile_.string()});
  } else {
    args.push_back("--no-creds");  // not even what podman login left in the default auth file
  }
  args.push_back("docker://" + reference(repo_tag));
  return run_program(executable("skopeo"), args, {}, {}, 60s);
}

std::string private_registry::output() const { return read_file(log_path_); }

}  // namespace ignite::test
