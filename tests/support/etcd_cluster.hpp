#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ignite::test {

// How a test etcd is secured (none by default: plain http, no auth).
struct etcd_security {
  // Set: the client URLs are https, serving cert_file/key_file (issued for 127.0.0.1 with
  // serverAuth and clientAuth: the gateway inside etcd dials its own port with it), and a
  // client verifies them against ca_file. Health is read on a plain metrics URL.
  std::string ca_file, cert_file, key_file;
  bool client_cert_auth = false;  // clients must present a certificate ca_file signed
  // Set: auth is enabled once the members are up, with user root holding this password
  // (one word: etcdctl reads it from stdin).
  std::string root_password;
  int auth_token_ttl_s = 0;  // simple tokens unused this long expire; 0: etcd's 300 s
};

// A real etcd cluster for a test: `members` etcd processes (Debian's etcd-server 3.4) on
// 127.0.0.1, each with its own client and peer port and data dir in a private temp dir.
// The children die with the test process (PR_SET_PDEATHSIG); the destructor stops them
// and removes the dir.
class etcd_cluster {
 public:
  // Starts every member and returns once each answers /health (capped). Throws
  // std::runtime_error, with the members' output, if they do not come up.
  explicit etcd_cluster(int members = 1);
  // The same, secured as `security` says.
  etcd_cluster(int members, etcd_security security);
  ~etcd_cluster();
  etcd_cluster(const etcd_cluster&) = delete;
  etcd_cluster& operator=(const etcd_cluster&) = delete;

  // Empty if etcd is installed, otherwise what is missing.
  static std::string missing_tools();

  // "127.0.0.1:PORT" of each member's client URL.
  std::vector<std::string> endpoints() const;
  // "http://127.0.0.1:PORT" or "https://…" of each member, as a config writes them.
  std::vector<std::string> urls() const;
  // Runs etcdctl against every member with the cluster's TLS flags (and as root once
  // auth is enabled), `input` on its stdin; returns its stdout, throws
  // std::runtime_error with its output if it fails.
  std::string etcdctl(const std::vector<std::string>& args, const std::string& input = {}) const;
  // SIGKILL one member; restart() starts it again on its data dir and waits for /health
  // (which needs a quorum: members killed together are restarted together).
  void kill(int member);
  void restart(int member) { restart(std::vector<int>{member}); }
  void restart(const std::vector<int>& members);
  bool healthy(int member) const;
  // The member that is the raft leader now (-1 if none answers).
  int leader() const;
  std::string output() const;

 private:
  struct member {
    std::string name;
    std::uint16_t client_port = 0;
    std::uint16_t peer_port = 0;
    std::uint16_t metrics_port = 0;  // with TLS: /health in plain http
    pid_t pid = -1;
  };
  void start(int member, bool fresh);
  void enable_auth();
  std::string scheme() const { return security_.ca_file.empty() ? "http://" : "https://"; }
  void stop(int member);

  std::filesystem::path dir_;
  std::string initial_cluster_;
  etcd_security security_;
  bool auth_enabled_ = false;
  std::vector<member> members_;
};

}  // namespace ignite::test
