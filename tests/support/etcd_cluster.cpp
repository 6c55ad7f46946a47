#include "support/etcd_cluster.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "support/raw_client.hpp"
#include "support/wait_until.hpp"

extern char** environ;

namespace ignite::test {

namespace {

using namespace std::chrono_literals;

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error(std::string("etcd_cluster: no free port: ") + std::strerror(errno));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

const char* k_etcd = "/usr/bin/etcd";

}  // namespace

std::string etcd_cluster::missing_tools() {
  return ::access(k_etcd, X_OK) == 0 ? "" : "etcd (apt-get install etcd-server)";
}

etcd_cluster::etcd_cluster(int members) {
  if (auto missing = missing_tools(); !missing.empty()) throw std::runtime_error(missing);
  std::string tmpl = (std::filesystem::temp_directory_path() / "ignite-etcd-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("etcd_cluster: mkdtemp failed");
  dir_ = tmpl;
  for (int i = 0; i < members; ++i) {
    member m;
    m.name = "m" + std::to_string(i);
    m.client_port = free_port();
    m.peer_port = free_port();
    initial_cluster_ += (i ? "," : "") + m.name + "=http://127.0.0.1:" + std::to_string(m.peer_port);
    members_.push_back(m);
  }
  try {
    for (int i = 0; i < members; ++i) start(i, true);
    for (int i = 0; i < members; ++i)
      if (!wait_until([&] { return healthy(i); }, 20s))
        throw std::runtime_error("etcd_cluster: member " + members_[i].name + " is not healthy:\n" + output());
  } catch (...) {
    for (int i = 0; i < members; ++i) stop(i);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    throw;
  }
}

etcd_cluster::~etcd_cluster() {
  for (int i = 0; i < static_cast<int>(members_.size()); ++i) stop(i);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<std::string> etcd_cluster::endpoints() const {
  std::vector<std::string> out;
  for (const auto& m : members_) out.push_back("127.0.0.1:" + std::to_string(m.client_port));
  return out;
}

void etcd_cluster::start(int index, bool fresh) {
  auto& m = members_[index];
  const std::string client = "http://127.0.0.1:" + std::to_string(m.client_port);
  const std::string peer = "http://127.0.0.1:" + std::to_string(m.peer_port);
  // Short heartbeats and elections: a killed leader is replaced in well under a second.
  std::vector<std::string> args{k_etcd,
                                "--name",
                                m.name,
                                "--data-dir",
                                (dir_ / m.name).string(),
                                "--listen-client-urls",
                                client,
                                "--advertise-client-urls",
                                client,
                                "--listen-peer-urls",
                                peer,
                                "--initial-advertise-peer-urls",
                                peer,
                                "--initial-cluster",
                                initial_cluster_,
                                "--initial-cluster-state",
                                fresh ? "new" : "existing",
                                "--initial-cluster-token",
                                dir_.filename().string(),
                                "--heartbeat-interval",
                                "50",
                                "--election-timeout",
                                "500",
                                "--logger",
                                "zap",
                                "--log-level",
                                "warn"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // ETCD_* variables would override the flags: none from the test's environment.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e)
    if (std::string_view(*e).rfind("ETCD", 0) != 0) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const auto log = (dir_ / (m.name + ".log")).string();
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  const pid_t parent = ::getpid();
  m.pid = ::fork();
  if (m.pid < 0) throw std::runtime_error("etcd_cluster: fork failed");
  if (m.pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::close_range(3, ~0U, 0);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
}

bool etcd_cluster::healthy(int index) const {
  const auto port = members_[index].client_port;
  if (raw_client::probe(port, 1s)) return false;
  try {
    raw_client client(port, 2s);
    if (client.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")) return false;
    const auto response = client.read_response();
    return response && response->status == 200 && response->body.find("\"true\"") != std::string::npos;
  } catch (const std::exception&) {
    return false;
  }
}

int etcd_cluster::leader() const {
  for (int i = 0; i < static_cast<int>(members_.size()); ++i) {
    if (members_[i].pid <= 0) continue;
    try {
      raw_client client(members_[i].client_port, 2s);
      if (client.send("POST /v3/maintenance/status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n"
                      "Connection: close\r\n\r\n{}"))
        continue;
      const auto response = client.read_response();
      if (!response || response->status != 200) continue;
      const auto status = nlohmann::json::parse(response->body, nullptr, false);
      if (status.is_discarded()) continue;
      if (status["header"].value("member_id", "") == status.value("leader", "-")) return i;
    } catch (const std::exception&) {
    }
  }
  return -1;
}

void etcd_cluster::stop(int index) {
  auto& m = members_[index];
  if (m.pid <= 0) return;
  ::kill(m.pid, SIGTERM);
  int status = 0;
  const bool gone = wait_until([&] { return ::waitpid(m.pid, &status, WNOHANG) == m.pid; }, 5s);
  if (!gone) {
    ::kill(m.pid, SIGKILL);
    while (::waitpid(m.pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  m.pid = -1;
}

void etcd_cluster::kill(int index) {
  auto& m = members_[index];
  if (m.pid <= 0) return;
  ::kill(m.pid, SIGKILL);
  int status = 0;
  while (::waitpid(m.pid, &status, 0) < 0 && errno == EINTR) {
  }
  m.pid = -1;
}

void etcd_cluster::restart(const std::vector<int>& members) {
  for (int index : members) start(index, false);
  for (int index : members)
    if (!wait_until([&] { return healthy(index); }, 20s))
      throw std::runtime_error("etcd_cluster: member " + members_[index].name + " did not come back:\n" + output());
}

std::string etcd_cluster::output() const {
  std::string out;
  for (const auto& m : members_) {
    std::ifstream in(dir_ / (m.name + ".log"));
    std::stringstream s;
    s << in.rdbuf();
    out += "---- " + m.name + " ----\n" + s.str();
  }
  return out;
}

}  // namespace ignite::test
