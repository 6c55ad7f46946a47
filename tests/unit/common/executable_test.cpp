// find_executable: what execve could run, with reasons for what it could not.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "common/executable.hpp"

namespace ignite::common {
namespace {

class find_executable_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ignite-exe-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    write(dir_ / "tool", 0755);
    write(dir_ / "plain", 0644);
    const char* path = std::getenv("PATH");
    saved_path_ = path ? path : "";
  }
  void TearDown() override {
    ::setenv("PATH", saved_path_.c_str(), 1);
    std::filesystem::remove_all(dir_);
  }
  static void write(const std::filesystem::path& p, mode_t mode) {
    std::ofstream(p) << "#!/bin/sh\n";
    ::chmod(p.c_str(), mode);
  }
  std::filesystem::path dir_;
  std::string saved_path_;
};

TEST_F(find_executable_test, a_path_is_used_as_given) {
  std::string why;
  EXPECT_EQ(find_executable((dir_ / "tool").string(), why), (dir_ / "tool").string());
  EXPECT_TRUE(why.empty());
}

TEST_F(find_executable_test, says_why_a_path_cannot_run) {
  std::string why;
  EXPECT_EQ(find_executable((dir_ / "missing").string(), why), "");
  EXPECT_EQ(why, "does not exist");
  EXPECT_EQ(find_executable((dir_ / "plain").string(), why), "");
  EXPECT_EQ(why, "is not executable");
  EXPECT_EQ(find_executable(dir_.string(), why), "");
  EXPECT_EQ(why, "is a directory") << "root may access(X_OK) a directory, but cannot exec it";
  EXPECT_EQ(find_executable("", why), "");
}

TEST_F(find_executable_test, a_bare_name_is_looked_up_in_path) {
  ::setenv("PATH", ("/nonexistent:" + dir_.string()).c_str(), 1);
  std::string why;
  EXPECT_EQ(find_executable("tool", why), (dir_ / "tool").string());
  EXPECT_EQ(find_executable("plain", why), "") << "not executable: skipped";
  EXPECT_EQ(why, "was not found in PATH");
}

}  // namespace
}  // namespace ignite::common
