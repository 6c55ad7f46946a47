// The grammar as a whole: --version, --help, and what counts as a usage error.

#include <gtest/gtest.h>

#include "cli_fixture.hpp"

namespace ignite::test {
namespace {

class command_line : public cli_fixture {};

TEST_F(command_line, version) {
  auto r = run({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "ignite 0.4.0\n");
}

TEST_F(command_line, help_everywhere) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{{"--help"},
                                                                             {"app", "--help"},
                                                                             {"draft", "save", "--help"},
                                                                             {"secret", "create", "-h"},
                                                                             {"invoke", "--help"}}) {
    auto r = run(args);
    EXPECT_EQ(r.code, 0) << args.front();
    EXPECT_NE(r.out.find("Usage: ignite"), std::string::npos) << r.out;
    EXPECT_EQ(r.err, "");
  }
  auto r = run({"draft", "save", "--help"});
  EXPECT_NE(r.out.find("--image-ref"), std::string::npos);
  // The refused build flags are not advertised.
  EXPECT_EQ(r.out.find("--build-arg"), std::string::npos);
  EXPECT_EQ(api_.request_count(), 0u);
}

TEST_F(command_line, usage_errors_exit_2) {
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{},
                                             {"app"},
                                             {"frobnicate"},
                                             {"app", "get"},
                                             {"app", "get", "a:b", "extra"},
                                             {"app", "list", "--no-such-flag"},
                                             {"app", "list", "-o", "yaml"},
                                             {"draft", "save", "acme-corp:greeter", "--image-ref"}}) {
    auto r = run(args);
    EXPECT_EQ(r.code, 2) << (args.empty() ? "(none)" : args.front()) << ": " << r.err;
    EXPECT_EQ(r.err.rfind("ignite: ", 0), 0u) << r.err;
    EXPECT_EQ(r.out, "");
  }
  EXPECT_EQ(api_.request_count(), 0u);
}

}  // namespace
}  // namespace ignite::test
