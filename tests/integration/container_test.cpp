// Pods from images, end to end (DESIGN.md "Pods from images (podman)", "Control API"): the
// real ignite-proxy as a child process runs image versions with podman, pulled from a real
// private registry (docker-registry with htpasswd) on loopback.
//
// Once per suite: the greeter's image (examples/greeter/Containerfile around
// greeter_static), two container_probe images (one that idles without listening, one that
// fails before it listens), and one registry. Each test has its own proxy, state file and
// apps (named after this process, so that test processes running at once never share a
// container label). Images whose digest must be absent from the local store (to see a pull
// happen, or not happen) are built fresh by the test, pushed, and removed locally: a local
// image that has ever been pulled under a digest answers `podman image exists` for any
// repository@that-digest, so a shared image cannot prove a pull.
//
// Every wait is on a condition (a log line, an answer, podman's state), capped. Nothing is
// left behind: TearDown stops the proxy (SIGTERM), fails the test if any of its apps'
// containers remain, and removes the images the test built.
//
// Needs podman, docker-registry, htpasswd and skopeo (scripts/install-deps.sh). Without
// them the tests skip, saying why; with CI=true in the environment they fail instead.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
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
#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include "proxy_fixture.hpp"
#include "support/admin_client.hpp"
#include "support/built_image.hpp"
#include "support/container_engine.hpp"
#include "support/proxy_process.hpp"
#include "support/random_hex.hpp"
#include "support/raw_client.hpp"
#include "support/raw_response.hpp"
#include "support/registry.hpp"
#include "support/temp_dir.hpp"
#include "support/wait_until.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

// Caps: generous, since a test only runs this long when it is failing.
constexpr auto k_admin_cap = 30s;      // a publish asks the registry (skopeo)
constexpr auto k_request_cap = 30s;    // a cold start may pull the image first
constexpr auto k_container_cap = 20s;  // podman starting or removing a container
constexpr auto k_pull_cap = 30s;       // a background pull
constexpr auto k_stop_cap = 30s;       // SIGTERM: drain, then stop every container
const std::string k_greeting_body = R"({"name":"ada"})";

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!trimmed(line).empty()) out.push_back(trimmed(line));
  return out;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = ::EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

void write_text(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Every byte SQLite keeps for `state_file`: the database and, if present, its WAL.
std::string state_bytes(const std::filesystem::path& state_file) {
  std::string all;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::ifstream in(state_file.string() + suffix, std::ios::binary);
    if (in) all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return all;
}

// ---- podman, as the tests look at it ------------------------------------------------------

std::vector<std::string> podman_lines(const std::vector<std::string>& args) {
  const auto r = run_podman(args, 60s);
  if (r.exit_code != 0) return {};
  return split_lines(r.out);
}

// Names of every container (running or not) with the label `key=value`.
std::vector<std::string> containers_labelled(const std::string& key, const std::string& value) {
  return podman_lines({"ps", "--all", "--filter", "label=" + key + "=" + value, "--format", "{{.Names}}"});
}
std::vector<std::string> app_containers(const std::string& app_id) { return containers_labelled("ignite.app", app_id); }

std::string inspect(const std::string& container, const std::string& format) {
  return trimmed(run_podman({"container", "inspect", "--format", format, container}, 60s).out);
}

bool container_exists(const std::string& name) { return run_podman({"container", "exists", name}, 60s).exit_code == 0; }
bool image_exists(const std::string& ref) { return run_podman({"image", "exists", ref}, 60s).exit_code == 0; }

// The one running container of `app_id` (of version `version` if given), once there is one.
std::optional<std::string> wait_running_container(const std::string& app_id, const std::string& version = {},
                                                  milliseconds cap = k_container_cap) {
  std::optional<std::string> found;
  wait_until(
      [&] {
        for (const auto& name : app_containers(app_id)) {
          if (!version.empty() && inspect(name, "{{index .Config.Labels \"ignite.version\"}}") != version) continue;
          if (inspect(name, "{{.State.Status}}") == "running") {
            found = name;
            return true;
          }
        }
        return false;
      },
      cap);
  return found;
}

// The container's environment as "NAME=value" lines.
std::vector<std::string> container_env(const std::string& name) {
  auto env = json::parse(inspect(name, "{{json .Config.Env}}"), nullptr, false);
  std::vector<std::string> out;
  if (env.is_array())
    for (const auto& e : env)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

std::string env_value(const std::string& container, const std::string& key) {
  for (const auto& e : container_env(container))
    if (e.starts_with(key + "=")) return e.substr(key.size() + 1);
  return "<unset>";
}

// One TCP connect from this process to ip:port, capped: "connected", "refused", "timeout"
// or "error: …" (as container_probe says it, from inside a container).
std::string connect_outcome(const std::string& ip, std::uint16_t port, milliseconds cap) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) return "error: not an IPv4 address: " + ip;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("error: socket: ") + std::strerror(errno);
  int err = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 ? 0 : errno;
  if (err == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int rc;
    do rc = ::poll(&p, 1, static_cast<int>(cap.count()));
    while (rc < 0 && errno == EINTR);
    if (rc == 0) {
      ::close(fd);
      return "timeout";
    }
    socklen_t len = sizeof err;
    if (rc < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  }
  ::close(fd);
  if (err == 0) return "connected";
  if (err == ECONNREFUSED) return "refused";
  return std::string("error: ") + std::strerror(err);
}

// ---- /proc: every process's command line, watched while something runs --------------------

// Reads /proc/*/cmdline over and over on a thread of its own until stopped, and remembers
// any command line holding one of `secrets`, and whether one holding all of `marker`
// was seen (proof that the watch overlapped what it was meant to watch).
class cmdline_watch {
 public:
  cmdline_watch(std::vector<std::string> secrets, std::vector<std::string> marker)
      : secrets_(std::move(secrets)), marker_(std::move(marker)), thread_([this] { run(); }) {}
  ~cmdline_watch() { stop(); }
  cmdline_watch(const cmdline_watch&) = delete;
  cmdline_watch& operator=(const cmdline_watch&) = delete;

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<std::string> leaks() const {
    std::lock_guard lock(mutex_);
    return leaks_;
  }
  std::optional<std::string> marked() const {
    std::lock_guard lock(mutex_);
    return marked_;
  }
  std::size_t scans() const { return scans_; }

 private:
  // With read(2): a process may end while it is read (ESRCH), which iostreams would throw.
  static std::string read_cmdline(const std::filesystem::path& path) {
    std::string out;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
  }

  void run() {
    while (!stop_) {
      std::error_code ec;
      for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
        const auto name = it->path().filename().string();
        if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
          continue;
        auto cmdline = read_cmdline(it->path() / "cmdline");
        if (cmdline.empty()) continue;
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        const bool leaked =
            std::any_of(secrets_.begin(), secrets_.end(), [&](const std::string& s) { return contains(cmdline, s); });
        const bool marks =
            std::all_of(marker_.begin(), marker_.end(), [&](const std::string& m) { return contains(cmdline, m); });
        if (leaked || marks) {
          std::lock_guard lock(mutex_);
          if (leaked) leaks_.push_back(name + ": " + cmdline);
          if (marks && !marked_) marked_ = name + ": " + cmdline;
        }
      }
      ++scans_;
    }
  }

  const std::vector<std::string> secrets_;
  const std::vector<std::string> marker_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> scans_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> leaks_;
  std::optional<std::string> marked_;
  std::thread thread_;
};

// ---- the admin listener -------------------------------------------------------------------

answer admin_call(std::uint16_t port, std::string_view method, std::string_view path, std::string_view token,
                  const json& body) {
  std::optional<std::string> text;
  if (!body.is_null())
    text = body.dump();
  else if (method == "POST" || method == "PUT")
    text = "";
  return admin_exchange(port, admin_request(method, path, token, text), k_admin_cap);
}

// ---- the suite ----------------------------------------------------------------------------

struct app_ref {
  std::string org;
  std::string name;
  std::string id() const { return org + ":" + name; }
  std::string host() const { return name + "-" + org + "." + std::string(k_domain); }
};

// An image built for one test and pushed, then removed from the local store, so that the
// digest is local only once the proxy pulls it. The test keeps the built_image, which
// removes the pulled copy too (same image id) when the test ends.
struct fresh_image {
  std::string id;      // the image id, pulled or built
  std::string repo;    // "repo" in the registry
  std::string digest;  // "sha256:…"
};

class container : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (podman_path().empty()) {
      unavailable_ = "podman is not installed";
      return;
    }
    if (unavailable_ = private_registry::missing_tools(); !unavailable_.empty()) return;
    try {
      greeter_ = build_greeter();
      if (unavailable_ = container_engine_status(greeter_->ref()); !unavailable_.empty()) return;
      const temp_dir files("ignite-ct-files");
      write_text(files.path() / "Containerfile.idle",
                 "FROM scratch\nCOPY container_probe /container_probe\nUSER 65534:65534\n"
                 "ENTRYPOINT [\"/container_probe\"]\nCMD [\"idle\"]\n");
      write_text(files.path() / "Containerfile.fail",
                 "FROM scratch\nCOPY container_probe /container_probe\nUSER 65534:65534\n"
                 "ENTRYPOINT [\"/container_probe\", \"fail\", \"3\", \"boom: missing config\"]\n");
      const std::vector<built_image::context_file> probe_files{{IGNITE_CONTAINER_PROBE_BIN, "container_probe"}};
      probe_ = std::make_unique<built_image>("localhost/ignite-test/" + unique_test_name("ct-probe"),
                                             files.path() / "Containerfile.idle", probe_files);
      failing_ = std::make_unique<built_image>("localhost/ignite-test/" + unique_test_name("ct-failing"),
                                               files.path() / "Containerfile.fail", probe_files);
      registry_ = std::make_unique<private_registry>();
      org_ = "ct" + std::to_string(::getpid());
    } catch (const std::exception& e) {
      unavailable_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    registry_.reset();
    failing_.reset();
    probe_.reset();
    greeter_.reset();
  }

  static std::unique_ptr<built_image> build_greeter() {
    return std::make_unique<built_image>(
        "localhost/ignite-test/" + unique_test_name("ct-greeter"), IGNITE_GREETER_CONTAINERFILE,
        std::vector<built_image::context_file>{{IGNITE_GREETER_STATIC_BIN, "greeter"}});
  }

  void SetUp() override {
    if (!unavailable_.empty()) {
      if (container_tests_required()) FAIL() << unavailable_ << " (CI=true: these tests must run)";
      GTEST_SKIP() << unavailable_;
    }
    dir_ = std::make_unique<temp_dir>("ignite-ct");
    state_file_ = dir_->path() / "state.db";
    token_ = "op-" + random_hex(32);
  }

  void TearDown() override {
    if (HasFailure()) {
      if (proxy_) std::cerr << "---- proxy output ----\n" << proxy_->output() << "----------------------\n";
      if (registry_) std::cerr << "---- registry output (tail) ----\n" << tail(registry_->output(), 4000) << "----\n";
    }
    if (proxy_) stop_proxy();
    // Whatever the test did, none of its apps' containers may outlive its proxy.
    for (const auto& id : apps_) {
      const auto left = app_containers(id);
      if (left.empty()) continue;
      ADD_FAILURE() << "containers of " << id << " outlived the proxy: " << ::testing::PrintToString(left);
      std::vector<std::string> rm{"rm", "--force", "--ignore", "--time", "0"};
      rm.insert(rm.end(), left.begin(), left.end());
      run_podman(rm, 60s);
    }
    fresh_.clear();
    dir_.reset();
  }

  static std::string tail(const std::string& s, std::size_t n) { return s.size() <= n ? s : s.substr(s.size() - n); }

  // ---- the proxy ----

  // No apps unless given; http and admin on port 0; one worker; the state file in the
  // test's own directory; the registry allowed over plain HTTP; a short drain.
  json config(json apps = json::array(), json limits = json::object(), json containers = json::object()) const {
    if (!limits.contains("drain_timeout_ms")) limits["drain_timeout_ms"] = 2000;
    containers["insecure_registries"] = json::array({registry_->host()});
    return {{"domain", k_domain},
            {"listen", {{"http", "127.0.0.1:0"}, {"admin", "127.0.0.1:0"}}},
            {"threads", 1},
            {"state_file", state_file_.string()},
            {"limits", std::move(limits)},
            {"containers", std::move(containers)},
            {"apps", std::move(apps)}};
  }

  void start(const json& cfg) {
    proxy_ = std::make_unique<proxy_process>(IGNITE_PROXY_BIN, cfg, std::vector<std::string>{},
                                             std::vector<std::string>{"IGNITE_ADMIN_TOKEN=" + token_});
    const auto http = proxy_->wait_listening(k_cap);
    const auto admin = proxy_->wait_admin_listening(k_cap);
    if (!http || !admin) throw std::runtime_error("the proxy did not come up; output:\n" + proxy_->output());
    http_port_ = *http;
    admin_port_ = *admin;
  }

  // SIGTERM; the proxy must exit 0 (it stops its containers first).
  void stop_proxy() {
    const auto exit = proxy_->terminate(k_stop_cap);
    EXPECT_TRUE(exit && exit->succeeded()) << "the proxy did not exit 0 on SIGTERM\n" << proxy_->output();
    proxy_.reset();
  }

  // Rewrites the config and sends SIGHUP; the reload must succeed.
  void reload(const json& cfg) {
    const auto from = proxy_->reload(cfg);
    const auto line = proxy_->wait_for_line(
        [](const json& j) {
          const auto e = j.value("event", "");
          return e == "reloaded" || e == "reload_failed";
        },
        k_admin_cap, from);
    if (!line || line->value("event", "") != "reloaded")
      throw std::runtime_error("the reload failed: " + (line ? line->dump() : std::string("no line")) + "\n" +
                               proxy_->output());
  }

  // ---- the control API, with the operator token ----

  answer op(std::string_view method, const std::string& path, const json& body = json()) {
    return admin_call(admin_port_, method, path, token_, body);
  }
  static answer require(answer a, unsigned status, const std::string& what) {
    if (!a.arrived || a.status != status)
      throw std::runtime_error(what + ": expected " + std::to_string(status) + ", got " + a.describe());
    return a;
  }

  // A new app name in this process's org; its containers are checked at TearDown.
  app_ref new_app(const std::string& base) {
    static unsigned next = 0;
    app_ref app{org_, base + "-" + std::to_string(next++)};
    apps_.push_back(app.id());
    return app;
  }

  // A registry secret in org_ for the suite's registry.
  answer create_secret(const std::string& name) {
    return op("POST", "/v1/secrets",
              {{"org", org_},
               {"name", name},
               {"type", "registry"},
               {"server", registry_->host()},
               {"username", registry_->username()},
               {"password", registry_->password()}});
  }

  // Creates `app` (if `create`), saves {image_ref[, registry_secret_ref]} as its draft and
  // publishes it; returns the publish answer, whatever it is.
  answer publish_image(const app_ref& app, const std::string& image_ref, const std::string& secret,
                       bool create = true) {
    if (create) require(op("POST", "/v1/apps", {{"org", app.org}, {"name", app.name}}), 201, "create " + app.id());
    json draft = {{"image_ref", image_ref}};
    if (!secret.empty()) draft["registry_secret_ref"] = secret;
    require(op("PUT", "/v1/apps/" + app.id() + "/draft", draft), 200, "save a draft of " + app.id());
    return op("POST", "/v1/apps/" + app.id() + "/draft/publish");
  }

  // ---- public traffic ----

  std::optional<raw_response> public_post(const app_ref& app, milliseconds cap = k_request_cap) {
    raw_client client(http_port_, cap);
    if (client.send(post(app.host(), k_greeting_body, "Content-Type: application/json\r\n"))) return std::nullopt;
    return client.read_response();
  }

  static void expect_greeting(const std::optional<raw_response>& r) {
    ASSERT_TRUE(r) << "no answer";
    EXPECT_EQ(r->status, 200u) << r->headers.to_string() << r->body;
    EXPECT_EQ(json::parse(r->body, nullptr, false), json({{"greeting", "Hello, ada!"}})) << r->body;
  }
  static std::string header(const std::optional<raw_response>& r, std::string_view name) {
    return r ? r->headers.get(name).value_or("<none>") : "<no answer>";
  }
  static std::string error_message(const std::optional<raw_response>& r) {
    if (!r) return "<no answer>";
    const auto body = json::parse(r->body, nullptr, false);
    if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) return "<no error object>";
    return body["error"].value("message", "<none>");
  }

  // ---- images ----

  std::string pinned(const std::string& repo, const std::string& digest) const {
    return registry_->reference(repo + "@" + digest);
  }
  std::string tagged(const std::string& repo, const std::string& tag) const {
    return registry_->reference(repo + ":" + tag);
  }

  // A greeter image of this test alone (its own digest), in the registry as repo:1 and
  // absent from the local store.
  fresh_image fresh_greeter(const std::string& repo) {
    fresh_.push_back(build_greeter());
    const auto& built = *fresh_.back();
    fresh_image f{built.id(), repo, registry_->push(built.ref(), repo + ":1")};
    const auto removed = run_podman({"rmi", "--force", f.id}, 60s);
    if (removed.exit_code != 0) throw std::runtime_error("podman rmi " + f.id + ": " + removed.err);
    if (image_exists(pinned(repo, f.digest))) throw std::runtime_error("the fresh image is still local");
    return f;
  }

  // A unique repository name in the suite's registry.
  static std::string unique_repo(const std::string& base) {
    static unsigned next = 0;
    return "acme/" + base + "-" + std::to_string(next++);
  }

  static inline std::unique_ptr<built_image> greeter_;
  static inline std::unique_ptr<built_image> probe_;    // container_probe; CMD idle
  static inline std::unique_ptr<built_image> failing_;  // container_probe fail 3 "boom: missing config"
  static inline std::unique_ptr<private_registry> registry_;
  static inline std::string unavailable_;
  static inline std::string org_;

  std::unique_ptr<temp_dir> dir_;
  std::filesystem::path state_file_;
  std::string token_;
  std::unique_ptr<proxy_process> proxy_;
  std::uint16_t http_port_ = 0;
  std::uint16_t admin_port_ = 0;
  std::vector<std::string> apps_;
  std::vector<std::unique_ptr<built_image>> fresh_;  // removed (with their pulls) at TearDown
};

// ---- 1-3. publish: the registry check and the pin -----------------------------------------

TEST_F(container, publishing_a_private_image_without_a_secret_is_422_naming_registry_secret_ref) {
  const auto repo = unique_repo("greeter");
  registry_->push(greeter_->ref(), repo + ":1");
  start(config());
  const auto app = new_app("greeter");
  const auto a = publish_image(app, tagged(repo, "1"), "");
  ASSERT_TRUE(a.arrived) << a.describe();
  EXPECT_EQ(a.status, 422u) << a.describe();
  EXPECT_EQ(a.code(), "image_unavailable") << a.describe();
  EXPECT_TRUE(contains(a.message(), "registry_secret_ref")) << a.describe();
  // No version was cut.
  const auto versions = require(op("GET", "/v1/apps/" + app.id() + "/versions"), 200, "list versions");
  EXPECT_EQ(versions.body["versions"].size(), 0u) << versions.describe();
}

TEST_F(container, publishing_with_a_registry_secret_pins_the_pushed_digest) {
  const auto repo = unique_repo("greeter");
  const auto digest = registry_->push(greeter_->ref(), repo + ":1");
  start(config());
  require(create_secret("registry"), 201, "create the secret");
  const auto app = new_app("greeter");
  const auto a = publish_image(app, tagged(repo, "1"), "registry");
  ASSERT_EQ(a.status, 201u) << a.describe();
  EXPECT_EQ(a.body.value("version", 0u), 1u) << a.describe();
  EXPECT_EQ(a.body["source"].value("image_digest", ""), digest) << a.describe();
  EXPECT_EQ(a.body["source"].value("image_ref", ""), tagged(repo, "1")) << "the tag is kept for display\n"
                                                                        << a.describe();
  EXPECT_EQ(a.body.value("image", ""), pinned(repo, digest)) << a.describe();

  const auto versions = require(op("GET", "/v1/apps/" + app.id() + "/versions"), 200, "list versions");
  ASSERT_EQ(versions.body["versions"].size(), 1u) << versions.describe();
  const auto& v = versions.body["versions"][0];
  EXPECT_EQ(v["source"].value("image_digest", ""), digest) << versions.describe();
  EXPECT_EQ(v.value("image", ""), pinned(repo, digest)) << versions.describe();
}

TEST_F(container, pushing_to_the_published_tag_changes_nothing_until_a_new_publish) {
  const auto repo = unique_repo("greeter");
  const auto first = registry_->push(greeter_->ref(), repo + ":live");
  start(config());
  require(create_secret("registry"), 201, "create the secret");
  const auto app = new_app("greeter");
  require(publish_image(app, tagged(repo, "live"), "registry"), 201, "publish v1");
  expect_greeting(public_post(app));
  const auto before = require(op("GET", "/v1/apps/" + app.id() + "/versions"), 200, "list versions").body;

  // Another image under the same tag.
  const auto second = registry_->push(probe_->ref(), repo + ":live");
  ASSERT_NE(second, first);

  const auto after = require(op("GET", "/v1/apps/" + app.id() + "/versions"), 200, "list versions").body;
  EXPECT_EQ(after, before) << "the versions changed with the tag";
  expect_greeting(public_post(app));
  const auto running = wait_running_container(app.id());
  ASSERT_TRUE(running) << "no running container of " << app.id();
  EXPECT_EQ(inspect(*running, "{{.ImageName}}"), pinned(repo, first));
  EXPECT_EQ(inspect(*running, "{{.Image}}"), greeter_->id()) << "the container does not run the greeter's image";

  // A fresh draft of the same tag, published, pins what the tag names now.
  const auto republished = publish_image(app, tagged(repo, "live"), "registry", /*create=*/false);
  ASSERT_EQ(republished.status, 201u) << republished.describe();
  EXPECT_EQ(republished.body.value("version", 0u), 2u) << republished.describe();
  EXPECT_EQ(republished.body["source"].value("image_digest", ""), second) << republished.describe();
  EXPECT_EQ(republished.body.value("image", ""), pinned(repo, second)) << republished.describe();
}

// ---- 4-5. what a container is run with; the background pull ------------------------------

TEST_F(container, first_request_cold_starts_a_labelled_container_with_the_platform_env_and_rm) {
  const auto repo = unique_repo("greeter");
  registry_->push(greeter_->ref(), repo + ":1");
  start(config());
  require(create_secret("registry"), 201, "create the secret");
  const auto app = new_app("greeter");
  require(publish_image(app, tagged(repo, "1"), "registry"), 201, "publish");

  const auto first = public_post(app);
  expect_greeting(first);
  EXPECT_EQ(header(first, "x-ignite-cold-start"), "true");
  const auto second = public_post(app);
  expect_greeting(second);
  EXPECT_EQ(header(second, "x-ignite-cold-start"), "false");
  EXPECT_EQ(header(second, "x-greeter-version"), "1") << "IGNITE_VERSION as the pod saw it";

  const auto containers = app_containers(app.id());
  ASSERT_EQ(containers.size(), 1u) << ::testing::PrintToString(containers);
  const auto& name = containers[0];
  EXPECT_TRUE(name.starts_with("ignite-")) << name;
  EXPECT_FALSE(inspect(name, "{{index .Config.Labels \"ignite.instance\"}}").empty());
  EXPECT_EQ(inspect(name, "{{index .Config.Labels \"ignite.app\"}}"), app.id());
  EXPECT_EQ(inspect(name, "{{index .Config.Labels \"ignite.version\"}}"), "1");
  EXPECT_FALSE(inspect(name, "{{index .Config.Labels \"ignite.pod\"}}").empty());
  EXPECT_EQ(inspect(name, "{{.HostConfig.AutoRemove}}"), "true") << "not run with --rm";
  EXPECT_EQ(env_value(name, "IGNITE_APP_ID"), app.id());
  EXPECT_EQ(env_value(name, "IGNITE_VERSION"), "1");
  const auto port = env_value(name, "PORT");
  EXPECT_TRUE(!port.empty() && std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      << "PORT=" << port;
  // Published on loopback only, on that port.
  EXPECT_EQ(trimmed(run_podman({"port", name, port + "/tcp"}, 60s).out), "127.0.0.1:" + port);
}

TEST_F(container, publish_pulls_the_image_in_the_background_before_any_request) {
  const auto image = fresh_greeter(unique_repo("fresh"));
  const auto ref = pinned(image.repo, image.digest);
  start(config());
  require(create_secret("registry"), 201, "create the secret");
  const auto app = new_app("greeter");
  ASSERT_FALSE(image_exists(ref)) << "the image is already local: a pull could not be seen";
  require(publish_image(app, tagged(image.repo, "1"), "registry"), 201, "publish");

  const auto pulled = proxy_->wait_for_line(
      [&](const json& j) { return j.value("event", "") == "image_pulled" && j.value("image", "") == ref; }, k_pull_cap);
  EXPECT_TRUE(pulled) << "no image_pulled line for " << ref;
  EXPECT_TRUE(wait_until([&] { return image_exists(ref); }, k_pull_cap)) << ref << " is not in the local store";
  EXPECT_TRUE(app_containers(app.id()).empty()) << "a container was started without a request";
}

// ---- 6-7. containers that do not become ready ---------------------------------------------

TEST_F(container, a_container_that_exits_before_listening_fails_the_request_fast_with_its_status) {
  const auto repo = unique_repo("failing");
  registry_->push(failing_->ref(), repo + ":1");
  constexpr int k_cold_start_timeout_ms = 30000;
  start(config(json::array(), {{"cold_start_timeout_ms", k_cold_start_timeout_ms}}));
  require(create_secret("registry"), 201, "create the secret");
  const auto app = new_app("failing");
  require(publish_image(app, tagged(repo, "1"), "registry"), 201, "publish");

  const auto began = std::chrono::steady_clock::now();
  const auto r = public_post(app);
  const auto waited = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - began);
  expect_proxy_error(r, 503, "pod_start_failed");
  EXPECT_LT(waited.count(), k_cold_start_timeout_ms / 3) << "the request waited for the cold-start timeout";
  EXPECT_TRUE(contains(error_message(r), "exited with status 3")) << r->body;
  EXPECT_FALSE(contains(r->body, "boom")) << "the public answer carries the pod's output: " << r->body;

  // The details are in the log: the request's line or the pod's own lines.
  const auto execution_id = header(r, "x-ignite-execution-id");
  const auto detail = proxy_->wait_for_line(
      [&](const json& j) {
        const bool request_line = j.value("execution_id", "") == execution_id;
        const bool pod_line = j.value("app", "") == app.id();
        return (request_line || pod_line) && contains(j.dump(), "boom: missing config");
      },
      k_cap);
  EXPECT_TRUE(detail) << "no log line carries the container's last output";
}

TEST_F(container, a_container_that_never_listens_is_not_ready_and_times_out_with_504) {
  const auto repo = unique_repo("idle");
  registry_->push(probe_->ref(), repo + ":1");
  // Long enough for podman to start the container on a loaded machine before the
  // request gives up on it (the test waits for that 504 either way).
  start(config(json::array(), {{"cold_start_timeout_ms", 6000}}));
  require(create_secret("registry"), 201, "create the secret");
  const auto app = new_app("idle");
  require(publish_image(app, tagged(repo, "1"), "registry"), 201, "publish");

  raw_client client(http_port_, k_request_cap);
  ASSERT_FALSE(client.send(post(app.host(), k_greeting_body)));
  // While the request is held, the container runs with its port published: one podman
  // call per look, so that the window is not missed on a loaded machine.
  std::string seen;
  const bool up = wait_until(
      [&] {
        for (const auto& line : podman_lines({"ps", "--filter", "label=ignite.app=" + app.id(), "--filter",
                                              "status=running", "--format", "{{.Ports}}"})) {
          seen = line;
          if (line.starts_with("127.0.0.1:") && contains(line, "->")) return true;
        }
        return false;
      },
      k_container_cap);
  EXPECT_TRUE(up) << "no running container with a port published on 127.0.0.1; last seen: " << seen;
  const auto r = client.read_response();
  expect_proxy_error(r, 504, "cold_start_timeout");

  EXPECT_TRUE(wait_until([&] { return app_containers(app.id()).empty(); }, k_container_cap))
      << "the container outlived the timed-out cold start: " << ::testing::PrintToString(app_containers(app.id()));
}

// ---- 8-9. rollback and delete -------------------------------------------------------------

TEST_F(container, after_a_rollback_requests_are_served_by_a_container_of_the_old_version) {
  const auto repo = unique_repo("greeter");
  registry_->push(greeter_->ref(), repo + ":1");
  registry_->push(greeter_->ref(), repo + ":2");
  start(config());
  require(create_secret("registry"), 201, "create the secret");
  const auto app = new_app("greeter");
  require(publish_image(app, tagged(repo, "1"), "registry"), 201, "publish v1");
  EXPECT_EQ(header(public_post(app), "x-greeter-version"), "1");
  const auto v2 = publish_image(app, tagged(repo, "2"), "registry", /*create=*/false);
  ASSERT_EQ(v2.status, 201u) << v2.describe();
  ASSERT_EQ(v2.body.value("version", 0u), 2u) << v2.describe();
  EXPECT_EQ(header(public_post(app), "x-greeter-version"), "2");

  require(op("POST", "/v1/apps/" + app.id() + "/versions/1/rollback"), 200, "roll back to v1");
  const auto r = public_post(app);
  expect_greeting(r);
  EXPECT_EQ(header(r, "x-greeter-version"), "1") << "served by a container of another version";
  EXPECT_TRUE(wait_running_container(app.id(), "1")) << "no running container labelled ignite.version=1";
}

TEST_F(container, deleting_an_app_removes_its_containers_and_its_host_answers_404) {
  const auto repo = unique_repo("greeter");
  registry_->push(greeter_->ref(), repo + ":1");
  start(config());
  require(create_secret("registry"), 201, "create the secret");
  const auto app = new_app("greeter");
  require(publish_image(app, tagged(repo, "1"), "registry"), 201, "publish");
  expect_greeting(public_post(app));
  ASSERT_TRUE(wait_running_container(app.id()));

  require(op("DELETE", "/v1/apps/" + app.id()), 200, "delete the app");
  expect_proxy_error(public_post(app), 404, "app_not_found");
  EXPECT_TRUE(wait_until([&] { return app_containers(app.id()).empty(); }, k_container_cap))
      << "containers of the deleted app remain: " << ::testing::PrintToString(app_containers(app.id()));
}

// ---- 10-11. the proxy's end ---------------------------------------------------------------

TEST_F(container, containers_left_by_a_sigkilled_proxy_are_reaped_at_its_next_start) {
  const auto repo = unique_repo("greeter");
  registry_->push(greeter_->ref(), repo + ":1");
  const auto cfg = config();
  start(cfg);
  require(create_secret("registry"), 201, "create the secret");
  const auto app = new_app("greeter");
  require(publish_image(app, tagged(repo, "1"), "registry"), 201, "publish");
  expect_greeting(public_post(app));
  const auto running = wait_running_container(app.id());
  ASSERT_TRUE(running);
  const auto instance = inspect(*running, "{{index .Config.Labels \"ignite.instance\"}}");

  proxy_->send_signal(SIGKILL);
  ASSERT_TRUE(proxy_->wait_exit(k_cap)) << "the proxy did not die";
  proxy_.reset();
  EXPECT_EQ(inspect(*running, "{{.State.Status}}"), "running") << "the container went with the SIGKILLed proxy";

  // The same state file: the same instance.
  start(cfg);
  const auto reaped = proxy_->wait_for_event("containers_reaped", k_container_cap);
  ASSERT_TRUE(reaped) << "no containers_reaped line";
  EXPECT_EQ(reaped->value("instance", ""), instance) << reaped->dump();
  EXPECT_GE(reaped->value("containers", 0), 1) << reaped->dump();
  EXPECT_TRUE(wait_until([&] { return !container_exists(*running); }, k_container_cap))
      << *running << " is still there";
  // The app still serves, from a new container.
  expect_greeting(public_post(app));
}

TEST_F(container, sigterm_stops_every_container_of_the_instance_before_the_proxy_exits) {
  const auto repo = unique_repo("greeter");
  registry_->push(greeter_->ref(), repo + ":1");
  start(config());
  require(create_secret("registry"), 201, "create the secret");
  const auto a = new_app("greeter");
  const auto b = new_app("greeter");
  require(publish_image(a, tagged(repo, "1"), "registry"), 201, "publish a");
  require(publish_image(b, tagged(repo, "1"), "registry"), 201, "publish b");
  expect_greeting(public_post(a));
  expect_greeting(public_post(b));
  const auto running = wait_running_container(a.id());
  ASSERT_TRUE(running);
  const auto instance = inspect(*running, "{{index .Config.Labels \"ignite.instance\"}}");
  ASSERT_EQ(containers_labelled("ignite.instance", instance).size(), 2u);

  const auto exit = proxy_->terminate(k_stop_cap);
  ASSERT_TRUE(exit) << "the proxy did not exit on SIGTERM";
  EXPECT_TRUE(exit->succeeded()) << "exit code " << exit->code << ", signal " << exit->signal;
  // At once: the proxy removed them before it exited.
  EXPECT_EQ(containers_labelled("ignite.instance", instance), std::vector<std::string>{});
  proxy_.reset();
}

// ---- 12. secrets --------------------------------------------------------------------------

TEST_F(container, a_secret_in_use_cannot_be_deleted_and_its_password_is_never_shown) {
  const auto image = fresh_greeter(unique_repo("secret"));
  const auto ref = pinned(image.repo, image.digest);
  start(config());
  const std::string password = registry_->password();
  const std::string basic = base64(registry_->username() + ":" + password);
  // From before the publish (skopeo) to after the pull of the first cold start.
  cmdline_watch watch({password, basic}, {" run ", "--authfile", ref});

  const auto secret = create_secret("registry");
  ASSERT_EQ(secret.status, 201u) << secret.describe();
  EXPECT_FALSE(contains(secret.text, password)) << secret.describe();
  const auto app = new_app("greeter");
  require(publish_image(app, tagged(image.repo, "1"), "registry"), 201, "publish");

  const auto refused = op("DELETE", "/v1/secrets/" + org_ + ":registry");
  EXPECT_EQ(refused.status, 409u) << refused.describe();
  EXPECT_EQ(refused.code(), "conflict") << refused.describe();
  EXPECT_TRUE(contains(refused.message(), app.id())) << refused.describe();

  // The background pull is done; removed locally, the image must be pulled by the run.
  ASSERT_TRUE(wait_until([&] { return image_exists(ref); }, k_pull_cap)) << "the background pull did not happen";
  const auto removed = run_podman({"rmi", "--force", image.id}, 60s);
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  ASSERT_FALSE(image_exists(ref));
  expect_greeting(public_post(app));
  EXPECT_TRUE(image_exists(ref)) << "the cold start did not pull the image";
  watch.stop();

  EXPECT_TRUE(watch.marked()) << "the watch never saw the pulling `podman run` (" << watch.scans() << " scans)";
  EXPECT_EQ(watch.leaks(), std::vector<std::string>{}) << "the password was on a command line";
  // The auth files are gone once the pulls are over.
  const auto auth_dir = dir_->path() / "registry-auth";
  EXPECT_TRUE(wait_until(
      [&] {
        std::error_code ec;
        return !std::filesystem::exists(auth_dir, ec) || std::filesystem::is_empty(auth_dir, ec);
      },
      k_cap))
      << "auth files remain in " << auth_dir;

  const auto listed = require(op("GET", "/v1/secrets"), 200, "list secrets");
  EXPECT_FALSE(contains(listed.text, password)) << listed.describe();

  // Once the proxy is gone: nothing it wrote holds the password, in any form.
  const auto exit = proxy_->terminate(k_stop_cap);
  EXPECT_TRUE(exit && exit->succeeded()) << "the proxy did not exit 0 on SIGTERM";
  const auto output = proxy_->output();
  EXPECT_FALSE(contains(output, password)) << "the password is in the proxy's log";
  EXPECT_FALSE(contains(output, basic)) << "the credentials are in the proxy's log";
  proxy_.reset();
  const auto state = state_bytes(state_file_);
  EXPECT_FALSE(state.empty()) << "no state file at " << state_file_;
  EXPECT_FALSE(contains(state, password)) << "the password is in the state file";
  EXPECT_FALSE(contains(state, basic)) << "the credentials are in the state file";
}

// ---- 13-14. config-file image versions ----------------------------------------------------

TEST_F(container, run_time_pull_failures_of_config_file_versions_are_503_pod_start_failed_saying_why) {
  const auto image = fresh_greeter(unique_repo("nosecret"));
  const auto repo = unique_repo("greeter");
  registry_->push(greeter_->ref(), repo + ":1");
  start(config());
  // A config-file version names its secret; the secret comes from the API.
  require(create_secret("registry"), 201, "create the secret");
  const auto missing = new_app("missing");
  const auto anonymous = new_app("anonymous");
  const std::string absent_digest = "sha256:" + random_hex(64);
  reload(config(json::array({
      {{"org", missing.org},
       {"name", missing.name},
       {"active_version", 1},
       {"versions", json::array({{{"version", 1},
                                  {"image_ref", tagged(repo, "1")},
                                  {"image_digest", absent_digest},
                                  {"registry_secret_ref", "registry"}}})}},
      {{"org", anonymous.org},
       {"name", anonymous.name},
       {"active_version", 1},
       {"versions",
        json::array({{{"version", 1}, {"image_ref", tagged(image.repo, "1")}, {"image_digest", image.digest}}})}},
  })));

  const auto not_found = public_post(missing);
  expect_proxy_error(not_found, 503, "pod_start_failed");
  EXPECT_TRUE(contains(error_message(not_found), "could not be pulled")) << not_found->body;
  EXPECT_TRUE(contains(error_message(not_found), "not found")) << not_found->body;

  const auto unauthorized = public_post(anonymous);
  expect_proxy_error(unauthorized, 503, "pod_start_failed");
  EXPECT_TRUE(contains(error_message(unauthorized), "could not be pulled")) << unauthorized->body;
  EXPECT_TRUE(contains(error_message(unauthorized), "registry_secret_ref")) << unauthorized->body;
  EXPECT_FALSE(image_exists(pinned(image.repo, image.digest))) << "pulled without credentials";
}

TEST_F(container, a_config_file_version_given_by_tag_is_pinned_at_load_and_keeps_its_digest_across_restarts) {
  const auto repo = unique_repo("pinned");
  const auto first = registry_->push(greeter_->ref(), repo + ":stable");
  const auto app = new_app("pinned");
  const json apps = json::array({{{"org", app.org},
                                  {"name", app.name},
                                  {"active_version", 1},
                                  {"versions", json::array({{{"version", 1},
                                                             {"image_ref", tagged(repo, "stable")},
                                                             {"registry_secret_ref", "registry"}}})}}});
  start(config());
  require(create_secret("registry"), 201, "create the secret");
  const auto from = proxy_->line_count();
  reload(config(apps));
  const auto pin = proxy_->wait_for_line(
      [&](const json& j) { return j.value("event", "") == "image_pinned" && j.value("app", "") == app.id(); }, k_cap,
      from);
  ASSERT_TRUE(pin) << "no image_pinned line";
  EXPECT_EQ(pin->value("image", ""), pinned(repo, first)) << pin->dump();
  expect_greeting(public_post(app));
  stop_proxy();

  const auto second = registry_->push(probe_->ref(), repo + ":stable");
  ASSERT_NE(second, first);
  start(config(apps));  // the same state file
  const auto versions = require(op("GET", "/v1/apps/" + app.id() + "/versions"), 200, "list versions");
  ASSERT_EQ(versions.body["versions"].size(), 1u) << versions.describe();
  EXPECT_EQ(versions.body["versions"][0]["source"].value("image_digest", ""), first) << versions.describe();
  expect_greeting(public_post(app));
  const auto running = wait_running_container(app.id());
  ASSERT_TRUE(running);
  EXPECT_EQ(inspect(*running, "{{.ImageName}}"), pinned(repo, first));
  EXPECT_FALSE(proxy_->wait_for_line(
      [&](const json& j) { return j.value("event", "") == "image_pinned" && j.value("app", "") == app.id(); },
      milliseconds(0)))
      << "the version was pinned again";
}

// ---- 15. garbage collection ---------------------------------------------------------------

TEST_F(container, an_image_no_version_references_is_removed_after_the_grace_and_a_referenced_one_stays) {
  const auto dropped = fresh_greeter(unique_repo("dropped"));
  const auto kept = fresh_greeter(unique_repo("kept"));
  const auto dropped_ref = pinned(dropped.repo, dropped.digest);
  const auto kept_ref = pinned(kept.repo, kept.digest);
  start(config(json::array(), json::object(), {{"image_gc_grace_ms", 200}}));
  require(create_secret("registry"), 201, "create the secret");
  const auto a = new_app("dropped");
  const auto b = new_app("kept");
  require(publish_image(a, tagged(dropped.repo, "1"), "registry"), 201, "publish a");
  require(publish_image(b, tagged(kept.repo, "1"), "registry"), 201, "publish b");
  ASSERT_TRUE(wait_until([&] { return image_exists(dropped_ref) && image_exists(kept_ref); }, k_pull_cap))
      << "the background pulls did not happen";
  expect_greeting(public_post(a));  // a container that must be gone before its image can go

  require(op("DELETE", "/v1/apps/" + a.id()), 200, "delete a");
  const auto removed = proxy_->wait_for_line(
      [&](const json& j) { return j.value("event", "") == "image_removed" && j.value("image", "") == dropped_ref; },
      k_container_cap);
  EXPECT_TRUE(removed) << "no image_removed line for " << dropped_ref;
  EXPECT_TRUE(wait_until([&] { return !image_exists(dropped_ref); }, k_cap)) << dropped_ref << " is still local";
  // Five grace periods more: the referenced image is still there.
  EXPECT_FALSE(wait_until([&] { return !image_exists(kept_ref); }, 1000ms)) << kept_ref << " was removed";
  EXPECT_FALSE(proxy_->wait_for_line(
      [&](const json& j) { return j.value("event", "") == "image_removed" && j.value("image", "") == kept_ref; },
      milliseconds(0)));
  expect_greeting(public_post(b));
}

// ---- 16-17. networks ----------------------------------------------------------------------

TEST_F(container, a_config_file_version_on_the_host_network_runs_there_and_answers) {
  const auto repo = unique_repo("host");
  const auto digest = registry_->push(greeter_->ref(), repo + ":1");
  start(config());
  require(create_secret("registry"), 201, "create the secret");
  const auto app = new_app("host");
  reload(config(json::array({{{"org", app.org},
                              {"name", app.name},
                              {"active_version", 1},
                              {"versions", json::array({{{"version", 1},
                                                         {"image_ref", tagged(repo, "1")},
                                                         {"image_digest", digest},
                                                         {"registry_secret_ref", "registry"},
                                                         {"network", "host"}}})}}})));
  expect_greeting(public_post(app));
  const auto running = wait_running_container(app.id());
  ASSERT_TRUE(running);
  EXPECT_EQ(inspect(*running, "{{.HostConfig.NetworkMode}}"), "host");
}

TEST_F(container, containers_on_the_private_network_cannot_reach_each_other_and_drop_net_raw) {
  const auto repo = unique_repo("greeter");
  registry_->push(greeter_->ref(), repo + ":1");
  start(config());
  require(create_secret("registry"), 201, "create the secret");
  const auto a = new_app("greeter");
  const auto b = new_app("greeter");
  require(publish_image(a, tagged(repo, "1"), "registry"), 201, "publish a");
  require(publish_image(b, tagged(repo, "1"), "registry"), 201, "publish b");
  expect_greeting(public_post(a));
  expect_greeting(public_post(b));
  const auto in_a = wait_running_container(a.id());
  const auto in_b = wait_running_container(b.id());
  ASSERT_TRUE(in_a && in_b);
  for (const auto& name : {*in_a, *in_b}) {
    EXPECT_EQ(inspect(name, "{{.HostConfig.NetworkMode}}"), "bridge") << name;
    EXPECT_TRUE(contains(inspect(name, "{{.HostConfig.CapDrop}}"), "CAP_NET_RAW")) << name;
  }
  const auto ip = inspect(*in_b, "{{(index .NetworkSettings.Networks \"ignite\").IPAddress}}");
  ASSERT_FALSE(ip.empty()) << *in_b << " has no address on the ignite network";
  const auto port_text = env_value(*in_b, "PORT");
  const auto port = static_cast<std::uint16_t>(std::stoul(port_text));

  // The control: b listens there, as the host sees it.
  EXPECT_EQ(connect_outcome(ip, port, 2s), "connected") << ip << ":" << port;
  // The probe itself, in a container on the host's network, does connect: it is the
  // network that refuses below, not the probe.
  const auto probe = [&](const std::string& network) {
    const auto name = unique_test_name("ignite-ct-probe");
    auto r = run_podman({"run", "--rm", "--name", name, "--network", network, "--cap-drop", "NET_RAW", probe_->ref(),
                         "connect", ip, port_text},
                        60s);
    if (r.timed_out) run_podman({"rm", "--force", "--ignore", "--time", "0", name}, 60s);
    return r;
  };
  const auto from_host = probe("host");
  EXPECT_EQ(from_host.exit_code, 0) << from_host.out << from_host.err;
  EXPECT_EQ(trimmed(from_host.out), "connected") << from_host.err;
  // Another container on the same network cannot connect to it.
  const auto from_peer = probe("ignite");
  EXPECT_EQ(from_peer.exit_code, 1) << from_peer.out << from_peer.err;
  EXPECT_EQ(trimmed(from_peer.out), "timeout") << from_peer.err;
}

}  // namespace
}  // namespace ignite::test
