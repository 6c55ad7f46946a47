#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"

namespace ignite::test {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// The mode bits of `path`, like 0600.
unsigned mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

json read_json(const fs::path& path) {
  std::ifstream file(path);
  return json::parse(file, nullptr, false);
}

// These tests start without IGNITE_TOKEN and IGNITE_API_ENDPOINT: the file decides.
class config_commands : public cli_fixture {
 protected:
  void SetUp() override {
    env_.variables.erase("IGNITE_TOKEN");
    env_.variables.erase("IGNITE_API_ENDPOINT");
  }
  fs::path default_file() const { return home_ / ".config" / "ignite" / "config.json"; }
};

TEST_F(config_commands, set_creates_the_file_0600_in_a_0700_directory) {
  auto r = run({"config", "set", "token", "tok-from-file-0123456789"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "token saved in " + default_file().string() + "\n");
  EXPECT_EQ(r.out.find("tok-from-file"), std::string::npos);
  EXPECT_EQ(mode_of(default_file()), 0600u);
  EXPECT_EQ(mode_of(default_file().parent_path()), 0700u);
  EXPECT_EQ(read_json(default_file()), (json{{"token", "tok-from-file-0123456789"}}));

  r = run({"config", "set", "api_endpoint", endpoint_url()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_json(default_file()), (json{{"token", "tok-from-file-0123456789"}, {"api_endpoint", endpoint_url()}}));
  EXPECT_EQ(mode_of(default_file()), 0600u);
}

TEST_F(config_commands, the_file_is_0600_whatever_the_umask) {
  const mode_t old = ::umask(0);
  auto r = run({"config", "set", "token", "t"});
  ::umask(old);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(mode_of(default_file()), 0600u);
  EXPECT_EQ(mode_of(default_file().parent_path()), 0700u);
}

TEST_F(config_commands, an_existing_file_with_loose_permissions_is_replaced_0600) {
  fs::create_directories(default_file().parent_path());
  std::ofstream(default_file()) << R"({"api_endpoint":"http://10.0.0.1:9090","other":1})";
  fs::permissions(default_file(), fs::perms(0644));
  ASSERT_EQ(run({"config", "set", "token", "t"}).code, 0);
  EXPECT_EQ(mode_of(default_file()), 0600u);
  // Keys it does not know are kept.
  EXPECT_EQ(read_json(default_file()), (json{{"api_endpoint", "http://10.0.0.1:9090"}, {"other", 1}, {"token", "t"}}));
}

TEST_F(config_commands, xdg_config_home_is_respected) {
  env_.variables["XDG_CONFIG_HOME"] = (home_ / "xdg").string();
  ASSERT_EQ(run({"config", "set", "token", "t"}).code, 0);
  EXPECT_TRUE(fs::exists(home_ / "xdg" / "ignite" / "config.json"));
  EXPECT_FALSE(fs::exists(default_file()));
  // A relative XDG_CONFIG_HOME is ignored, as the XDG spec says.
  env_.variables["XDG_CONFIG_HOME"] = "relative/dir";
  ASSERT_EQ(run({"config", "set", "token", "t"}).code, 0);
  EXPECT_TRUE(fs::exists(default_file()));
}

TEST_F(config_commands, commands_use_the_file) {
  ASSERT_EQ(run({"config", "set", "token", "tok-from-file"}).code, 0);
  ASSERT_EQ(run({"config", "set", "api_endpoint", endpoint_url()}).code, 0);
  ASSERT_EQ(run({"app", "list"}).code, 0);
  EXPECT_EQ(only_request().headers.get("Authorization"), "Bearer tok-from-file");
}

TEST_F(config_commands, the_environment_overrides_the_file) {
  ASSERT_EQ(run({"config", "set", "token", "tok-from-file"}).code, 0);
  ASSERT_EQ(run({"config", "set", "api_endpoint", "http://127.0.0.1:1"}).code, 0);
  env_.variables["IGNITE_TOKEN"] = "tok-from-env";
  env_.variables["IGNITE_API_ENDPOINT"] = api_.endpoint();  // bare host:port works too
  ASSERT_EQ(run({"app", "list"}).code, 0);
  EXPECT_EQ(only_request().headers.get("Authorization"), "Bearer tok-from-env");
}

TEST_F(config_commands, set_warns_when_the_environment_overrides_it) {
  env_.variables["IGNITE_TOKEN"] = "tok-from-env";
  auto r = run({"config", "set", "token", "t"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "ignite: warning: IGNITE_TOKEN is set and overrides the file\n");
}

TEST_F(config_commands, get_prints_both_with_the_token_masked) {
  ASSERT_EQ(run({"config", "set", "token", "abcdefghijklmnop-wxyz"}).code, 0);
  auto r = run({"config", "get"});
  EXPECT_EQ(r.code, 0) << r.err;
  const auto file = default_file().string();
  EXPECT_EQ(r.out, "token:         ****wxyz  (from " + file +
                       ")\n"
                       "api_endpoint:  http://127.0.0.1:9090  (from default)\n"
                       "config file:   " +
                       file + "\n");
  EXPECT_EQ(r.out.find("abcdefgh"), std::string::npos);

  env_.variables["IGNITE_TOKEN"] = "short";
  env_.variables["IGNITE_API_ENDPOINT"] = "http://10.1.2.3:9090";
  r = run({"config", "get", "-o", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), (json{{"token", "****"},
                                      {"token_source", "IGNITE_TOKEN"},
                                      {"api_endpoint", "http://10.1.2.3:9090"},
                                      {"api_endpoint_source", "IGNITE_API_ENDPOINT"},
                                      {"config_file", file}}));
}

TEST_F(config_commands, get_without_any_setting) {
  auto r = run({"config", "get"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("token:         (not set)\n", 0), 0u) << r.out;
  EXPECT_FALSE(fs::exists(default_file()));  // reading creates nothing
}

TEST_F(config_commands, bad_keys_and_endpoints_are_usage_errors) {
  EXPECT_EQ(run({"config", "set", "colour", "blue"}).code, 2);
  EXPECT_EQ(run({"config", "set", "token"}).code, 2);
  auto r = run({"config", "set", "api_endpoint", "https://rpc.dev.dodil.io:443"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("https endpoints are not supported yet"), std::string::npos) << r.err;
  r = run({"config", "set", "api_endpoint", "http://host:port"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "ignite: api_endpoint \"http://host:port\": port must be a number\n");
  EXPECT_FALSE(fs::exists(default_file()));
}

TEST_F(config_commands, without_a_token_a_command_says_how_to_set_one) {
  env_.variables["IGNITE_API_ENDPOINT"] = endpoint_url();
  auto r = run({"app", "list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "ignite: no token: run `ignite config set token <token>` or set IGNITE_TOKEN\n");
  EXPECT_EQ(api_.request_count(), 0u);
}

TEST_F(config_commands, a_broken_file_is_named) {
  fs::create_directories(default_file().parent_path());
  std::ofstream(default_file()) << "{not json";
  auto r = run({"app", "list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "ignite: " + default_file().string() +
                       " is not a JSON object; fix it or remove it and run `ignite config set`\n");
}

}  // namespace
}  // namespace ignite::test
