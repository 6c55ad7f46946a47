#include "cli/config_file.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "cli/failure.hpp"
#include "cli/settings.hpp"

namespace ignite::cli {
namespace {

namespace fs = std::filesystem;

class config_file : public ::testing::Test {
 protected:
  config_file() {
    std::string dir = (fs::temp_directory_path() / "ignite-config-test-XXXXXX").string();
    if (!::mkdtemp(dir.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = dir;
  }
  ~config_file() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_F(config_file, path_from_xdg_config_home_then_home) {
  environment env;
  EXPECT_THROW(config_path(env), failure);
  env.variables["HOME"] = "/home/ada";
  EXPECT_EQ(config_path(env), "/home/ada/.config/ignite/config.json");
  env.variables["XDG_CONFIG_HOME"] = "";  // empty counts as unset
  EXPECT_EQ(config_path(env), "/home/ada/.config/ignite/config.json");
  env.variables["XDG_CONFIG_HOME"] = "/xdg";
  EXPECT_EQ(config_path(env), "/xdg/ignite/config.json");
}

TEST_F(config_file, read_an_absent_or_empty_file_as_empty) {
  EXPECT_EQ(read_config(dir_ / "none.json"), nlohmann::json::object());
  std::ofstream(dir_ / "empty.json") << "\n";
  EXPECT_EQ(read_config(dir_ / "empty.json"), nlohmann::json::object());
}

TEST_F(config_file, a_file_that_is_not_an_object_is_refused) {
  std::ofstream(dir_ / "list.json") << "[1]";
  try {
    read_config(dir_ / "list.json");
    ADD_FAILURE() << "accepted";
  } catch (const failure& f) {
    EXPECT_EQ(f.exit_code(), 1);
    EXPECT_NE(std::string(f.what()).find("list.json is not a JSON object"), std::string::npos);
  }
}

TEST_F(config_file, write_then_read) {
  write_config(dir_ / "a" / "b" / "config.json", {{"token", "t"}});
  EXPECT_EQ(read_config(dir_ / "a" / "b" / "config.json"), (nlohmann::json{{"token", "t"}}));
  EXPECT_FALSE(fs::exists(dir_ / "a" / "b" / "config.json.tmp"));
}

TEST_F(config_file, settings_take_the_environment_first_then_the_file_then_the_default) {
  environment env;
  env.variables["HOME"] = dir_.string();
  auto s = resolve_settings(env);
  EXPECT_EQ(s.token, "");
  EXPECT_EQ(s.api_endpoint, "http://127.0.0.1:9090");
  EXPECT_EQ(s.api_endpoint_source, "default");

  const auto path = config_path(env);
  write_config(path, {{"token", "file-token"}, {"api_endpoint", "http://10.0.0.1:9090"}});
  s = resolve_settings(env);
  EXPECT_EQ(s.token, "file-token");
  EXPECT_EQ(s.token_source, path.string());
  EXPECT_EQ(s.api_endpoint, "http://10.0.0.1:9090");

  env.variables["IGNITE_TOKEN"] = "env-token";
  env.variables["IGNITE_API_ENDPOINT"] = "10.0.0.2:9090";
  s = resolve_settings(env);
  EXPECT_EQ(s.token, "env-token");
  EXPECT_EQ(s.token_source, "IGNITE_TOKEN");
  EXPECT_EQ(s.api_endpoint, "10.0.0.2:9090");
  EXPECT_EQ(s.api_endpoint_source, "IGNITE_API_ENDPOINT");

  // With both from the environment, a broken file does not matter.
  std::ofstream(path) << "{broken";
  EXPECT_NO_THROW(resolve_settings(env));
}

}  // namespace
}  // namespace ignite::cli
