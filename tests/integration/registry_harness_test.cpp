// The harness for prebuilt images (BYOI, ../shared/seed-byoi.md), checked on its own: the
// greeter's image (examples/greeter/Containerfile around greeter_static) pushed to a real
// private registry, refused there without credentials, found with them under the digest
// the push reported, and run from it by podman: it answers POST / and stops on SIGTERM.
//
// Needs podman, docker-registry, htpasswd and skopeo (scripts/install-deps.sh). Without
// them the tests skip, saying why; with CI=true in the environment they fail instead.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/built_image.hpp"
#include "support/container_engine.hpp"
#include "support/raw_client.hpp"
#include "support/registry.hpp"
#include "support/wait_until.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr auto k_answer_cap = 30s;  // from `podman run` returning to the first greeting
const std::string k_repo = "acme-corp/greeter-private";

// A container run detached under a name of its own, removed (stopped first if need be)
// when this object goes. Not --rm: the exit code must outlive the stop, for the test to
// read it. --timeout bounds its life should the test process die before the destructor.
class detached_container {
 public:
  explicit detached_container(const std::vector<std::string>& run_args)
      : name_(unique_test_name("ignite-test-greeter")) {
    std::vector<std::string> args{"run", "--detach", "--name", name_, "--timeout", "300"};
    args.insert(args.end(), run_args.begin(), run_args.end());
    started_ = run_podman(args, 3min);
  }
  ~detached_container() { run_podman({"rm", "--force", "--ignore", "--time", "2", name_}, 1min); }
  detached_container(const detached_container&) = delete;
  detached_container& operator=(const detached_container&) = delete;

  const std::string& name() const { return name_; }
  const program_result& started() const { return started_; }

  // The loopback port podman published the container's 8080 on.
  std::optional<std::uint16_t> published_port() const {
    const auto r = run_podman({"port", name_, "8080/tcp"}, 30s);
    const auto colon = r.out.rfind(':');
    if (r.exit_code != 0 || colon == std::string::npos) return std::nullopt;
    return static_cast<std::uint16_t>(std::stoul(r.out.substr(colon + 1)));
  }
  std::string inspect(const std::string& format) const {
    auto out = run_podman({"container", "inspect", "--format", format, name_}, 30s).out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  std::string logs() const {
    const auto r = run_podman({"logs", name_}, 30s);
    return r.out + r.err;
  }

 private:
  std::string name_;
  program_result started_;
};

// One POST / {"name":"ada"}; nullopt while nothing answers yet.
std::optional<raw_response> post_greeting(std::uint16_t port) {
  if (raw_client::probe(port, 1s)) return std::nullopt;
  try {
    raw_client client(port, 2s);
    const std::string body = R"({"name":"ada"})";
    if (client.send("POST / HTTP/1.1\r\nHost: greeter\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body))
      return std::nullopt;
    return client.read_response();
  } catch (const std::exception&) {
    return std::nullopt;  // refused between probe and connect
  }
}

class registry_harness : public ::testing::Test {
 protected:
  // The image is built once per test binary; the registry is one per test.
  static void SetUpTestSuite() {
    if (podman_path().empty()) {
      unavailable_ = "podman is not installed";
      return;
    }
    if (unavailable_ = private_registry::missing_tools(); !unavailable_.empty()) return;
    try {
      image_ = std::make_unique<built_image>(
          "localhost/ignite-test/" + unique_test_name("greeter"), IGNITE_GREETER_CONTAINERFILE,
          std::vector<built_image::context_file>{{IGNITE_GREETER_STATIC_BIN, "greeter"}});
    } catch (const std::exception& e) {
      unavailable_ = e.what();
      return;
    }
    unavailable_ = container_engine_status(image_->ref());
  }
  static void TearDownTestSuite() { image_.reset(); }

  void SetUp() override {
    if (!unavailable_.empty()) {
      if (container_tests_required()) FAIL() << unavailable_ << " (CI=true: these tests must run)";
      GTEST_SKIP() << unavailable_;
    }
    registry_ = std::make_unique<private_registry>();
  }
  void TearDown() override {
    if (HasFailure() && registry_) std::cerr << "---- registry output ----\n" << registry_->output() << "----\n";
    registry_.reset();
  }

  static inline std::unique_ptr<built_image> image_;
  static inline std::string unavailable_;
  std::unique_ptr<private_registry> registry_;
};

TEST_F(registry_harness, pushed_image_is_refused_without_credentials_and_found_by_its_digest_with_them) {
  const auto digest = registry_->push(image_->ref(), k_repo + ":1.0.0");
  ASSERT_EQ(digest.rfind("sha256:", 0), 0u) << digest;

  const auto anonymous = registry_->inspect(k_repo + ":1.0.0", /*authenticated=*/false);
  EXPECT_NE(anonymous.exit_code, 0) << anonymous.out;
  EXPECT_NE(anonymous.err.find("authentication required"), std::string::npos) << anonymous.err;

  const auto authenticated = registry_->inspect(k_repo + ":1.0.0", /*authenticated=*/true);
  ASSERT_EQ(authenticated.exit_code, 0) << authenticated.err;
  const auto manifest = json::parse(authenticated.out);
  EXPECT_EQ(manifest.value("Digest", ""), digest);
  EXPECT_EQ(manifest["Labels"].value("org.opencontainers.image.title", ""), "greeter");
}

TEST_F(registry_harness, image_pulled_by_digest_with_credentials_answers_post_and_stops_on_sigterm) {
  const auto digest = registry_->push(image_->ref(), k_repo + ":1.0.0");

  std::string name;
  {
    // --pull=always: from the registry, with the auth file, even though the local store
    // has the image; podman picks the loopback port, so no port is guessed.
    const detached_container pod({"--pull=always", "--authfile", registry_->authfile().string(), "--tls-verify=false",
                                  "--publish", "127.0.0.1::8080", registry_->reference(k_repo + "@" + digest)});
    name = pod.name();
    ASSERT_EQ(pod.started().exit_code, 0) << pod.started().err;
    const auto port = pod.published_port();
    ASSERT_TRUE(port) << "no port published for 8080";

    std::optional<raw_response> answer;
    ASSERT_TRUE(wait_until([&] { return (answer = post_greeting(*port)).has_value(); }, k_answer_cap))
        << "no answer on 127.0.0.1:" << *port << "\n"
        << pod.logs();
    EXPECT_EQ(answer->status, 200u) << answer->body;
    EXPECT_EQ(json::parse(answer->body, nullptr, false), json({{"greeting", "Hello, ada!"}})) << answer->body;

    // The greeter is PID 1 and handles SIGTERM itself: it exits 0, instead of being
    // killed (137) when the grace period runs out.
    const auto stopped = run_podman({"stop", "--time", "20", pod.name()}, 1min);
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_EQ(pod.inspect("{{.State.Status}} {{.State.ExitCode}}"), "exited 0") << pod.logs();
  }
  // Nothing is left behind: the container went with its object.
  EXPECT_EQ(run_podman({"container", "exists", name}, 30s).exit_code, 1);
}

}  // namespace
}  // namespace ignite::test
