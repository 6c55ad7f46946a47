// The control API end to end: the real ignite-proxy as a child process, an operator token
// in its environment (IGNITE_ADMIN_TOKEN), driven over its admin listener (listen.admin on
// port 0) with raw HTTP. What the API publishes is reached through the public listener,
// served by fake pods in this process (`endpoints`) or by the real greeter (`command`).
// The state file lives in a directory the test owns, so a second proxy can reopen it.
// Every wait is on a condition (a log line, an answer, a socket), capped.
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "proxy_fixture.hpp"
#include "support/admin_client.hpp"
#include "support/fake_pod.hpp"
#include "support/gate.hpp"
#include "support/header_list.hpp"
#include "support/pod_reply.hpp"
#include "support/process_table.hpp"
#include "support/proxy_process.hpp"
#include "support/random_hex.hpp"
#include "support/raw_client.hpp"
#include "support/raw_response.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_until.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// ---- small helpers --------------------------------------------------------------------

std::string public_host(std::string_view org, std::string_view name) {
  return std::string(name) + "-" + std::string(org) + "." + std::string(k_domain);
}

std::string greeter() { return IGNITE_GREETER_BIN; }

// Every byte SQLite keeps for `state_file`: the database and, if present, its WAL.
std::string state_bytes(const std::filesystem::path& state_file) {
  std::string all;
  for (const char* suffix : {"", "-wal"}) {
    std::ifstream in(state_file.string() + suffix, std::ios::binary);
    if (in) all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return all;
}

// ---- the fixture ----------------------------------------------------------------------

class control_api : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<temp_dir>("ignite-api");
    state_file_ = dir_->path() / "state.db";
    operator_token_ = "op-" + random_hex(32);
  }

  void TearDown() override {
    if (proxy_) {
      if (HasFailure()) std::cerr << "---- proxy output ----\n" << proxy_->output() << "----------------------\n";
      stop_proxy();
    }
    dir_.reset();
  }

  // SIGTERM (the proxy stops its pods), SIGKILL if that did not end it; then every pod it
  // had must be gone.
  void stop_proxy() {
    const auto pods = children_of(proxy_->pid());
    proxy_->terminate(k_cap);
    proxy_.reset();
    if (!wait_until([&] { return std::none_of(pods.begin(), pods.end(), is_running); }, k_cap)) {
      ADD_FAILURE() << "pods outlived the proxy";
      for (const auto& p : pods)
        if (is_running(p)) ::kill(p.pid, SIGKILL);
    }
  }

  // No apps unless given, http on port 0, one worker, the state file in the test's own
  // directory, a short drain so that TearDown never waits long.
  json base_config(json apps = json::array(), json limits = json::object()) const {
    if (!limits.contains("drain_timeout_ms")) limits["drain_timeout_ms"] = 2000;
    return {{"domain", k_domain},
            {"listen", {{"http", "127.0.0.1:0"}, {"admin", "127.0.0.1:0"}}},
            {"threads", 1},
            {"state_file", state_file_.string()},
            {"limits", std::move(limits)},
            {"apps", std::move(apps)}};
  }

  void start(const json& config) {
    proxy_ = std::make_unique<proxy_process>(IGNITE_PROXY_BIN, config, std::vector<std::string>{},
                                             std::vector<std::string>{"IGNITE_ADMIN_TOKEN=" + operator_token_});
    auto http = proxy_->wait_listening(k_cap);
    auto admin = proxy_->wait_admin_listening(k_cap);
    if (!http || !admin) throw std::runtime_error("the proxy did not come up; output:\n" + proxy_->output());
    http_port_ = *http;
    admin_port_ = *admin;
  }
  void start() { start(base_config()); }

  // A new proxy on the same config (and state file), once the old one is gone.
  void restart(const json& config) {
    proxy_.reset();
    start(config);
  }

  proxy_process& proxy() { return *proxy_; }

  answer api(std::string_view method, std::string_view path, std::string_view token, const json& body = json()) {
    std::optional<std::string> text;
    if (!body.is_null())
      text = body.dump();
    else if (method == "POST" || method == "PUT")
      text = "";
    return admin_exchange(admin_port_, admin_request(method, path, token, text));
  }
  answer op(std::string_view method, std::string_view path, const json& body = json()) {
    return api(method, path, operator_token_, body);
  }
  answer raw_api(std::string_view raw) { return admin_exchange(admin_port_, raw); }

  // `a` when it has `status`; otherwise throws, failing the test with what came instead.
  static answer require(answer a, unsigned status, std::string_view what) {
    if (!a.arrived || a.status != status)
      throw std::runtime_error(std::string(what) + ": expected " + std::to_string(status) + ", got " + a.describe());
    return a;
  }

  // An org token for `org` (and its id).
  std::string org_token(const std::string& org, std::string* id = nullptr) {
    const auto a = require(op("POST", "/v1/orgs/" + org + "/tokens"), 201, "create an org token");
    if (id) *id = a.body.value("id", "");
    return a.body.value("token", "");
  }

  void create_app(std::string_view token, const std::string& org, const std::string& name) {
    require(api("POST", "/v1/apps", token, {{"org", org}, {"name", name}}), 201, "create " + org + ":" + name);
  }
  void save_draft(std::string_view token, const std::string& id, const json& source) {
    require(api("PUT", "/v1/apps/" + id + "/draft", token, source), 200, "save a draft of " + id);
  }
  unsigned publish(std::string_view token, const std::string& id) {
    const auto a = require(api("POST", "/v1/apps/" + id + "/draft/publish", token), 201, "publish " + id);
    return a.body.value("version", 0u);
  }
  // The operator creates org:name and publishes `source` as its version 1.
  void publish_app(const std::string& org, const std::string& name, const json& source) {
    create_app(operator_token_, org, name);
    save_draft(operator_token_, org + ":" + name, source);
    publish(operator_token_, org + ":" + name);
  }

  // POST / to <name>-<org> through the public listener.
  std::optional<raw_response> public_post(std::string_view org, std::string_view name, std::string_view body = "") {
    raw_client client(http_port_, k_cap);
    if (client.send(post(public_host(org, name), body))) return std::nullopt;
    return client.read_response();
  }

  json endpoints_of(const fake_pod& pod) const { return {{"endpoints", json::array({pod.endpoint()})}}; }

  std::unique_ptr<temp_dir> dir_;
  std::filesystem::path state_file_;
  std::string operator_token_;
  std::unique_ptr<proxy_process> proxy_;
  std::uint16_t http_port_ = 0;
  std::uint16_t admin_port_ = 0;
  fake_pod pod_{"api-pod"};
};

// ---- 1. the listener: health, authentication, routing -----------------------------------

TEST_F(control_api, health_and_readiness_answer_without_a_token) {
  start();
  const auto health = raw_api(admin_request("GET", "/healthz", "", std::nullopt));
  EXPECT_EQ(health.status, 200u) << health.describe();
  EXPECT_EQ(health.body.value("status", ""), "ok") << health.describe();
  const auto ready = raw_api(admin_request("GET", "/readyz", "", std::nullopt));
  EXPECT_EQ(ready.status, 200u) << ready.describe();
  EXPECT_EQ(ready.body.value("status", ""), "ready") << ready.describe();
}

TEST_F(control_api, v1_without_a_valid_token_is_401_unauthorized) {
  start();
  EXPECT_TRUE(is_error(api("GET", "/v1/apps", ""), 401, "unauthorized"));
  EXPECT_TRUE(is_error(api("GET", "/v1/apps", "not-the-token"), 401, "unauthorized"));
  EXPECT_TRUE(is_error(api("GET", "/v1/apps", operator_token_ + "x"), 401, "unauthorized"));
  EXPECT_TRUE(is_error(api("GET", "/v1/apps", "igt_abc_def"), 401, "unauthorized"));
  EXPECT_TRUE(is_error(api("POST", "/v1/apps", "", {{"org", "acme-corp"}, {"name", "x"}}), 401, "unauthorized"));
  EXPECT_TRUE(is_error(
      raw_api(admin_request("GET", "/v1/apps", "", std::nullopt, "Authorization: Basic " + operator_token_ + "\r\n")),
      401, "unauthorized"));
  // Nothing was created by the refused POST.
  const auto list = op("GET", "/v1/apps");
  ASSERT_EQ(list.status, 200u) << list.describe();
  EXPECT_EQ(list.body["apps"].size(), 0u) << list.describe();
}

TEST_F(control_api, unknown_paths_are_404) {
  start();
  EXPECT_TRUE(is_error(raw_api(admin_request("GET", "/nope", "", std::nullopt)), 404, "not_found"));
  EXPECT_TRUE(is_error(op("GET", "/v1/nope"), 404, "not_found"));
  EXPECT_TRUE(is_error(op("GET", "/v1/apps/acme-corp:x/nope"), 404, "not_found"));
}

TEST_F(control_api, a_wrong_method_is_405_with_allow) {
  start();
  struct wrong {
    const char* method;
    std::string path;
    const char* allow;
  };
  for (const auto& w : std::vector<wrong>{{"DELETE", "/v1/apps", "GET, POST"},
                                          {"PUT", "/v1/apps/acme-corp:x", "GET, DELETE"},
                                          {"GET", "/v1/apps/acme-corp:x/draft", "PUT"},
                                          {"GET", "/v1/apps/acme-corp:x/draft/publish", "POST"},
                                          {"POST", "/v1/apps/acme-corp:x/versions", "GET"},
                                          {"GET", "/v1/apps/acme-corp:x/versions/1/rollback", "POST"},
                                          {"GET", "/v1/apps/acme-corp:x/scaling", "PUT"},
                                          {"PUT", "/v1/secrets", "GET, POST"},
                                          {"GET", "/v1/secrets/acme-corp:s", "DELETE"},
                                          {"DELETE", "/v1/orgs/acme-corp/tokens", "GET, POST"},
                                          {"GET", "/v1/orgs/acme-corp/tokens/abc", "DELETE"}}) {
    SCOPED_TRACE(std::string(w.method) + " " + w.path);
    const auto a = op(w.method, w.path);
    EXPECT_TRUE(is_error(a, 405, "method_not_allowed"));
    EXPECT_EQ(a.header("Allow"), w.allow) << a.describe();
  }
}

// A 405 names what is allowed (RFC 9110 15.5.6), on /healthz, /readyz and invoke too.
TEST_F(control_api, a_wrong_method_on_health_and_invoke_is_405_with_allow) {
  start();
  const auto health = raw_api(admin_request("POST", "/healthz", "", ""));
  EXPECT_TRUE(is_error(health, 405, "method_not_allowed"));
  EXPECT_EQ(health.header("Allow"), "GET") << health.describe();
  const auto ready = raw_api(admin_request("DELETE", "/readyz", "", std::nullopt));
  EXPECT_TRUE(is_error(ready, 405, "method_not_allowed"));
  EXPECT_EQ(ready.header("Allow"), "GET") << ready.describe();
  const auto invoke = op("GET", "/v1/apps/acme-corp:x/invoke");
  EXPECT_TRUE(is_error(invoke, 405, "method_not_allowed"));
  EXPECT_EQ(invoke.header("Allow"), "POST") << invoke.describe();
}

// ---- 2. tokens ------------------------------------------------------------------------

TEST_F(control_api, the_operator_creates_lists_and_revokes_org_tokens) {
  start();
  std::string id;
  const auto token = org_token("acme-corp", &id);
  ASSERT_TRUE(token.starts_with("igt_")) << token;

  // Listed without the token itself.
  const auto list = op("GET", "/v1/orgs/acme-corp/tokens");
  ASSERT_EQ(list.status, 200u) << list.describe();
  bool listed = false;
  for (const auto& t : list.body["tokens"]) {
    listed = listed || t.value("id", "") == id;
    EXPECT_FALSE(t.contains("token")) << t.dump();
  }
  EXPECT_TRUE(listed) << list.describe();
  EXPECT_EQ(list.text.find(token), std::string::npos) << list.describe();
  // Another org's list does not show it.
  const auto other = op("GET", "/v1/orgs/other-org/tokens");
  ASSERT_EQ(other.status, 200u) << other.describe();
  EXPECT_EQ(other.text.find(id), std::string::npos) << other.describe();

  // It works, in its own org.
  EXPECT_EQ(api("GET", "/v1/apps", token).status, 200u);
  const auto created = api("POST", "/v1/apps", token, {{"name", "mine"}});
  ASSERT_EQ(created.status, 201u) << created.describe();
  EXPECT_EQ(created.body.value("org", ""), "acme-corp") << created.describe();

  // An org token cannot manage tokens.
  EXPECT_TRUE(is_error(api("POST", "/v1/orgs/acme-corp/tokens", token), 403, "permission_denied"));
  EXPECT_TRUE(is_error(api("POST", "/v1/orgs/other-org/tokens", token), 403, "permission_denied"));
  EXPECT_TRUE(is_error(api("GET", "/v1/orgs/acme-corp/tokens", token), 403, "permission_denied"));
  EXPECT_TRUE(is_error(api("DELETE", "/v1/orgs/acme-corp/tokens/" + id, token), 403, "permission_denied"));

  // Revoked: 401 from then on, and no longer listed; revoking it again is 404.
  EXPECT_TRUE(is_error(op("DELETE", "/v1/orgs/other-org/tokens/" + id), 404, "not_found"))
      << "a token is revoked through its own org only";
  const auto revoked = op("DELETE", "/v1/orgs/acme-corp/tokens/" + id);
  EXPECT_EQ(revoked.status, 200u) << revoked.describe();
  EXPECT_TRUE(is_error(api("GET", "/v1/apps", token), 401, "unauthorized"));
  const auto after = op("GET", "/v1/orgs/acme-corp/tokens");
  EXPECT_EQ(after.text.find(id), std::string::npos) << after.describe();
  EXPECT_TRUE(is_error(op("DELETE", "/v1/orgs/acme-corp/tokens/" + id), 404, "not_found"));
}

TEST_F(control_api, tokens_never_reach_the_log_or_the_state_file) {
  start();
  std::string id;
  const auto token = org_token("acme-corp", &id);
  const auto secret_part = token.substr(std::string_view("igt_").size() + id.size() + 1);  // igt_<id>_<secret>
  ASSERT_GE(secret_part.size(), 16u) << token;
  // Used, refused and revoked: every path that could log it.
  EXPECT_EQ(api("GET", "/v1/apps", token).status, 200u);
  EXPECT_EQ(api("GET", "/v1/apps/acme-corp:nope", token).status, 404u);
  EXPECT_EQ(api("GET", "/v1/apps", token + "x").status, 401u);
  const auto a = raw_api(admin_request("GET", "/v1/apps", "", std::nullopt, "Authorization: " + token + "\r\n"));
  EXPECT_EQ(a.status, 401u) << a.describe();
  // The admin_request line of the last call is written before its answer: it is there now.
  ASSERT_TRUE(proxy().wait_for_line(
      [](const json& j) { return j.value("event", "") == "admin_request" && j.value("status", 0) == 401; }, k_cap));

  const auto log = proxy().output();
  EXPECT_EQ(log.find(secret_part), std::string::npos) << "the org token is in the log:\n" << log;
  EXPECT_EQ(log.find(operator_token_), std::string::npos) << "the operator token is in the log:\n" << log;
  const auto bytes = state_bytes(state_file_);
  ASSERT_FALSE(bytes.empty()) << "no state file at " << state_file_;
  EXPECT_EQ(bytes.find(secret_part), std::string::npos) << "the org token is stored in clear";
  EXPECT_EQ(bytes.find(operator_token_), std::string::npos) << "the operator token is stored";
}

// A token is "igt_<id>_<secret>" and its secret may hold '_': every token handed out
// authenticates, whatever its bytes (ids once could hold '_' too, and one in five failed).
TEST_F(control_api, every_org_token_authenticates_even_with_an_underscore_in_its_id) {
  start();
  int with_underscore = 0;
  for (int i = 0; i < 40; ++i) {
    const auto a = op("POST", "/v1/orgs/acme-corp/tokens");
    ASSERT_EQ(a.status, 201u) << a.describe();
    const std::string token = a.body.value("token", "");
    const std::string id = a.body.value("id", "");
    EXPECT_EQ(id.find('_'), std::string::npos) << "the id is what the token is split at: " << id;
    with_underscore += token.find('_', 4 + id.size() + 1) != std::string::npos;
    const auto listed = api("GET", "/v1/apps", token);
    EXPECT_EQ(listed.status, 200u) << "token " << i << ": " << listed.describe();
  }
  EXPECT_GT(with_underscore, 0) << "no secret part held '_' in 40 tokens: the case is not covered";
}

// ---- 3. one org cannot see another's apps or secrets ------------------------------------

TEST_F(control_api, another_orgs_apps_and_secrets_answer_404_as_if_missing) {
  start();
  const auto acme = org_token("acme-corp");
  const auto other = org_token("other-org");
  create_app(acme, "acme-corp", "shop");
  // A published version (command sources are the operator's; an image's would need a
  // registry, which tests/integration/container_test.cpp has).
  save_draft(operator_token_, "acme-corp:shop", {{"command", {greeter()}}});
  ASSERT_EQ(publish(operator_token_, "acme-corp:shop"), 1u);
  create_app(other, "other-org", "own");
  require(api("POST", "/v1/secrets", acme,
              {{"name", "regcred"}, {"type", "registry"}, {"server", "ghcr.io"}, {"username", "u"}, {"password", "p"}}),
          201, "create acme's secret");

  // Every operation on acme-corp:shop answers other-org as a missing app of its own does.
  struct call {
    const char* method;
    const char* suffix;
    json body;
  };
  const json draft = {{"image_ref", "ghcr.io/other-org/x:1"}};
  for (const auto& c : std::vector<call>{{"GET", "", json()},
                                         {"DELETE", "", json()},
                                         {"PUT", "/draft", draft},
                                         {"POST", "/draft/publish", json()},
                                         {"GET", "/versions", json()},
                                         {"POST", "/versions/1/rollback", json()},
                                         {"PUT", "/scaling", {{"max_replicas", 2}}},
                                         {"POST", "/invoke", {{"name", "ada"}}}}) {
    SCOPED_TRACE(std::string(c.method) + " …" + c.suffix);
    const auto theirs = api(c.method, std::string("/v1/apps/acme-corp:shop") + c.suffix, other, c.body);
    const auto missing = api(c.method, std::string("/v1/apps/other-org:ghost") + c.suffix, other, c.body);
    EXPECT_TRUE(is_error(theirs, 404, "not_found"));
    EXPECT_TRUE(is_error(missing, 404, "not_found"));
    auto normalised = theirs.message();
    if (auto at = normalised.find("acme-corp:shop"); at != std::string::npos)
      normalised.replace(at, 14, "other-org:ghost");
    EXPECT_EQ(normalised, missing.message()) << "the answer tells an existing app from a missing one";
  }
  // Not listed; cannot be created into; acme's secret is neither listed, nor deletable.
  const auto apps = api("GET", "/v1/apps", other);
  ASSERT_EQ(apps.status, 200u) << apps.describe();
  EXPECT_EQ(apps.text.find("acme-corp"), std::string::npos) << apps.describe();
  EXPECT_NE(apps.text.find("other-org:own"), std::string::npos) << apps.describe();
  EXPECT_TRUE(is_error(api("POST", "/v1/apps", other, {{"org", "acme-corp"}, {"name", "intruder"}}), 404, "not_found"));
  EXPECT_TRUE(is_error(api("POST", "/v1/secrets", other,
                           {{"org", "acme-corp"},
                            {"name", "planted"},
                            {"type", "registry"},
                            {"server", "ghcr.io"},
                            {"username", "u"},
                            {"password", "p"}}),
                       404, "not_found"));
  const auto secrets = api("GET", "/v1/secrets", other);
  ASSERT_EQ(secrets.status, 200u) << secrets.describe();
  EXPECT_EQ(secrets.text.find("regcred"), std::string::npos) << secrets.describe();
  EXPECT_TRUE(is_error(api("DELETE", "/v1/secrets/acme-corp:regcred", other), 404, "not_found"));
  EXPECT_TRUE(is_error(api("DELETE", "/v1/secrets/regcred", other), 404, "not_found"));

  // Nothing of acme-corp changed; the operator sees both orgs.
  const auto shop = op("GET", "/v1/apps/acme-corp:shop");
  ASSERT_EQ(shop.status, 200u) << shop.describe();
  EXPECT_EQ(shop.body["active_version"], 1) << shop.describe();
  EXPECT_EQ(shop.body["scaling"].value("max_replicas", 0), 4) << shop.describe();
  EXPECT_EQ(op("GET", "/v1/apps/acme-corp:intruder").status, 404u);
  const auto all = op("GET", "/v1/apps");
  ASSERT_EQ(all.status, 200u) << all.describe();
  EXPECT_NE(all.text.find("\"acme-corp:shop\""), std::string::npos) << all.describe();
  EXPECT_NE(all.text.find("\"other-org:own\""), std::string::npos) << all.describe();
  const auto all_secrets = op("GET", "/v1/secrets");
  EXPECT_NE(all_secrets.text.find("acme-corp:regcred"), std::string::npos) << all_secrets.describe();
}

// Host labels are global, so a label another org holds is a 409 (org "corp", app
// "web-acme" vs acme-corp's "web": both "web-acme-corp"); but the answer to an org token
// never names another org's app.
TEST_F(control_api, a_label_conflict_does_not_name_another_orgs_app) {
  start();
  create_app(operator_token_, "acme-corp", "web");
  const auto corp = org_token("corp");
  const auto a = api("POST", "/v1/apps", corp, {{"name", "web-acme"}});
  EXPECT_TRUE(is_error(a, 409, "conflict"));
  EXPECT_EQ(a.text.find("acme-corp:web"), std::string::npos) << a.describe();
}

// ---- 4. apps --------------------------------------------------------------------------

TEST_F(control_api, an_app_is_created_read_and_listed_in_the_contracts_shape) {
  start();
  const auto created = op("POST", "/v1/apps", {{"org", "acme-corp"}, {"name", "greeter"}, {"description", "hi"}});
  ASSERT_EQ(created.status, 201u) << created.describe();
  const auto& app = created.body;
  EXPECT_EQ(app.value("id", ""), "acme-corp:greeter");
  EXPECT_EQ(app.value("org", ""), "acme-corp");
  EXPECT_EQ(app.value("name", ""), "greeter");
  EXPECT_EQ(app.value("description", ""), "hi");
  EXPECT_TRUE(app.contains("active_version") && app["active_version"].is_null()) << app.dump();
  EXPECT_EQ(app["versions"], json::array()) << app.dump();
  EXPECT_TRUE(app.contains("draft") && app["draft"].is_null()) << app.dump();
  EXPECT_EQ(
      app["scaling"],
      json({{"reserved_capacity", 0}, {"max_replicas", 4}, {"container_concurrency", 0}, {"idle_timeout_ms", 300000}}))
      << app.dump();
  EXPECT_EQ(app["public_urls"],
            json::array({"http://greeter-acme-corp.ignite.dodil.cloud:" + std::to_string(http_port_)}))
      << app.dump();
  EXPECT_EQ(app.value("managed_by", ""), "api");
  EXPECT_EQ(created.header("Content-Type").substr(0, 16), "application/json");

  const auto got = op("GET", "/v1/apps/acme-corp:greeter");
  ASSERT_EQ(got.status, 200u) << got.describe();
  EXPECT_EQ(got.body, app);
  // The id may be percent-encoded.
  EXPECT_EQ(op("GET", "/v1/apps/acme-corp%3Agreeter").body, app);

  create_app(operator_token_, "other-org", "second");
  const auto list = op("GET", "/v1/apps");
  ASSERT_EQ(list.status, 200u) << list.describe();
  ASSERT_EQ(list.body["apps"].size(), 2u) << list.describe();
  std::vector<std::string> ids;
  for (const auto& a : list.body["apps"]) ids.push_back(a.value("id", ""));
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"acme-corp:greeter", "other-org:second"}));
  EXPECT_TRUE(is_error(op("GET", "/v1/apps/acme-corp:missing"), 404, "not_found", "acme-corp:missing"));
}

TEST_F(control_api, a_duplicate_app_or_a_taken_host_label_is_409) {
  start();
  create_app(operator_token_, "acme-corp", "greeter");
  EXPECT_TRUE(is_error(op("POST", "/v1/apps", {{"org", "acme-corp"}, {"name", "greeter"}}), 409, "conflict"));
  // "a" in "b-c" and "a-b" in "c" are both a-b-c.ignite.dodil.cloud: refused, never guessed.
  create_app(operator_token_, "b-c", "a");
  EXPECT_TRUE(is_error(op("POST", "/v1/apps", {{"org", "c"}, {"name", "a-b"}}), 409, "conflict", "a-b-c"));
  EXPECT_EQ(op("GET", "/v1/apps/c:a-b").status, 404u);
  // Once the holder is gone, the label is free again.
  EXPECT_EQ(op("DELETE", "/v1/apps/b-c:a").status, 200u);
  EXPECT_EQ(op("POST", "/v1/apps", {{"org", "c"}, {"name", "a-b"}}).status, 201u);
}

TEST_F(control_api, deleting_an_app_unroutes_its_host_at_once_and_stops_its_pods) {
  start();
  publish_app("acme-corp", "doomed", {{"command", {greeter()}}});
  const auto served = public_post("acme-corp", "doomed", R"({"name":"ada"})");
  ASSERT_TRUE(served);
  ASSERT_EQ(served->status, 200u) << served->body;
  ASSERT_TRUE(proxy().wait_for_line(
      [](const json& j) { return j.value("event", "") == "pod_ready" && j.value("app", "") == "acme-corp:doomed"; },
      k_cap));

  const auto from = proxy().line_count();
  const auto deleted = op("DELETE", "/v1/apps/acme-corp:doomed");
  ASSERT_EQ(deleted.status, 200u) << deleted.describe();
  EXPECT_EQ(deleted.body.value("deleted", ""), "acme-corp:doomed") << deleted.describe();
  // The very next request: the route is gone before the API answered.
  expect_proxy_error(public_post("acme-corp", "doomed", R"({"name":"ada"})"), 404, "app_not_found");
  EXPECT_TRUE(is_error(op("GET", "/v1/apps/acme-corp:doomed"), 404, "not_found"));
  EXPECT_TRUE(is_error(op("GET", "/v1/apps/acme-corp:doomed/versions"), 404, "not_found"));
  // Its pod is stopped.
  auto pod_line = [](const char* event) {
    return [event](const json& j) { return j.value("event", "") == event && j.value("app", "") == "acme-corp:doomed"; };
  };
  EXPECT_TRUE(proxy().wait_for_line(pod_line("pod_stopping"), k_cap, from)) << "the deleted app's pod was not stopped";
  EXPECT_TRUE(proxy().wait_for_line(pod_line("pod_exited"), k_cap, from)) << "the deleted app's pod did not exit";
}

// ---- 5. drafts, publish, versions, rollback -----------------------------------------------

TEST_F(control_api, publish_cuts_versions_that_serve_at_once_and_rollback_restores_one) {
  start();
  create_app(operator_token_, "acme-corp", "shop");
  const std::string id = "acme-corp:shop";

  // Version 1: endpoints, a fake pod.
  const auto saved = op("PUT", "/v1/apps/" + id + "/draft", endpoints_of(pod_));
  ASSERT_EQ(saved.status, 200u) << saved.describe();
  EXPECT_EQ(saved.body["draft"], endpoints_of(pod_)) << saved.describe();
  EXPECT_TRUE(saved.body["active_version"].is_null()) << saved.describe();
  const auto v1 = op("POST", "/v1/apps/" + id + "/draft/publish");
  ASSERT_EQ(v1.status, 201u) << v1.describe();
  EXPECT_EQ(v1.body["version"], 1) << v1.describe();
  EXPECT_EQ(v1.body["source"], endpoints_of(pod_)) << v1.describe();

  auto r = public_post("acme-corp", "shop", "one");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u) << r->body;
  EXPECT_EQ(r->body, pod_.name());
  ASSERT_TRUE(pod_.wait_for_requests(1, k_cap));
  EXPECT_EQ(pod_.requests()[0].headers.get("x-ignite-version").value_or("<none>"), "1");
  EXPECT_EQ(pod_.requests()[0].headers.get("x-ignite-source").value_or("<none>"), "public");

  // The same draft again: nothing new to cut.
  EXPECT_TRUE(is_error(op("POST", "/v1/apps/" + id + "/draft/publish"), 409, "conflict"));

  // Version 2: the greeter as a command.
  save_draft(operator_token_, id, {{"command", {greeter()}}});
  const auto v2 = op("POST", "/v1/apps/" + id + "/draft/publish");
  ASSERT_EQ(v2.status, 201u) << v2.describe();
  EXPECT_EQ(v2.body["version"], 2) << v2.describe();
  const auto app = op("GET", "/v1/apps/" + id);
  EXPECT_EQ(app.body["active_version"], 2) << app.describe();
  EXPECT_EQ(app.body["versions"], json::array({1, 2})) << app.describe();
  r = public_post("acme-corp", "shop", R"({"name":"ada"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u) << r->body;
  EXPECT_EQ(json::parse(r->body, nullptr, false), json({{"greeting", "Hello, ada!"}})) << r->body;
  EXPECT_EQ(r->headers.get("x-greeter-version").value_or("<none>"), "2") << r->headers.to_string();
  EXPECT_EQ(pod_.request_count(), 1u) << "version 2 must not reach version 1's pod";

  // Back to 1: traffic goes to the fake pod again, as version 1.
  const auto back = op("POST", "/v1/apps/" + id + "/versions/1/rollback");
  ASSERT_EQ(back.status, 200u) << back.describe();
  EXPECT_EQ(back.body["active_version"], 1) << back.describe();
  r = public_post("acme-corp", "shop", "three");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u) << r->body;
  EXPECT_EQ(r->body, pod_.name());
  ASSERT_TRUE(pod_.wait_for_requests(2, k_cap));
  EXPECT_EQ(pod_.requests()[1].headers.get("x-ignite-version").value_or("<none>"), "1");

  EXPECT_TRUE(is_error(op("POST", "/v1/apps/" + id + "/versions/9/rollback"), 404, "not_found"));
  EXPECT_EQ(op("GET", "/v1/apps/" + id).body["active_version"], 1);

  const auto versions = op("GET", "/v1/apps/" + id + "/versions");
  ASSERT_EQ(versions.status, 200u) << versions.describe();
  const auto& list = versions.body["versions"];
  ASSERT_EQ(list.size(), 2u) << versions.describe();
  EXPECT_EQ(list[0]["version"], 1);
  EXPECT_EQ(list[0]["active"], true) << versions.describe();
  EXPECT_EQ(list[0]["source"], endpoints_of(pod_)) << versions.describe();
  EXPECT_EQ(list[1]["version"], 2);
  EXPECT_EQ(list[1]["active"], false) << versions.describe();
  EXPECT_EQ(list[1]["source"], json({{"command", {greeter()}}})) << versions.describe();
}

TEST_F(control_api, an_org_token_may_save_only_image_drafts) {
  start();
  const auto token = org_token("acme-corp");
  create_app(token, "acme-corp", "tenant");
  const std::string path = "/v1/apps/acme-corp:tenant/draft";
  EXPECT_TRUE(is_error(api("PUT", path, token, {{"command", {greeter()}}}), 403, "permission_denied"));
  EXPECT_TRUE(is_error(api("PUT", path, token, endpoints_of(pod_)), 403, "permission_denied"));
  EXPECT_TRUE(op("GET", "/v1/apps/acme-corp:tenant").body["draft"].is_null()) << "a refused draft was kept";

  // The host's network would put the tenant's container beside the platform's services.
  EXPECT_TRUE(is_error(api("PUT", path, token, {{"image_ref", "ghcr.io/acme-corp/tenant:1.0.0"}, {"network", "host"}}),
                       403, "permission_denied", "network"));
  EXPECT_TRUE(op("GET", "/v1/apps/acme-corp:tenant").body["draft"].is_null()) << "a refused draft was kept";

  const json image = {{"image_ref", "ghcr.io/acme-corp/tenant:1.0.0"}};
  const auto saved = api("PUT", path, token, image);
  ASSERT_EQ(saved.status, 200u) << saved.describe();
  EXPECT_EQ(saved.body["draft"], image) << saved.describe();
  const json own_network = {{"image_ref", "ghcr.io/acme-corp/tenant:1.0.0"}, {"network", "private"}};
  EXPECT_EQ(api("PUT", path, token, own_network).status, 200u);
  const json host = {{"image_ref", "ghcr.io/acme-corp/tenant:1.0.0"}, {"network", "host"}};
  const auto by_operator = op("PUT", "/v1/apps/acme-corp:tenant/draft", host);
  ASSERT_EQ(by_operator.status, 200u) << by_operator.describe();
  EXPECT_EQ(by_operator.body["draft"], host) << by_operator.describe();
}

// ---- 6. validation ----------------------------------------------------------------------

TEST_F(control_api, bad_app_names_are_400_naming_the_field) {
  start();
  auto create = [&](const json& body) { return op("POST", "/v1/apps", body); };
  EXPECT_TRUE(is_error(create({{"org", "acme-corp"}, {"name", "Greeter"}}), 400, "invalid_argument", "name"));
  EXPECT_TRUE(is_error(create({{"org", "acme-corp"}, {"name", "1greeter"}}), 400, "invalid_argument", "name"));
  EXPECT_TRUE(is_error(create({{"org", "Acme"}, {"name", "greeter"}}), 400, "invalid_argument", "org"));
  EXPECT_TRUE(is_error(create({{"org", "acme-corp"}, {"name", "greeter-"}}), 400, "invalid_argument", "name"));
  // acme-corp is 9 characters: a 54-character name makes a 64-character label; 53 fits.
  EXPECT_TRUE(
      is_error(create({{"org", "acme-corp"}, {"name", "a" + std::string(53, 'b')}}), 400, "invalid_argument", "63"));
  EXPECT_EQ(create({{"org", "acme-corp"}, {"name", "a" + std::string(52, 'b')}}).status, 201u);
  EXPECT_TRUE(is_error(create({{"name", "greeter"}}), 400, "invalid_argument", "org"))
      << "the operator must say which org";
  EXPECT_TRUE(is_error(create({{"org", "acme-corp"}}), 400, "invalid_argument", "name"));
  EXPECT_TRUE(is_error(create({{"org", "acme-corp"}, {"name", 7}}), 400, "invalid_argument", "name"));
  EXPECT_EQ(op("GET", "/v1/apps").body["apps"].size(), 1u) << "only the valid app exists";
}

TEST_F(control_api, bodies_that_are_not_the_documents_expected_are_400) {
  start();
  EXPECT_TRUE(is_error(op("POST", "/v1/apps", {{"org", "acme-corp"}, {"name", "greeter"}, {"colour", "red"}}), 400,
                       "invalid_argument", "colour"));
  const auto not_json = raw_api(admin_request("POST", "/v1/apps", operator_token_, R"({"org":"acme-corp","name":)"));
  EXPECT_TRUE(is_error(not_json, 400, "invalid_argument", "JSON"));
  EXPECT_TRUE(
      is_error(op("POST", "/v1/apps", json::array({"acme-corp", "greeter"})), 400, "invalid_argument", "JSON object"));
  EXPECT_EQ(op("GET", "/v1/apps").body["apps"].size(), 0u);
}

TEST_F(control_api, drafts_that_are_not_one_prebuilt_source_are_400_naming_the_field) {
  start();
  create_app(operator_token_, "acme-corp", "shop");
  auto draft = [&](const json& body) { return op("PUT", "/v1/apps/acme-corp:shop/draft", body); };
  const std::string image = "ghcr.io/acme-corp/shop:1.0.0";

  EXPECT_TRUE(
      is_error(draft({{"image_ref", image}, {"command", {greeter()}}}), 400, "invalid_argument", "exactly one source"));
  EXPECT_TRUE(is_error(draft({{"command", {greeter()}}, {"endpoints", {pod_.endpoint()}}}), 400, "invalid_argument",
                       "exactly one source"));
  EXPECT_TRUE(is_error(draft(json::object()), 400, "invalid_argument", "exactly one source"));
  for (const char* build : {"build_args", "dockerfile_path"}) {
    SCOPED_TRACE(build);
    const auto a = draft(
        {{"image_ref", image}, {build, build == std::string("build_args") ? json({{"V", "1"}}) : json("Dockerfile")}});
    EXPECT_TRUE(is_error(a, 400, "invalid_argument", build));
    EXPECT_NE(a.message().find("no build step"), std::string::npos) << a.describe();
  }
  for (const char* code : {"code", "git_url", "runtime"}) {
    SCOPED_TRACE(code);
    EXPECT_TRUE(is_error(draft({{code, "x"}}), 400, "invalid_argument", code));
  }
  EXPECT_TRUE(is_error(draft({{"image_ref", "acme-corp/shop:1.0.0"}}), 400, "invalid_argument",
                       "image_ref: must name its registry"));
  EXPECT_TRUE(is_error(draft({{"image_ref", "ghcr.io/acme-corp/shop"}}), 400, "invalid_argument", "image_ref"));
  EXPECT_TRUE(
      is_error(draft({{"image_ref", "ghcr.io/acme-corp/shop@sha256:abc"}}), 400, "invalid_argument", "image_ref"));
  EXPECT_TRUE(is_error(draft({{"image_ref", "ghcr.io/acme-corp/shop@sha256:" + std::string(64, 'A')}}), 400,
                       "invalid_argument", "image_ref"));
  EXPECT_TRUE(is_error(draft({{"command", json::array()}}), 400, "invalid_argument", "command"));
  EXPECT_TRUE(is_error(draft({{"command", {""}}}), 400, "invalid_argument", "command"));
  EXPECT_TRUE(is_error(draft({{"endpoints", {"not an endpoint"}}}), 400, "invalid_argument", "endpoints"));
  EXPECT_TRUE(is_error(draft({{"image_ref", image}, {"registry_secret_ref", "nope"}}), 400, "invalid_argument",
                       "registry_secret_ref"));
  EXPECT_TRUE(is_error(draft({{"image_ref", image}, {"colour", "red"}}), 400, "invalid_argument", "colour"));

  // A tag or a digest each make a valid reference.
  EXPECT_EQ(draft({{"image_ref", "ghcr.io/acme-corp/shop@sha256:" + std::string(64, 'a')}}).status, 200u);
  const auto app = op("GET", "/v1/apps/acme-corp:shop");
  EXPECT_EQ(app.body["draft"], json({{"image_ref", "ghcr.io/acme-corp/shop@sha256:" + std::string(64, 'a')}}))
      << "a refused draft replaced the saved one: " << app.describe();
}

TEST_F(control_api, publishing_a_command_that_does_not_exist_is_400_naming_draft_command) {
  start();
  create_app(operator_token_, "acme-corp", "broken");
  save_draft(operator_token_, "acme-corp:broken", {{"command", {"/nonexistent/ignite-it-no-such-program"}}});
  EXPECT_TRUE(
      is_error(op("POST", "/v1/apps/acme-corp:broken/draft/publish"), 400, "invalid_argument", "draft.command"));
  const auto app = op("GET", "/v1/apps/acme-corp:broken");
  EXPECT_TRUE(app.body["active_version"].is_null()) << app.describe();
  EXPECT_EQ(app.body["versions"], json::array()) << app.describe();
  // Nothing to publish at all is a conflict, not a crash.
  create_app(operator_token_, "acme-corp", "empty");
  EXPECT_TRUE(is_error(op("POST", "/v1/apps/acme-corp:empty/draft/publish"), 409, "conflict"));
}

TEST_F(control_api, bad_scaling_rollback_and_secrets_are_400_naming_the_field) {
  start();
  create_app(operator_token_, "acme-corp", "shop");
  auto scaling = [&](const json& body) { return op("PUT", "/v1/apps/acme-corp:shop/scaling", body); };
  EXPECT_TRUE(is_error(scaling({{"max_replicas", 0}}), 400, "invalid_argument", "max_replicas"));
  EXPECT_TRUE(is_error(scaling({{"reserved_capacity", 5}}), 400, "invalid_argument", "reserved_capacity"))
      << "5 reserved with the default max_replicas 4";
  EXPECT_TRUE(
      is_error(scaling({{"reserved_capacity", 2}, {"max_replicas", 1}}), 400, "invalid_argument", "reserved_capacity"));
  EXPECT_TRUE(is_error(scaling({{"warm_pods", 1}}), 400, "invalid_argument", "warm_pods"));
  EXPECT_TRUE(is_error(scaling({{"max_replicas", "two"}}), 400, "invalid_argument", "max_replicas"));

  EXPECT_TRUE(
      is_error(op("POST", "/v1/apps/acme-corp:shop/versions/abc/rollback"), 400, "invalid_argument", "version"));
  EXPECT_TRUE(is_error(op("POST", "/v1/apps/acme-corp:shop/versions/0/rollback"), 400, "invalid_argument", "version"));

  const json secret = {{"org", "acme-corp"},  {"name", "regcred"},   {"type", "registry"},
                       {"server", "ghcr.io"}, {"username", "robot"}, {"password", "pw"}};
  auto with = [&](const char* key, const json& value) {
    auto s = secret;
    s[key] = value;
    return s;
  };
  auto without = [&](const char* key) {
    auto s = secret;
    s.erase(key);
    return s;
  };
  EXPECT_TRUE(is_error(op("POST", "/v1/secrets", with("type", "docker")), 400, "invalid_argument", "type"));
  EXPECT_TRUE(is_error(op("POST", "/v1/secrets", without("type")), 400, "invalid_argument", "type"));
  EXPECT_TRUE(is_error(op("POST", "/v1/secrets", without("password")), 400, "invalid_argument", "password"));
  EXPECT_TRUE(is_error(op("POST", "/v1/secrets", with("password", "")), 400, "invalid_argument", "password"));
  EXPECT_TRUE(is_error(op("POST", "/v1/secrets", without("org")), 400, "invalid_argument", "org"));
  EXPECT_TRUE(is_error(op("POST", "/v1/secrets", with("name", "Reg")), 400, "invalid_argument", "name"));
  EXPECT_TRUE(
      is_error(op("POST", "/v1/secrets", with("server", "https://ghcr.io/")), 400, "invalid_argument", "server"));
  EXPECT_EQ(op("GET", "/v1/secrets").body["secrets"].size(), 0u);
}

TEST_F(control_api, a_chunked_body_is_400_and_a_1_mib_body_is_read) {
  start();
  const std::string document = R"({"org":"acme-corp","name":"chunky"})";
  std::ostringstream size;
  size << std::hex << document.size();
  const auto chunked = raw_api("POST /v1/apps HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + operator_token_ +
                               "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + size.str() +
                               "\r\n" + document + "\r\n0\r\n\r\n");
  EXPECT_TRUE(is_error(chunked, 400, "invalid_argument", "Content-Length"));
  EXPECT_EQ(op("GET", "/v1/apps/acme-corp:chunky").status, 404u);
  // Exactly 1 MiB is read (and refused for what it is, not for its size).
  const auto at_limit = raw_api(admin_request("POST", "/v1/apps", operator_token_, std::string(1u << 20, ' ')));
  EXPECT_TRUE(is_error(at_limit, 400, "invalid_argument", "JSON"));
}

// The head of a POST whose Content-Length is `length`; no body follows.
std::string head_only(std::string_view path, std::string_view token, std::size_t length) {
  return "POST " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + std::string(token) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
}

// A body over the admin listener's 1 MiB is 413 (Beast's own 1 MiB body limit once
// turned it into a 400).
TEST_F(control_api, a_body_over_1_mib_is_413) {
  start();
  EXPECT_TRUE(is_error(raw_api(head_only("/v1/apps", operator_token_, (1u << 20) + 1)), 413, "payload_too_large"));
  // Over max_body_bytes (6 MiB by default), an invoke payload is 413 too.
  create_app(operator_token_, "acme-corp", "big");
  EXPECT_TRUE(is_error(raw_api(head_only("/v1/apps/acme-corp:big/invoke", operator_token_, (6u << 20) + 1)), 413,
                       "payload_too_large"));
}

// An invoke payload may be as large as max_body_bytes (6 MiB), as a public body may.
TEST_F(control_api, an_invoke_payload_over_1_mib_within_max_body_bytes_reaches_the_pod) {
  start();
  publish_app("acme-corp", "big", endpoints_of(pod_));
  const std::string payload(2u << 20, 'x');
  const auto a = admin_exchange(admin_port_,
                                admin_request("POST", "/v1/apps/acme-corp:big/invoke", operator_token_, payload), 10s);
  EXPECT_EQ(a.status, 200u) << a.describe().substr(0, 500);
  ASSERT_TRUE(pod_.wait_for_requests(1, k_cap));
  EXPECT_EQ(pod_.requests()[0].body.size(), payload.size());
}

// ---- 7. apps from the config file are read-only here --------------------------------------

json config_app(const fake_pod& pod) {
  return {
      {"org", "c"}, {"name", "a-b"}, {"versions", json::array({{{"version", 1}, {"endpoints", {pod.endpoint()}}}})}};
}

// The entry of `id` in a GET /v1/apps answer; null if absent.
json listed(const answer& list, std::string_view id) {
  if (list.body.is_object() && list.body.contains("apps"))
    for (const auto& a : list.body["apps"])
      if (a.value("id", "") == id) return a;
  return json();
}

TEST_F(control_api, config_file_apps_are_read_only_and_keep_their_names_and_labels) {
  start(base_config(json::array({config_app(pod_)})));
  const auto listed_before = listed(op("GET", "/v1/apps"), "c:a-b");
  ASSERT_TRUE(listed_before.is_object()) << "the config file's app is not listed";
  EXPECT_EQ(listed_before.value("managed_by", ""), "config") << listed_before.dump();
  EXPECT_EQ(listed_before["active_version"], 1) << listed_before.dump();
  EXPECT_EQ(listed_before["versions"], json::array({1})) << listed_before.dump();
  const auto versions = op("GET", "/v1/apps/c:a-b/versions");
  ASSERT_EQ(versions.status, 200u) << versions.describe();
  ASSERT_EQ(versions.body["versions"].size(), 1u) << versions.describe();
  EXPECT_EQ(versions.body["versions"][0]["active"], true) << versions.describe();

  const std::string app = "/v1/apps/c:a-b";
  EXPECT_TRUE(is_error(op("PUT", app + "/draft", {{"image_ref", "ghcr.io/c/a-b:2"}}), 409, "managed_by_config"));
  EXPECT_TRUE(is_error(op("PUT", app + "/draft", {{"endpoints", {pod_.endpoint()}}}), 409, "managed_by_config"));
  EXPECT_TRUE(is_error(op("PUT", app + "/scaling", {{"max_replicas", 2}}), 409, "managed_by_config"));
  EXPECT_TRUE(is_error(op("POST", app + "/draft/publish"), 409, "managed_by_config"));
  EXPECT_TRUE(is_error(op("POST", app + "/versions/1/rollback"), 409, "managed_by_config"));
  EXPECT_TRUE(is_error(op("DELETE", app), 409, "managed_by_config"));
  EXPECT_TRUE(is_error(op("POST", "/v1/apps", {{"org", "c"}, {"name", "a-b"}}), 409, "managed_by_config"));
  // "a" in "b-c" is the label a-b-c too.
  EXPECT_TRUE(is_error(op("POST", "/v1/apps", {{"org", "b-c"}, {"name", "a"}}), 409, "conflict", "a-b-c"));

  // Still served, unchanged.
  const auto r = public_post("c", "a-b", "hi");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u) << r->body;
  EXPECT_EQ(r->body, pod_.name());
  const auto list = op("GET", "/v1/apps");
  EXPECT_EQ(listed(list, "c:a-b"), listed_before);
  EXPECT_TRUE(listed(list, "b-c:a").is_null()) << list.describe();
}

// GET of a config-file app answers, and the admin listener stays up (it once deadlocked
// on its own mutex, taking /healthz and SIGTERM with it).
TEST_F(control_api, get_of_a_config_file_app_answers_and_the_listener_stays_up) {
  start(base_config(json::array({config_app(pod_)})));
  const auto got = op("GET", "/v1/apps/c:a-b");
  ASSERT_EQ(got.status, 200u) << got.describe();
  EXPECT_EQ(got.body.value("managed_by", ""), "config") << got.describe();
  EXPECT_EQ(got.body["active_version"], 1) << got.describe();
  EXPECT_EQ(raw_api(admin_request("GET", "/healthz", "", std::nullopt)).status, 200u);
}

// ---- 8. scaling is live ---------------------------------------------------------------

TEST_F(control_api, scaling_applies_to_the_running_pool_without_a_restart) {
  start();
  publish_app("acme-corp", "warm", {{"command", {greeter()}}});
  auto pod_of_warm = [](const char* event) {
    return [event](const json& j) { return j.value("event", "") == event && j.value("app", "") == "acme-corp:warm"; };
  };
  const auto from = proxy().line_count();
  EXPECT_FALSE(proxy().wait_for_line(pod_of_warm("pod_starting"), 0ms))
      << "with reserved_capacity 0 and no request, no pod may start";

  const auto scaled = op("PUT", "/v1/apps/acme-corp:warm/scaling", {{"reserved_capacity", 1}});
  ASSERT_EQ(scaled.status, 200u) << scaled.describe();
  EXPECT_EQ(scaled.body["scaling"]["reserved_capacity"], 1) << scaled.describe();
  const auto ready = proxy().wait_for_line(pod_of_warm("pod_ready"), k_cap, from);
  EXPECT_TRUE(ready) << "no reserved pod started after PUT …/scaling";

  // Refused changes leave the scaling as it was.
  const auto before = op("GET", "/v1/apps/acme-corp:warm").body["scaling"];
  EXPECT_EQ(before["reserved_capacity"], 1);
  EXPECT_TRUE(is_error(op("PUT", "/v1/apps/acme-corp:warm/scaling", {{"max_replicas", 0}}), 400, "invalid_argument"));
  EXPECT_TRUE(
      is_error(op("PUT", "/v1/apps/acme-corp:warm/scaling", {{"reserved_capacity", 9}}), 400, "invalid_argument"));
  EXPECT_TRUE(is_error(op("PUT", "/v1/apps/acme-corp:warm/scaling", {{"max_replicas", 2}, {"bogus", 1}}), 400,
                       "invalid_argument"));
  EXPECT_EQ(op("GET", "/v1/apps/acme-corp:warm").body["scaling"], before);
  // The reserved pod serves the first request: no cold start.
  const auto r = public_post("acme-corp", "warm", R"({"name":"ada"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u) << r->body;
  EXPECT_EQ(r->headers.get("x-ignite-cold-start").value_or("<none>"), "false") << r->headers.to_string();
}

// ---- 9. secrets -------------------------------------------------------------------------

// That a secret stays while a version pulls with it needs a registry to publish against:
// tests/integration/container_test.cpp.
TEST_F(control_api, secrets_never_show_their_password) {
  start();
  const std::string password = "pw-" + random_hex(24);
  auto secret = [&](const std::string& name) {
    return json{{"org", "acme-corp"},  {"name", name},        {"type", "registry"},
                {"server", "ghcr.io"}, {"username", "robot"}, {"password", password}};
  };
  const auto created = op("POST", "/v1/secrets", secret("regcred"));
  ASSERT_EQ(created.status, 201u) << created.describe();
  EXPECT_FALSE(created.body.contains("password")) << created.describe();
  EXPECT_EQ(created.text.find(password), std::string::npos) << created.describe();
  EXPECT_EQ(created.body.value("id", ""), "acme-corp:regcred");
  EXPECT_EQ(created.body.value("server", ""), "ghcr.io");
  EXPECT_EQ(created.body.value("username", ""), "robot");
  ASSERT_EQ(op("POST", "/v1/secrets", secret("spare")).status, 201u);
  EXPECT_TRUE(is_error(op("POST", "/v1/secrets", secret("regcred")), 409, "conflict"));

  const auto list = op("GET", "/v1/secrets");
  ASSERT_EQ(list.status, 200u) << list.describe();
  ASSERT_EQ(list.body["secrets"].size(), 2u) << list.describe();
  for (const auto& s : list.body["secrets"]) EXPECT_FALSE(s.contains("password")) << s.dump();
  EXPECT_EQ(list.text.find(password), std::string::npos) << list.describe();

  const auto deleted = op("DELETE", "/v1/secrets/acme-corp:spare");
  EXPECT_EQ(deleted.status, 200u) << deleted.describe();
  const auto after = op("GET", "/v1/secrets");
  ASSERT_EQ(after.body["secrets"].size(), 1u) << after.describe();
  EXPECT_EQ(after.body["secrets"][0].value("id", ""), "acme-corp:regcred") << after.describe();
  EXPECT_TRUE(is_error(op("DELETE", "/v1/secrets/acme-corp:spare"), 404, "not_found"));

  const auto log = proxy().output();
  EXPECT_EQ(log.find(password), std::string::npos) << "the password is in the log:\n" << log;
  const auto bytes = state_bytes(state_file_);
  ASSERT_FALSE(bytes.empty()) << "no state file at " << state_file_;
  EXPECT_EQ(bytes.find(password), std::string::npos) << "the password is stored in clear";
  EXPECT_NE(bytes.find("regcred"), std::string::npos) << "the state file read is not the one the proxy writes";
}

// A body that is not JSON is refused saying where, never quoting what it read: for a
// secret, that could be the password.
TEST_F(control_api, a_malformed_secret_body_is_refused_without_echoing_its_password) {
  start();
  const std::string password = "pw-" + random_hex(24);
  const std::string head =
      R"({"org":"acme-corp","name":"regcred","type":"registry","server":"ghcr.io","username":"robot","password":")";
  for (const auto& body : {head + password, head + password + "\x01\"}"}) {
    const auto a = raw_api(admin_request("POST", "/v1/secrets", operator_token_, body));
    EXPECT_TRUE(is_error(a, 400, "invalid_argument", "JSON"));
    EXPECT_EQ(a.text.find(password), std::string::npos) << a.describe();
  }
}

// ---- 10. invoke -------------------------------------------------------------------------

TEST_F(control_api, invoke_merges_the_execution_id_into_a_json_object_answer) {
  pod_.reply_with([] {
    pod_reply r;
    r.body = R"({"answer":42})";
    r.headers.emplace_back("Content-Type", "application/json");
    return r;
  }());
  start();
  publish_app("acme-corp", "calc", endpoints_of(pod_));
  const std::string payload = R"({"question":"life"})";
  const auto a = raw_api(admin_request("POST", "/v1/apps/acme-corp:calc/invoke", operator_token_, payload,
                                       "x-ignite-source: public\r\nx-ignite-org: evil\r\n"));
  ASSERT_EQ(a.status, 200u) << a.describe();
  const auto execution_id = a.header("x-ignite-execution-id");
  EXPECT_TRUE(is_ulid(execution_id)) << a.describe();
  EXPECT_EQ(a.body, json({{"answer", 42}, {"execution_id", execution_id}})) << a.describe();
  EXPECT_TRUE(a.header("Content-Type").starts_with("application/json")) << a.describe();

  ASSERT_TRUE(pod_.wait_for_requests(1, k_cap));
  const auto req = pod_.requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/");
  EXPECT_EQ(req.body, payload);
  const auto& h = req.headers;
  EXPECT_EQ(h.get_all("x-ignite-source"), std::vector<std::string>{"invoke"}) << h.to_string();
  EXPECT_EQ(h.get("x-ignite-execution-id").value_or("<none>"), execution_id) << h.to_string();
  EXPECT_EQ(h.get("x-ignite-app-id").value_or("<none>"), "acme-corp:calc") << h.to_string();
  EXPECT_EQ(h.get_all("x-ignite-org"), std::vector<std::string>{"acme-corp"}) << h.to_string();
  EXPECT_EQ(h.get("x-ignite-app").value_or("<none>"), "calc") << h.to_string();
  EXPECT_EQ(h.get("x-ignite-version").value_or("<none>"), "1") << h.to_string();
  const auto cold = h.get("x-ignite-cold-start").value_or("<none>");
  EXPECT_TRUE(cold == "true" || cold == "false") << h.to_string();
  const auto deadline = h.get("x-ignite-deadline-ms").value_or("0");
  EXPECT_GT(std::stoll(deadline), unix_ms()) << h.to_string();
}

TEST_F(control_api, invoke_relays_other_answers_untouched) {
  start();
  publish_app("acme-corp", "plain", endpoints_of(pod_));
  const std::string object_as_text = R"({"looks":"like json"})";
  pod_.reply_with(pod_reply::text(object_as_text, 418));
  const auto text = op("POST", "/v1/apps/acme-corp:plain/invoke", {{"x", 1}});
  EXPECT_EQ(text.status, 418u) << text.describe();
  EXPECT_EQ(text.text, object_as_text) << "a text/plain answer was rewritten";
  EXPECT_EQ(text.header("Content-Type"), "text/plain") << text.describe();
  EXPECT_TRUE(is_ulid(text.header("x-ignite-execution-id"))) << text.describe();

  pod_reply array;
  array.body = "[1, 2,  3]";
  array.headers.emplace_back("Content-Type", "application/json");
  pod_.reply_with(array);
  const auto list = op("POST", "/v1/apps/acme-corp:plain/invoke", {{"x", 2}});
  EXPECT_EQ(list.status, 200u) << list.describe();
  EXPECT_EQ(list.text, "[1, 2,  3]") << "a JSON array was rewritten";
}

// dump() recurses: an app answering a JSON object nested 200,000 deep overflowed the
// admin thread's stack when the execution id was merged in, and the proxy died. Such an
// answer now comes back as the app wrote it, and the proxy keeps serving.
TEST_F(control_api, invoke_relays_a_deeply_nested_json_answer_untouched) {
  start();
  publish_app("acme-corp", "deep", endpoints_of(pod_));
  pod_reply deep;
  deep.body = R"({"a":)" + std::string(200000, '[') + std::string(200000, ']') + "}";
  deep.headers.emplace_back("Content-Type", "application/json");
  pod_.reply_with(deep);
  const auto a = op("POST", "/v1/apps/acme-corp:deep/invoke", {{"x", 1}});
  EXPECT_EQ(a.status, 200u) << a.describe();
  EXPECT_TRUE(a.text == deep.body) << "the answer was rewritten";
  EXPECT_EQ(op("GET", "/healthz").status, 200u);
}

TEST_F(control_api, invoke_runs_the_greeter_from_cold) {
  start();
  publish_app("acme-corp", "greeter", {{"command", {greeter()}}});
  const auto a = op("POST", "/v1/apps/acme-corp:greeter/invoke", {{"name", "ada"}});
  ASSERT_EQ(a.status, 200u) << a.describe();
  const auto execution_id = a.header("x-ignite-execution-id");
  EXPECT_TRUE(is_ulid(execution_id)) << a.describe();
  EXPECT_EQ(a.body, json({{"greeting", "Hello, ada!"}, {"execution_id", execution_id}})) << a.describe();
  EXPECT_EQ(a.header("x-ignite-cold-start"), "true") << a.describe();
  // Logged as an invoke with the same execution id.
  EXPECT_TRUE(proxy().wait_for_line(
      [&](const json& j) { return j.value("event", "") == "request" && j.value("execution_id", "") == execution_id; },
      k_cap))
      << proxy().output();
}

TEST_F(control_api, invoke_of_a_pod_that_exits_before_listening_is_503_with_the_detail) {
  start();
  publish_app("acme-corp", "crashy", {{"command", {"/usr/bin/env", "GREETER_EXIT_BEFORE_LISTEN=3", greeter()}}});
  const auto a = op("POST", "/v1/apps/acme-corp:crashy/invoke", {{"name", "ada"}});
  EXPECT_TRUE(is_error(a, 503, "pod_start_failed", "exited with status 3"));
  EXPECT_EQ(a.header("x-ignite-error"), "proxy") << a.describe();
  EXPECT_EQ(a.body["error"].value("execution_id", ""), a.header("x-ignite-execution-id")) << a.describe();
  ASSERT_TRUE(a.body["error"].contains("detail")) << a.describe();
  EXPECT_NE(a.body["error"].value("detail", "").find("GREETER_EXIT_BEFORE_LISTEN"), std::string::npos)
      << "the caller is authenticated: the detail (the pod's stderr) is theirs: " << a.describe();
}

TEST_F(control_api, invoke_of_an_app_without_a_published_version_is_409) {
  start();
  create_app(operator_token_, "acme-corp", "unpublished");
  EXPECT_TRUE(is_error(op("POST", "/v1/apps/acme-corp:unpublished/invoke", {{"name", "ada"}}), 409, "conflict"));
  save_draft(operator_token_, "acme-corp:unpublished", endpoints_of(pod_));
  EXPECT_TRUE(is_error(op("POST", "/v1/apps/acme-corp:unpublished/invoke", {{"name", "ada"}}), 409, "conflict"))
      << "a draft is not a published version";
  EXPECT_TRUE(is_error(op("POST", "/v1/apps/acme-corp:missing/invoke", {{"name", "ada"}}), 404, "not_found"));
  EXPECT_EQ(pod_.request_count(), 0u);
}

// ---- 11. durability ---------------------------------------------------------------------

TEST_F(control_api, published_apps_are_served_after_sigkill_and_a_restart) {
  const auto config = base_config();
  start(config);
  publish_app("acme-corp", "durable", endpoints_of(pod_));
  create_app(operator_token_, "acme-corp", "unpublished");
  auto r = public_post("acme-corp", "durable", "before");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200u) << r->body;

  proxy().send_signal(SIGKILL);
  const auto killed = proxy().wait_exit(k_cap);
  ASSERT_TRUE(killed);
  ASSERT_EQ(killed->signal, SIGKILL);
  restart(config);

  r = public_post("acme-corp", "durable", "after");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u) << r->body;
  EXPECT_EQ(r->body, pod_.name());
  ASSERT_TRUE(pod_.wait_for_requests(2, k_cap));
  EXPECT_EQ(pod_.requests()[1].body, "after");
  const auto app = op("GET", "/v1/apps/acme-corp:durable");
  ASSERT_EQ(app.status, 200u) << app.describe();
  EXPECT_EQ(app.body["active_version"], 1) << app.describe();
  EXPECT_EQ(app.body["versions"], json::array({1})) << app.describe();
  EXPECT_EQ(app.body["public_urls"][0], "http://durable-acme-corp.ignite.dodil.cloud:" + std::to_string(http_port_));
  EXPECT_EQ(op("GET", "/v1/apps/acme-corp:unpublished").status, 200u);
}

// A client thread creating apps one after another on one keep-alive connection, until the
// connection breaks; it records every 201.
class creation_burst {
 public:
  creation_burst(std::uint16_t admin_port, std::string token, std::string prefix)
      : thread_([this, admin_port, token = std::move(token), prefix = std::move(prefix)] {
          run(admin_port, token, prefix);
        }) {}
  ~creation_burst() { join(); }

  void join() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Blocks until `n` creations were acknowledged, or `cap` passed.
  bool wait_for(std::size_t n, std::chrono::milliseconds cap) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, cap, [&] { return acknowledged_.size() >= n || ended_; }) &&
           acknowledged_.size() >= n;
  }
  std::vector<std::string> acknowledged() const {
    std::lock_guard lock(mutex_);
    return acknowledged_;
  }
  std::string unexpected() const {
    std::lock_guard lock(mutex_);
    return unexpected_;
  }

 private:
  void run(std::uint16_t port, const std::string& token, const std::string& prefix) {
    try {
      raw_client client(port, k_cap);
      for (unsigned i = 0; !stop_; ++i) {
        const std::string name = prefix + "-" + std::to_string(i);
        const auto body = json({{"org", "acme-corp"}, {"name", name}}).dump();
        if (client.send(admin_request("POST", "/v1/apps", token, body))) break;
        const auto r = client.read_response();
        if (!r) break;  // the proxy is gone
        std::lock_guard lock(mutex_);
        if (r->status == 201)
          acknowledged_.push_back("acme-corp:" + name);
        else
          unexpected_ += std::to_string(r->status) + " " + r->body + "\n";
        changed_.notify_all();
      }
    } catch (const std::exception&) {
      // could not connect: nothing acknowledged
    }
    std::lock_guard lock(mutex_);
    ended_ = true;
    changed_.notify_all();
  }

  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> acknowledged_;
  std::string unexpected_;
  bool ended_ = false;
  std::thread thread_;
};

TEST_F(control_api, every_acknowledged_creation_survives_a_sigkill_mid_burst) {
  const auto config = base_config();
  start(config);
  std::vector<std::string> acknowledged;
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    creation_burst burst(admin_port_, operator_token_, "burst-r" + std::to_string(round));
    ASSERT_TRUE(burst.wait_for(40, 30s)) << "acknowledged " << burst.acknowledged().size() << "\n"
                                         << burst.unexpected();
    proxy().send_signal(SIGKILL);
    const auto killed = proxy().wait_exit(k_cap);
    ASSERT_TRUE(killed);
    EXPECT_EQ(killed->signal, SIGKILL) << "the proxy ended before the kill: code " << killed->code;
    burst.join();
    EXPECT_EQ(burst.unexpected(), "");
    const auto acked = burst.acknowledged();
    acknowledged.insert(acknowledged.end(), acked.begin(), acked.end());

    restart(config);
    for (const auto& id : acknowledged) {
      const auto a = op("GET", "/v1/apps/" + id);
      EXPECT_EQ(a.status, 200u) << id << " was acknowledged, then lost: " << a.describe();
    }
    const auto list = op("GET", "/v1/apps");
    ASSERT_EQ(list.status, 200u) << list.describe();
    EXPECT_GE(list.body["apps"].size(), acknowledged.size());
  }
}

// ---- 12. readiness while draining ---------------------------------------------------------

TEST_F(control_api, readyz_is_503_draining_while_the_proxy_drains) {
  auto hold = std::make_shared<gate>();
  pod_reply slow = pod_reply::text("finished");
  slow.hold = hold;
  pod_.reply_with(slow);
  start(base_config(json::array(), {{"drain_timeout_ms", 20000}}));
  publish_app("acme-corp", "slow", endpoints_of(pod_));
  EXPECT_EQ(raw_api(admin_request("GET", "/readyz", "", std::nullopt)).status, 200u);

  raw_client client(http_port_, 10s);
  ASSERT_FALSE(client.send(post(public_host("acme-corp", "slow"), "in flight")));
  ASSERT_TRUE(pod_.wait_for_requests(1, k_cap));
  proxy().send_signal(SIGTERM);
  ASSERT_TRUE(proxy().wait_for_event("draining", k_cap));

  // A new connection to the admin listener, mid-drain.
  const auto ready = raw_api(admin_request("GET", "/readyz", "", std::nullopt));
  EXPECT_EQ(ready.status, 503u) << ready.describe();
  EXPECT_EQ(ready.body.value("reason", ""), "draining") << ready.describe();
  const auto health = raw_api(admin_request("GET", "/healthz", "", std::nullopt));
  EXPECT_EQ(health.status, 200u) << health.describe();

  hold->open();
  const auto r = client.read_response();
  ASSERT_TRUE(r) << client.last_error().message();
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "finished");
  const auto exit = proxy().wait_exit(k_cap);
  ASSERT_TRUE(exit) << "the proxy did not exit after draining";
  EXPECT_TRUE(exit->succeeded()) << "code " << exit->code << " signal " << exit->signal;
}

}  // namespace
}  // namespace ignite::test
