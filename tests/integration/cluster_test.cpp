// Several ingress nodes sharing one state in etcd: a real 3-member etcd cluster
// (tests/support/etcd_cluster) and three real proxies, each on a loopback address of
// its own (127.0.0.2, .3, .4), driven through their admin and public listeners.
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "proxy_fixture.hpp"
#include "support/admin_client.hpp"
#include "support/container_engine.hpp"
#include "support/etcd_cluster.hpp"
#include "support/fake_pod.hpp"
#include "support/process_table.hpp"
#include "support/proxy_process.hpp"
#include "support/random_hex.hpp"
#include "support/raw_client.hpp"
#include "support/test_ca.hpp"
#include "support/wait_until.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct node {
  std::string address;  // 127.0.0.N
  std::unique_ptr<proxy_process> process;
  std::uint16_t http_port = 0;
  std::uint16_t admin_port = 0;
};

class cluster : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto missing = etcd_cluster::missing_tools(); !missing.empty()) {
      if (container_tests_required()) FAIL() << missing << " (CI=true: these tests must run)";
      GTEST_SKIP() << missing;
    }
    dir_ = std::filesystem::temp_directory_path() / ("ignite-cluster-" + random_hex(8));
    std::filesystem::create_directories(dir_);
    etcd_ = std::make_unique<etcd_cluster>(3);
    token_ = "op-" + random_hex(32);
    prefix_ = "/ignite-" + random_hex(8);
    for (int i = 0; i < 3; ++i) nodes_[i].address = "127.0.0." + std::to_string(i + 2);
    // One after the other: the first start writes the secrets key the others read.
    for (int i = 0; i < 3; ++i) start(i);
  }
  void TearDown() override {
    for (auto& n : nodes_) {
      if (n.process && HasFailure()) std::cerr << "---- " << n.address << " ----\n" << n.process->output();
      n.process.reset();
    }
    etcd_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  json config(int i) const {
    const auto& a = nodes_[i].address;
    return {{"domain", k_domain},
            {"listen", {{"http", a + ":0"}, {"admin", a + ":0"}}},
            {"threads", 1},
            {"state_file", (dir_ / ("node" + std::to_string(i)) / "state.db").string()},
            {"secrets_key_file", (dir_ / "secrets.key").string()},
            {"state",
             {{"etcd",
               {{"endpoints", etcd_->endpoints()},
                {"prefix", prefix_},
                {"request_timeout_ms", 2000},
                // Long enough that a loaded machine never lets a live node's lease lapse; the
                // tests that kill a node rely on refused connections, not on the expiry.
                {"lease_ttl_ms", 6000},
                {"node_name", "node-" + std::to_string(i)}}}}},
            {"limits", {{"drain_timeout_ms", 2000}}},
            {"apps", json::array()}};
  }
  void start(int i) {
    auto& n = nodes_[i];
    n.process = std::make_unique<proxy_process>(IGNITE_PROXY_BIN, config(i), std::vector<std::string>{},
                                                std::vector<std::string>{"IGNITE_ADMIN_TOKEN=" + token_});
    auto http = n.process->wait_listening(k_cap);
    auto admin = n.process->wait_admin_listening(k_cap);
    if (!http || !admin) throw std::runtime_error("node " + n.address + " did not start:\n" + n.process->output());
    n.http_port = *http;
    n.admin_port = *admin;
  }

  answer op(int i, std::string_view method, std::string_view path, const json& body = json()) {
    std::optional<std::string> text;
    if (!body.is_null())
      text = body.dump();
    else if (method == "POST" || method == "PUT")
      text = "";
    return admin_exchange(nodes_[i].admin_port, admin_request(method, path, token_, text), k_cap, nodes_[i].address);
  }
  answer readyz(int i) {
    return admin_exchange(nodes_[i].admin_port, admin_request("GET", "/readyz", "", std::nullopt), k_cap,
                          nodes_[i].address);
  }
  // The operator creates acme-corp:<name> through node `i` with a draft served by `pod`.
  void create_with_draft(int i, const std::string& name, const fake_pod& pod) {
    auto created = op(i, "POST", "/v1/apps", {{"org", "acme-corp"}, {"name", name}});
    ASSERT_EQ(created.status, 201u) << created.describe();
    auto draft = op(i, "PUT", "/v1/apps/acme-corp:" + name + "/draft", {{"endpoints", json::array({pod.endpoint()})}});
    ASSERT_EQ(draft.status, 200u) << draft.describe();
  }
  // POST / for acme-corp:<name> through node `i`'s public listener.
  std::optional<raw_response> call(int i, const std::string& name) {
    try {
      raw_client c(nodes_[i].address, nodes_[i].http_port, k_cap);
      if (c.send(post(name + "-acme-corp." + std::string(k_domain), "{}"))) return std::nullopt;
      return c.read_response();
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  // The operator publishes acme-corp:<name> through node `i`, run by the greeter as a
  // local process with `env` (GREETER_START_DELAY_MS=…: a slow cold start), and `scaling`.
  void publish_greeter(int i, const std::string& name, std::vector<std::string> env = {},
                       const json& scaling = json()) {
    auto created = op(i, "POST", "/v1/apps", {{"org", "acme-corp"}, {"name", name}});
    ASSERT_EQ(created.status, 201u) << created.describe();
    if (!scaling.is_null()) {
      auto scaled = op(i, "PUT", "/v1/apps/acme-corp:" + name + "/scaling", scaling);
      ASSERT_EQ(scaled.status, 200u) << scaled.describe();
    }
    json command = json::array({"/usr/bin/env"});
    for (auto& e : env) command.push_back(std::move(e));
    command.push_back(IGNITE_GREETER_BIN);
    auto draft = op(i, "PUT", "/v1/apps/acme-corp:" + name + "/draft", {{"command", command}});
    ASSERT_EQ(draft.status, 200u) << draft.describe();
    auto published = op(i, "POST", "/v1/apps/acme-corp:" + name + "/draft/publish");
    ASSERT_EQ(published.status, 201u) << published.describe();
  }
  // How many times the nodes' logs say `event`, all nodes together.
  int logged(std::string_view event) const {
    int n = 0;
    const std::string quoted = "\"" + std::string(event) + "\"";
    for (const auto& node : nodes_)
      if (node.process)
        for (const auto& line : node.process->lines()) n += line.find(quoted) != std::string::npos;
    return n;
  }
  // Calls node `i` until its routes know the app (not 404), and returns that answer.
  std::optional<raw_response> call_when_routed(int i, const std::string& name) {
    std::optional<raw_response> r;
    wait_until([&] { return (r = call(i, name)) && r->status != 404; }, k_cap);
    return r;
  }
  // The pods the nodes run now, all nodes together.
  std::vector<process_info> pods() const {
    std::vector<process_info> all;
    for (const auto& n : nodes_)
      if (n.process)
        for (const auto& p : children_of(n.process->pid())) all.push_back(p);
    return all;
  }
  bool serves(int i, const std::string& name) {
    auto r = call(i, name);
    return r && r->status == 200;
  }

  std::filesystem::path dir_;
  std::unique_ptr<etcd_cluster> etcd_;
  std::string token_, prefix_;
  std::array<node, 3> nodes_;
  fake_pod pod_{"cluster-pod"};
};

TEST_F(cluster, a_publish_through_one_node_serves_on_every_node) {
  create_with_draft(0, "greeter", pod_);
  auto published = op(0, "POST", "/v1/apps/acme-corp:greeter/draft/publish");
  ASSERT_EQ(published.status, 201u) << published.describe();
  // Node A's own routes changed before it answered; the others follow through their watch.
  EXPECT_TRUE(serves(0, "greeter"));
  for (int i : {1, 2}) EXPECT_TRUE(wait_until([&] { return serves(i, "greeter"); }, k_cap)) << nodes_[i].address;
  // What one node's API wrote, another's reads.
  auto listed = op(2, "GET", "/v1/apps/acme-corp:greeter");
  EXPECT_EQ(listed.status, 200u) << listed.describe();
}

TEST_F(cluster, two_nodes_publishing_at_once_never_cut_the_same_version) {
  create_with_draft(0, "race", pod_);
  std::array<answer, 2> got;
  std::thread a([&] { got[0] = op(0, "POST", "/v1/apps/acme-corp:race/draft/publish"); });
  std::thread b([&] { got[1] = op(1, "POST", "/v1/apps/acme-corp:race/draft/publish"); });
  a.join();
  b.join();
  std::set<unsigned> versions;
  int published = 0;
  for (const auto& g : got) {
    ASSERT_TRUE(g.arrived) << g.describe();
    if (g.status == 201) {
      ++published;
      EXPECT_TRUE(versions.insert(g.body.value("version", 0u)).second) << "version cut twice: " << g.describe();
    } else {
      EXPECT_EQ(g.status, 409u) << g.describe();  // the other node's publish won the compare
    }
  }
  EXPECT_GE(published, 1);
  auto listed = op(2, "GET", "/v1/apps/acme-corp:race/versions");
  ASSERT_EQ(listed.status, 200u) << listed.describe();
  EXPECT_EQ(listed.body["versions"].size(), static_cast<std::size_t>(published)) << listed.describe();
}

TEST_F(cluster, one_etcd_member_killed_changes_nothing) {
  etcd_->kill(etcd_->leader() == 0 ? 1 : 0);
  create_with_draft(1, "steady", pod_);
  auto published = op(1, "POST", "/v1/apps/acme-corp:steady/draft/publish");
  ASSERT_EQ(published.status, 201u) << published.describe();
  for (int i : {0, 1, 2}) EXPECT_TRUE(wait_until([&] { return serves(i, "steady"); }, k_cap)) << nodes_[i].address;
  for (int i : {0, 1, 2}) EXPECT_EQ(readyz(i).status, 200u) << readyz(i).describe();
}

TEST_F(cluster, without_etcd_the_data_plane_serves_on_the_api_says_503_and_the_nodes_converge_after) {
  create_with_draft(0, "before", pod_);
  ASSERT_EQ(op(0, "POST", "/v1/apps/acme-corp:before/draft/publish").status, 201u);
  for (int i : {0, 1, 2}) ASSERT_TRUE(wait_until([&] { return serves(i, "before"); }, k_cap));

  for (int m : {0, 1, 2}) etcd_->kill(m);
  for (int i : {0, 1, 2}) EXPECT_TRUE(serves(i, "before")) << nodes_[i].address << ": the data plane stopped";
  auto refused = op(1, "GET", "/v1/apps");
  EXPECT_TRUE(is_error(refused, 503, "state_unavailable"));
  EXPECT_TRUE(wait_until([&] { return readyz(2).status == 503; }, k_cap));
  EXPECT_NE(readyz(2).text.find("state store"), std::string::npos) << readyz(2).describe();

  etcd_->restart({0, 1, 2});
  for (int i : {0, 1, 2}) EXPECT_TRUE(wait_until([&] { return readyz(i).status == 200; }, 10s)) << readyz(i).describe();
  // Changes made after etcd came back reach every node: the watches resumed.
  fake_pod later{"later-pod"};
  create_with_draft(2, "after", later);
  ASSERT_EQ(op(2, "POST", "/v1/apps/acme-corp:after/draft/publish").status, 201u);
  for (int i : {0, 1, 2}) EXPECT_TRUE(wait_until([&] { return serves(i, "after"); }, 10s)) << nodes_[i].address;
  for (int i : {0, 1, 2}) EXPECT_TRUE(serves(i, "before"));
}

TEST_F(cluster, a_cold_start_seen_by_every_node_at_once_starts_one_pod) {
  // The pod takes a second to listen, so all three nodes hold their request during one
  // cold start, whichever node's request came first.
  publish_greeter(0, "cold", {"GREETER_START_DELAY_MS=1000"});
  std::array<std::optional<raw_response>, 3> got;
  std::vector<std::thread> callers;
  for (int i : {0, 1, 2}) callers.emplace_back([&, i] { got[i] = call_when_routed(i, "cold"); });
  for (auto& t : callers) t.join();
  std::set<std::string> listening;
  for (int i : {0, 1, 2}) {
    ASSERT_TRUE(got[i]) << nodes_[i].address << " got no answer";
    ASSERT_EQ(got[i]->status, 200u) << nodes_[i].address << ": " << got[i]->body;
    EXPECT_EQ(got[i]->headers.get("x-ignite-cold-start"), "true") << nodes_[i].address;
    listening.insert(got[i]->headers.get("x-greeter-listening-at-us").value_or(""));
  }
  EXPECT_EQ(listening.size(), 1u) << "the nodes' requests reached different pods";
  EXPECT_EQ(pods().size(), 1u) << "pods: " << pids(pods());
  EXPECT_EQ(logged("cluster_start_claimed"), 1);
}

TEST_F(cluster, when_the_node_hosting_the_pod_is_killed_the_others_start_a_new_one) {
  publish_greeter(0, "sturdy");
  // Node A starts the pod; node B is served by it across the loopback network.
  auto first = call_when_routed(0, "sturdy");
  ASSERT_TRUE(first && first->status == 200) << (first ? first->body : "no answer");
  auto remote = call_when_routed(1, "sturdy");
  ASSERT_TRUE(remote && remote->status == 200) << (remote ? remote->body : "no answer");
  EXPECT_EQ(remote->headers.get("x-greeter-listening-at-us"), first->headers.get("x-greeter-listening-at-us"))
      << "node B started a pod of its own";
  ASSERT_EQ(children_of(nodes_[1].process->pid()).size(), 0u);
  const auto old_pods = children_of(nodes_[0].process->pid());
  ASSERT_EQ(old_pods.size(), 1u);

  nodes_[0].process->send_signal(SIGKILL);
  ASSERT_TRUE(nodes_[0].process->wait_exit(k_cap));
  ASSERT_TRUE(wait_until([&] { return !any_running(old_pods); }, k_cap)) << "node A's pod outlived it";
  nodes_[0].process.reset();

  // B and C find the pod gone (refused, or its registration expired with A's lease), and
  // one new pod serves them both.
  auto after_b = call(1, "sturdy");
  ASSERT_TRUE(after_b && after_b->status == 200) << (after_b ? after_b->body : "no answer");
  auto after_c = call_when_routed(2, "sturdy");  // C may hear of the publish only now
  ASSERT_TRUE(after_c && after_c->status == 200) << (after_c ? after_c->body : "no answer");
  EXPECT_EQ(after_b->headers.get("x-greeter-listening-at-us"), after_c->headers.get("x-greeter-listening-at-us"));
  EXPECT_EQ(pods().size(), 1u) << "pods: " << pids(pods());
  // Nothing acknowledged was lost with node A.
  auto listed = op(2, "GET", "/v1/apps/acme-corp:sturdy");
  EXPECT_EQ(listed.status, 200u) << listed.describe();
  // Once node A's lease expires, its registration and its pod's are gone from etcd, so
  // from every node's view.
  std::string keys;
  EXPECT_TRUE(wait_until(
      [&] {
        keys = etcd_->etcdctl({"get", "--prefix", "--keys-only", prefix_ + "/cluster/"});
        return keys.find("/nodes/node-1") != std::string::npos && keys.find("node-0") == std::string::npos;
      },
      15s))
      << keys;
}

TEST_F(cluster, a_pod_that_fails_to_start_fails_the_requests_held_on_every_node_fast) {
  publish_greeter(0, "broken", {"GREETER_START_DELAY_MS=1000", "GREETER_EXIT_BEFORE_LISTEN=3"});
  std::array<std::optional<raw_response>, 3> got;
  std::vector<std::thread> callers;
  for (int i : {0, 1, 2}) callers.emplace_back([&, i] { got[i] = call_when_routed(i, "broken"); });
  for (auto& t : callers) t.join();
  // One pod was tried, for the whole cluster, and every node gives its reason at once
  // (far inside the 30 s cold_start_timeout_ms).
  EXPECT_EQ(logged("cluster_start_claimed"), 1);
  for (int i : {0, 1, 2}) {
    ASSERT_TRUE(got[i]) << nodes_[i].address << " got no answer";
    EXPECT_EQ(got[i]->status, 503u) << nodes_[i].address << ": " << got[i]->body;
    EXPECT_NE(got[i]->body.find("pod_start_failed"), std::string::npos) << got[i]->body;
    EXPECT_NE(got[i]->body.find("exited with status 3"), std::string::npos) << got[i]->body;
  }
}

TEST_F(cluster, a_pod_that_another_node_uses_stays_up_until_that_node_lets_go) {
  publish_greeter(0, "shared", {}, {{"idle_timeout_ms", 1000}});
  auto first = call_when_routed(0, "shared");
  ASSERT_TRUE(first && first->status == 200) << (first ? first->body : "no answer");
  const auto pod = first->headers.get("x-greeter-listening-at-us");
  const auto hosted = children_of(nodes_[0].process->pid());
  ASSERT_EQ(hosted.size(), 1u);
  // Node B keeps calling for three idle timeouts; node A sends the pod nothing, yet keeps
  // it, since B uses it.
  const auto until = std::chrono::steady_clock::now() + 3s;
  int calls = 0;
  while (std::chrono::steady_clock::now() < until) {
    auto r = call_when_routed(1, "shared");
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    EXPECT_EQ(r->headers.get("x-greeter-listening-at-us"), pod) << "a new pod served call " << calls;
    ++calls;
  }
  EXPECT_TRUE(any_running(hosted)) << "node A stopped a pod that node B was using";
  EXPECT_EQ(pods().size(), 1u) << "pods: " << pids(pods());
  // B idles: it lets go of the pod after its idle timeout, and A stops it after its own.
  EXPECT_TRUE(wait_until([&] { return !any_running(hosted); }, k_cap)) << "the pod was never stopped";
}

TEST_F(cluster, with_a_concurrency_limit_a_cold_start_across_nodes_starts_what_their_demand_needs) {
  // Each pod takes one request at a time; two nodes each hold two requests during one
  // slow start: the cluster's demand is four pods, and each node starts its own two
  // rather than waiting for the other's.
  // Each answer takes 500 ms, so the four requests overlap and need four pods.
  publish_greeter(0, "busy", {"GREETER_START_DELAY_MS=1000", "GREETER_RESPONSE_DELAY_MS=500"},
                  {{"container_concurrency", 1}});
  std::array<std::optional<raw_response>, 4> got;
  std::vector<std::thread> callers;
  for (int k = 0; k < 4; ++k) callers.emplace_back([&, k] { got[k] = call_when_routed(k % 2, "busy"); });
  for (auto& t : callers) t.join();
  std::set<std::string> served_by;
  for (const auto& r : got) {
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    served_by.insert(r->headers.get("x-greeter-listening-at-us").value_or(""));
  }
  std::string seen;
  for (const auto& at : served_by) seen += at + " ";
  EXPECT_EQ(served_by.size(), 4u) << "a pod took more than its one request at a time: " << seen;
  EXPECT_EQ(children_of(nodes_[0].process->pid()).size(), 2u);
  EXPECT_EQ(children_of(nodes_[1].process->pid()).size(), 2u);
}

// Nodes on an etcd that takes only TLS with client certificates, and only its user with
// the right password: they share state as on a plain one; a node with a wrong password
// does not start, and says why.
TEST_F(cluster, a_pod_key_of_the_wrong_shape_is_ignored_and_the_nodes_serve_on) {
  etcd_->etcdctl({"put", prefix_ + "/cluster/pods/acme-corp:odd/1/node-9/1", R"({"address":5})"});
  ASSERT_TRUE(wait_until([&] { return logged("cluster_key_ignored") == 3; }, k_cap)) << "every node skips it";
  publish_greeter(0, "odd");
  for (int i : {0, 1, 2}) {
    auto r = call_when_routed(i, "odd");
    EXPECT_TRUE(r && r->status == 200) << nodes_[i].address << ": " << (r ? r->body : "no answer");
  }
}

TEST(cluster_secured, nodes_on_an_etcd_with_tls_client_certificates_and_auth_share_state) {
  if (auto missing = etcd_cluster::missing_tools(); !missing.empty()) {
    if (container_tests_required()) FAIL() << missing << " (CI=true: these tests must run)";
    GTEST_SKIP() << missing;
  }
  test_ca ca;
  const auto member = ca.issue_for("etcd-member", {"IP:127.0.0.1"}, "member");
  // No CN: with auth on, etcd's gateway refuses a client certificate that names anyone.
  const auto client = ca.issue_for("", {}, "client");
  const std::string password = "pw-" + random_hex(16);
  etcd_security security;
  security.ca_file = ca.ca_file();
  security.cert_file = member.cert_file;
  security.key_file = member.key_file;
  security.client_cert_auth = true;
  security.root_password = password;
  etcd_cluster etcd(1, security);
  const auto dir = std::filesystem::temp_directory_path() / ("ignite-secured-" + random_hex(8));
  std::filesystem::create_directories(dir);
  const std::string token = "op-" + random_hex(32);
  auto config = [&](const std::string& address, int i) {
    return json{
        {"domain", k_domain},
        {"listen", {{"http", address + ":0"}, {"admin", address + ":0"}}},
        {"threads", 1},
        {"state_file", (dir / ("node" + std::to_string(i)) / "state.db").string()},
        {"secrets_key_file", (dir / "secrets.key").string()},
        {"state",
         {{"etcd",
           {{"endpoints", etcd.urls()},
            {"prefix", "/secured"},
            {"request_timeout_ms", 2000},
            {"lease_ttl_ms", 6000},
            {"tls", {{"ca_file", ca.ca_file()}, {"cert_file", client.cert_file}, {"key_file", client.key_file}}},
            {"username", "root"},
            {"password_env", "IGNITE_ETCD_PASSWORD"}}}}},
        {"limits", {{"drain_timeout_ms", 2000}}},
        {"apps", json::array()}};
  };
  auto start = [&](const std::string& address, int i, const std::string& pw) {
    return std::make_unique<proxy_process>(
        IGNITE_PROXY_BIN, config(address, i), std::vector<std::string>{},
        std::vector<std::string>{"IGNITE_ADMIN_TOKEN=" + token, "IGNITE_ETCD_PASSWORD=" + pw});
  };
  struct started {
    std::unique_ptr<proxy_process> process;
    std::uint16_t http = 0, admin = 0;
  };
  std::array<started, 2> nodes;
  const std::array<std::string, 2> addresses{"127.0.0.2", "127.0.0.3"};
  for (int i = 0; i < 2; ++i) {  // one after the other: the first writes the secrets key
    nodes[i].process = start(addresses[i], i, password);
    auto http = nodes[i].process->wait_listening(k_cap);
    auto admin = nodes[i].process->wait_admin_listening(k_cap);
    ASSERT_TRUE(http && admin) << nodes[i].process->output();
    nodes[i].http = *http;
    nodes[i].admin = *admin;
  }
  fake_pod pod("secured-pod");
  auto op = [&](std::string_view method, std::string_view path, const json& body) {
    std::optional<std::string> text = body.is_null() ? std::string() : body.dump();
    return admin_exchange(nodes[0].admin, admin_request(method, path, token, text), k_cap, addresses[0]);
  };
  auto created = op("POST", "/v1/apps", {{"org", "acme-corp"}, {"name", "greeter"}});
  ASSERT_EQ(created.status, 201u) << created.describe();
  auto draft = op("PUT", "/v1/apps/acme-corp:greeter/draft", {{"endpoints", json::array({pod.endpoint()})}});
  ASSERT_EQ(draft.status, 200u) << draft.describe();
  auto published = op("POST", "/v1/apps/acme-corp:greeter/draft/publish", json());
  ASSERT_EQ(published.status, 201u) << published.describe();
  // Published through the first node, served by the second through its watch.
  auto serves = [&] {
    try {
      raw_client c(addresses[1], nodes[1].http, k_cap);
      if (c.send(post("greeter-acme-corp." + std::string(k_domain), "{}"))) return false;
      auto r = c.read_response();
      return r && r->status == 200;
    } catch (const std::exception&) {
      return false;
    }
  };
  EXPECT_TRUE(wait_until(serves, k_cap)) << nodes[1].process->output();

  auto wrong = start("127.0.0.4", 2, "not-" + password);
  auto exit = wrong->wait_exit(k_cap * 2);
  ASSERT_TRUE(exit) << wrong->output();
  EXPECT_FALSE(exit->succeeded());
  EXPECT_NE(wrong->output().find("authentication as root failed"), std::string::npos) << wrong->output();

  for (auto& n : nodes) n.process.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace ignite::test
