// What a registry said, in words for the app's owner: skopeo's and podman's errors as
// they print them (captured from the real tools against a docker-registry), and the
// settings that go on their command lines.
#include "coldstart/image_registry.hpp"

#include <gtest/gtest.h>

namespace ignite::coldstart {
namespace {

image_request request(bool with_credentials) {
  image_request r;
  r.image = "127.0.0.1:5000/acme/greeter:1";
  r.registry = "127.0.0.1:5000";
  r.secret_ref = "greeter-registry";
  if (with_credentials) r.credentials = registry_credentials{"127.0.0.1:5000", "robot", "s3cret"};
  return r;
}

const char* k_skopeo_unauthorized =
    R"(time="2026-11-29T15:19:20Z" level=fatal msg="Error parsing image name \"docker://127.0.0.1:5000/acme/greeter:1\": reading manifest 1 in 127.0.0.1:5000/acme/greeter: unauthorized: authentication required")";
const char* k_podman_unauthorized =
    "Trying to pull 127.0.0.1:5000/acme/greeter@sha256:aa...\n"
    "Error: initializing source docker://127.0.0.1:5000/acme/greeter@sha256:aa: reading manifest sha256:aa in "
    "127.0.0.1:5000/acme/greeter: unauthorized: authentication required\n";
const char* k_skopeo_unknown =
    R"(time="2026-11-29T15:19:21Z" level=fatal msg="Error parsing image name \"docker://127.0.0.1:5000/acme/nope:1\": reading manifest 1 in 127.0.0.1:5000/acme/nope: manifest unknown: manifest unknown")";
const char* k_skopeo_refused =
    R"(time="2026-11-29T15:19:21Z" level=fatal msg="Error parsing image name \"docker://127.0.0.1:5112/acme/bb:2\": pinging container registry 127.0.0.1:5112: Get \"https://127.0.0.1:5112/v2/\": dial tcp 127.0.0.1:5112: connect: connection refused")";
const char* k_skopeo_plain_http =
    R"(time="2026-11-29T15:19:21Z" level=fatal msg="Error parsing image name \"docker://127.0.0.1:5111/acme/bb:1\": pinging container registry 127.0.0.1:5111: Get \"https://127.0.0.1:5111/v2/\": http: server gave HTTP response to HTTPS client")";
const char* k_skopeo_no_host =
    R"(time="2026-11-29T15:19:21Z" level=fatal msg="Error parsing image name \"docker://nosuchhost.invalid/acme/bb:1\": pinging container registry nosuchhost.invalid: Get \"https://nosuchhost.invalid/v2/\": dial tcp: lookup nosuchhost.invalid on 10.255.255.53:53: no such host")";

TEST(registry_failure, anonymous_refusal_names_registry_secret_ref) {
  for (const char* text : {k_skopeo_unauthorized, k_podman_unauthorized}) {
    auto f = registry_failure(text, request(false));
    ASSERT_TRUE(f) << text;
    EXPECT_EQ(f->what_kind(), registry_error::kind::auth);
    EXPECT_NE(std::string(f->what()).find("set registry_secret_ref"), std::string::npos) << f->what();
    EXPECT_NE(f->detail().find("authentication required"), std::string::npos) << f->detail();
  }
}

TEST(registry_failure, refused_credentials_name_the_secret_never_its_password) {
  auto f = registry_failure(k_skopeo_unauthorized, request(true));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->what_kind(), registry_error::kind::auth);
  const std::string message = f->what();
  EXPECT_NE(message.find("registry_secret_ref \"greeter-registry\""), std::string::npos) << message;
  EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
}

TEST(registry_failure, a_missing_image_and_an_unreachable_registry_say_so) {
  auto unknown = registry_failure(k_skopeo_unknown, request(true));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->what_kind(), registry_error::kind::not_found);
  EXPECT_NE(std::string(unknown->what()).find("was not found"), std::string::npos) << unknown->what();

  auto refused = registry_failure(k_skopeo_refused, request(false));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->what_kind(), registry_error::kind::unreachable);
  EXPECT_NE(std::string(refused->what()).find("connection refused"), std::string::npos);

  auto plain = registry_failure(k_skopeo_plain_http, request(false));
  ASSERT_TRUE(plain);
  EXPECT_NE(std::string(plain->what()).find("containers.insecure_registries"), std::string::npos) << plain->what();

  auto no_host = registry_failure(k_skopeo_no_host, request(false));
  ASSERT_TRUE(no_host);
  EXPECT_NE(std::string(no_host->what()).find("no such host"), std::string::npos);
}

TEST(registry_failure, other_engine_errors_are_not_taken_for_the_registry) {
  EXPECT_FALSE(registry_failure("Error: crun: setrlimit `RLIMIT_NPROC`: Operation not permitted: OCI permission denied",
                                request(false)));
}

TEST(check_secret_server, credentials_for_another_registry_are_refused_before_any_pull) {
  auto r = request(true);
  EXPECT_NO_THROW(check_secret_server(r));
  r.credentials->server = "ghcr.io";
  try {
    check_secret_server(r);
    FAIL() << "accepted credentials for another server";
  } catch (const registry_error& e) {
    EXPECT_EQ(e.what_kind(), registry_error::kind::auth);
    EXPECT_NE(std::string(e.what()).find("ghcr.io"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(check_secret_server(request(false)));
}

TEST(image_registry, only_listed_registries_skip_tls_verification) {
  image_registry registry({{"127.0.0.1:5000"}, {}, {}, "skopeo"});
  EXPECT_EQ(registry.tls_arguments("127.0.0.1:5000"), (std::vector<std::string>{"--tls-verify=false"}));
  EXPECT_TRUE(registry.tls_arguments("127.0.0.1:5001").empty());
  EXPECT_TRUE(registry.tls_arguments("ghcr.io").empty());
}

TEST(image_registry, a_missing_skopeo_is_a_clear_refusal) {
  image_registry registry({{}, std::filesystem::temp_directory_path(), std::chrono::seconds(5), "no-such-skopeo"});
  try {
    registry.resolve_digest(request(false));
    FAIL() << "resolved without skopeo";
  } catch (const registry_error& e) {
    EXPECT_NE(std::string(e.what()).find("skopeo is not installed"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ignite::coldstart
