// The seed's walkthrough (../shared/seed-byoi.md), word for word with `ignite` for
// `dodil ignite`, driven through the real CLI binary against the real proxy, with the
// greeter as a `command` source: create, save, publish, invoke, inspect; then a
// republish and a rollback while public traffic runs, losing no request.
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "proxy_fixture.hpp"
#include "support/program.hpp"
#include "support/wait_until.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::string_view k_operator_token = "operator-token-for-the-seed-flow";

class seed_flow : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = std::filesystem::temp_directory_path() / ("ignite-seed-" + std::to_string(::getpid()));
    std::filesystem::create_directories(home_);
    json cfg = {{"domain", "ignite.dodil.cloud"},
                {"listen", {{"http", "127.0.0.1:0"}, {"admin", "127.0.0.1:0"}}},
                {"threads", 1},
                {"limits", {{"drain_timeout_ms", 2000}}},
                {"apps", json::array()}};
    proxy_ = std::make_unique<proxy_process>(
        IGNITE_PROXY_BIN, cfg, std::vector<std::string>{},
        std::vector<std::string>{"IGNITE_ADMIN_TOKEN=" + std::string(k_operator_token)});
    ASSERT_TRUE(proxy_->wait_listening(k_cap)) << proxy_->output();
    auto admin = proxy_->wait_admin_listening(k_cap);
    ASSERT_TRUE(admin) << proxy_->output();
    admin_port_ = *admin;
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "---- proxy output ----\n" << proxy_->output() << "----------------------\n";
    proxy_.reset();
    std::filesystem::remove_all(home_);
  }

  // `ignite <args…>` with its own HOME, as a user's shell would run it.
  program_result ignite(std::vector<std::string> args, const std::string& input = {}) {
    auto r = run_program(IGNITE_CLI_BIN, args, {"HOME=" + home_.string(), "XDG_CONFIG_HOME="}, input);
    EXPECT_FALSE(r.timed_out) << "ignite did not finish";
    return r;
  }
  // Must succeed.
  std::string ok(std::vector<std::string> args) {
    auto r = ignite(args);
    EXPECT_EQ(r.exit_code, 0) << "ignite " << ::testing::PrintToString(args) << "\n" << r.out << r.err;
    return r.out;
  }

  std::filesystem::path home_;
  std::unique_ptr<proxy_process> proxy_;
  std::uint16_t admin_port_ = 0;
};

// Keeps POSTing to the app's public host on keep-alive connections and counts answers by
// status and by the version that answered (the greeter echoes IGNITE_VERSION).
class public_load {
 public:
  explicit public_load(std::uint16_t port) {
    thread_ = std::thread([this, port] {
      std::unique_ptr<raw_client> client;
      while (!stop_) {
        if (!client) client = std::make_unique<raw_client>(port);
        if (client->send(post("greeter-acme-corp.ignite.dodil.cloud", R"({"name":"load"})"))) {
          ++failures_;
          client.reset();
          continue;
        }
        auto r = client->read_response();
        if (!r) {
          ++failures_;
          client.reset();
          continue;
        }
        std::lock_guard lock(mutex_);
        ++by_status_[r->status];
        ++by_version_[r->headers.get("x-greeter-version").value_or("?")];
        if (!r->keep_alive) client.reset();
      }
    });
  }
  ~public_load() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int count(unsigned status) {
    std::lock_guard lock(mutex_);
    return by_status_[status];
  }
  int served_by(const std::string& version) {
    std::lock_guard lock(mutex_);
    return by_version_[version];
  }
  int total() {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (auto& [s, c] : by_status_) n += c;
    return n;
  }
  int failures() const { return failures_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> failures_{0};
  std::mutex mutex_;
  std::map<unsigned, int> by_status_;
  std::map<std::string, int> by_version_;
  std::thread thread_;
};

TEST_F(seed_flow, the_walkthrough_runs_word_for_word_and_republish_and_rollback_lose_no_request) {
  // Prerequisites: the CLI installed and authenticated.
  ok({"config", "set", "token", std::string(k_operator_token)});
  ok({"config", "set", "api_endpoint", "http://127.0.0.1:" + std::to_string(admin_port_)});

  // 1. Create the app (the operator names the org; an org token implies it).
  ok({"app", "create", "greeter", "--org", "acme-corp", "--description", "Prebuilt greeter image"});

  // 2. Save: a source, and no build step.
  auto refused = ignite(
      {"draft", "save", "acme-corp:greeter", "--image-ref", "ghcr.io/acme-corp/greeter:1.0.0", "--build-arg", "X=1"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("no build step"), std::string::npos) << refused.err;
  ok({"draft", "save", "acme-corp:greeter", "--command", IGNITE_GREETER_BIN});

  // 4. Publish, and verify: active_version and public_urls.
  ok({"draft", "publish", "acme-corp:greeter"});
  auto app = json::parse(ok({"app", "get", "acme-corp:greeter", "-o", "json"}), nullptr, false);
  ASSERT_TRUE(app.is_object());
  EXPECT_EQ(app["active_version"], 1);
  EXPECT_EQ(app["public_urls"],
            json::array({"http://greeter-acme-corp.ignite.dodil.cloud:" + std::to_string(proxy_->port())}));

  // 5. Invoke: the greeting, with the execution id merged in.
  auto answer = json::parse(ok({"invoke", "acme-corp:greeter", "-p", R"({"name": "ada"})"}), nullptr, false);
  ASSERT_TRUE(answer.is_object());
  EXPECT_EQ(answer.value("greeting", ""), "Hello, ada!");
  EXPECT_TRUE(is_ulid(answer.value("execution_id", ""))) << answer.dump();

  // Iterating under load: publish version 2, then roll back to 1. Every request is served.
  public_load load(proxy_->port());
  ASSERT_TRUE(wait_until([&] { return load.served_by("1") >= 20; }, k_cap)) << "no traffic on version 1";
  ok({"draft", "save", "acme-corp:greeter", "--command", "/usr/bin/env", "GREETER_VERSION_NOTE=2", IGNITE_GREETER_BIN});
  ok({"draft", "publish", "acme-corp:greeter"});
  ASSERT_TRUE(wait_until([&] { return load.served_by("2") >= 20; }, k_cap)) << "version 2 never served";
  ok({"version", "rollback", "acme-corp:greeter", "1"});
  const int before = load.served_by("1");
  ASSERT_TRUE(wait_until([&] { return load.served_by("1") >= before + 20; }, k_cap)) << "the rollback never served";
  load.stop();
  EXPECT_EQ(load.failures(), 0) << "a request was lost";
  EXPECT_EQ(load.count(200), load.total()) << "every request got 200";

  auto versions = ok({"version", "list", "acme-corp:greeter"});
  EXPECT_NE(versions.find("2"), std::string::npos) << versions;
}

}  // namespace
}  // namespace ignite::test
