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

#include "support/daemon.hpp"
#include "support/program.hpp"
#include "support/raw_client.hpp"
#include "support/wait_until.hpp"

namespace ignite::test {

namespace {

using namespace std::chrono_literals;

const char* k_etcd = "/usr/bin/etcd";
const char* k_etcdctl = "/usr/bin/etcdctl";  // only to enable auth and change passwords

}  // namespace

std::string etcd_cluster::missing_tools() {
  if (::access(k_etcd, X_OK) != 0) return "etcd (apt-get install etcd-server)";
  if (::access(k_etcdctl, X_OK) != 0) return "etcdctl (apt-get install etcd-client)";
  return "";
}

etcd_cluster::etcd_cluster(int members) : etcd_cluster(members, etcd_security{}) {}

etcd_cluster::etcd_cluster(int members, etcd_security security) : security_(std::move(security)) {
  if (auto missing = missing_tools(); !missing.empty()) throw std::runtime_error(missing);
  std::string tmpl = (std::filesystem::temp_directory_path() / "ignite-etcd-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("etcd_cluster: mkdtemp failed");
  dir_ = tmpl;
  for (int i = 0; i < members; ++i) {
    member m;
    m.name = "m" + std::to_string(i);
    m.client_port = free_port();
    m.peer_port = free_port();
    if (!security_.ca_file.empty()) m.metrics_port = free_port();
    initial_cluster_ += (i ? "," : "") + m.name + "=http://127.0.0.1:" + std::to_string(m.peer_port);
    members_.push_back(m);
  }
  try {
    for (int i = 0; i < members; ++i) start(i, true);
    for (int i = 0; i < members; ++i)
      if (!wait_until([&] { return healthy(i); }, 20s))
        throw std::runtime_error("etcd_cluster: member " + members_[i].name + " is not healthy:\n" + output());
    if (!security_.root_password.empty()) enable_auth();
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

std::vector<std::string> etcd_cluster::urls() const {
  std::vector<std::string> out;
  for (const auto& m : members_) out.push_back(scheme() + "127.0.0.1:" + std::to_string(m.client_port));
  return out;
}

std::string etcd_cluster::etcdctl(const std::vector<std::string>& args, const std::string& input) const {
  std::string endpoints;
  for (const auto& u : urls()) endpoints += (endpoints.empty() ? "" : ",") + u;
  std::vector<std::string> all{"--endpoints", endpoints, "--dial-timeout", "5s", "--command-timeout", "10s"};
  if (!security_.ca_file.empty()) {
    all.insert(all.end(), {"--cacert", security_.ca_file});
    // The members' own certificate is a client certificate too; its CN names no user.
    if (security_.client_cert_auth) all.insert(all.end(), {"--cert", security_.cert_file, "--key", security_.key_file});
  }
  if (auth_enabled_) all.insert(all.end(), {"--user", "root:" + security_.root_password});
  all.insert(all.end(), args.begin(), args.end());
  // ETCDCTL_* variables would override the flags: none from the test's environment.
  std::vector<std::string> env{"ETCDCTL_API=3"};
  const auto result = run_program(k_etcdctl, all, env, input, 20s);
  if (result.exit_code != 0)
    throw std::runtime_error("etcdctl failed (" + std::to_string(result.exit_code) + "):\n" + result.out + result.err);
  return result.out;
}

void etcd_cluster::enable_auth() {
  etcdctl({"user", "add", "root", "--interactive=false"}, security_.root_password + "\n");
  etcdctl({"auth", "enable"});
  auth_enabled_ = true;
}

std::vector<std::string> etcd_cluster::endpoints() const {
  std::vector<std::string> out;
  for (const auto& m : members_) out.push_back("127.0.0.1:" + std::to_string(m.client_port));
  return out;
}

void etcd_cluster::start(int index, bool fresh) {
  auto& m = members_[index];
  const std::string client = scheme() + "127.0.0.1:" + std::to_string(m.client_port);
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
  if (!security_.ca_file.empty()) {
    args.insert(args.end(), {"--cert-file", security_.cert_file, "--key-file", security_.key_file,
                             "--listen-metrics-urls", "http://127.0.0.1:" + std::to_string(m.metrics_port)});
    if (security_.client_cert_auth)
      args.insert(args.end(), {"--trusted-ca-file", security_.ca_file, "--client-cert-auth"});
  }
  if (security_.auth_token_ttl_s > 0)
    args.insert(args.end(), {"--auth-token-ttl", std::to_string(security_.auth_token_ttl_s)});
  // ETCD_* variables would override the flags: none from the test's environment.
  m.pid = spawn_daemon(args, "ETCD", (dir_ / (m.name + ".log")).string());
}

bool etcd_cluster::healthy(int index) const {
  const auto& m = members_[index];
  const auto port = security_.ca_file.empty() ? m.client_port : m.metrics_port;
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
