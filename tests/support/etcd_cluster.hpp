#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ignite::test {

// A real etcd cluster for a test: `members` etcd processes (Debian's etcd-server 3.4) on
// 127.0.0.1, each with its own client and peer port and data dir in a private temp dir.
// The children die with the test process (PR_SET_PDEATHSIG); the destructor stops them
// and removes the dir.
class etcd_cluster {
 public:
  // Starts every member and returns once each answers /health (capped). Throws
  // std::runtime_error, with the members' output, if they do not come up.
  explicit etcd_cluster(int members = 1);
  ~etcd_cluster();
  etcd_cluster(const etcd_cluster&) = delete;
  etcd_cluster& operator=(const etcd_cluster&) = delete;

  // Empty if etcd is installed, otherwise what is missing.
  static std::string missing_tools();

  // "127.0.0.1:PORT" of each member's client URL.
  std::vector<std::string> endpoints() const;
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
    pid_t pid = -1;
  };
  void start(int member, bool fresh);
  void stop(int member);

  std::filesystem::path dir_;
  std::string initial_cluster_;
  std::vector<member> members_;
};

}  // namespace ignite::test
