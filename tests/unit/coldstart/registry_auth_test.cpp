// Credentials reach podman and skopeo in a file only root can read, removed afterwards.
#include "coldstart/registry_auth.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace ignite::coldstart {
namespace {

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(auth_file, is_0600_in_a_0700_directory_and_gone_afterwards) {
  auto dir = std::filesystem::temp_directory_path() / ("auth-test-" + std::to_string(::getpid()));
  std::filesystem::path path;
  {
    auth_file f(dir / "nested", {"127.0.0.1:5000", "robot", "pa:ss\"word"});
    path = f.path();
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat((dir / "nested").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    auto doc = nlohmann::json::parse(read(path));
    // base64("robot:pa:ss\"word")
    EXPECT_EQ(doc["auths"]["127.0.0.1:5000"]["auth"], "cm9ib3Q6cGE6c3Mid29yZA==") << doc.dump();
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  std::filesystem::remove_all(dir);
}

TEST(auth_file, two_at_once_do_not_share_a_file) {
  auto dir = std::filesystem::temp_directory_path() / ("auth-test2-" + std::to_string(::getpid()));
  auth_file a(dir, {"a.example", "u", "p"});
  auth_file b(dir, {"b.example", "u", "p"});
  EXPECT_NE(a.path(), b.path());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ignite::coldstart
