// Helper programs run to their end: status, output, input, the timeout, and a program
// that does not exist; blocking and on an io_context.
#include "coldstart/command.hpp"

#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

namespace ignite::coldstart {
namespace {

using namespace std::chrono_literals;

TEST(run_command, reads_both_streams_and_the_exit_status) {
  auto r = run_command({"sh", "-c", "echo out; echo err >&2; exit 3"}, 10s);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.exit_code(), 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_EQ(r.describe(), "exited with status 3");
  EXPECT_TRUE(run_command({"true"}, 10s).ok());
}

TEST(run_command, feeds_its_input_on_stdin_not_the_command_line) {
  auto r = run_command({"cat"}, 10s, "secret-password\n");
  EXPECT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(r.out, "secret-password\n");
  // Without input, stdin is /dev/null: cat ends at once.
  EXPECT_EQ(run_command({"cat"}, 10s).out, "");
}

TEST(run_command, kills_the_whole_group_after_the_timeout) {
  // The shell's child holds the pipes open: only killing the group ends the wait.
  auto r = run_command({"sh", "-c", "sleep 30 & sleep 30"}, 200ms);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.exit_code(), -1);
  EXPECT_EQ(r.describe(), "timed out");
}

TEST(run_command, a_missing_program_says_so) {
  auto r = run_command({"no-such-program-here"}, 10s);
  EXPECT_EQ(r.status, -1);
  EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;
  EXPECT_NE(r.describe().find("could not run"), std::string::npos);
}

TEST(run_command, caps_what_it_keeps_of_the_output) {
  auto r = run_command({"sh", "-c", "head -c 1000000 /dev/zero"}, 10s);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out.size(), command_result::k_max_output);
}

std::optional<command_result> run_async(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  boost::asio::io_context ctx;
  std::optional<command_result> got;
  async_command(ctx, argv, timeout, [&](command_result r) { got = std::move(r); });
  ctx.run_for(20s);
  return got;
}

TEST(async_command, reports_status_and_output_on_the_context) {
  auto r = run_async({"sh", "-c", "echo out; echo err >&2; exit 4"}, 10s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_code(), 4);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
}

TEST(async_command, times_out_and_a_missing_program_still_completes) {
  auto slow = run_async({"sh", "-c", "sleep 30 & sleep 30"}, 200ms);
  ASSERT_TRUE(slow);
  EXPECT_TRUE(slow->timed_out);
  auto missing = run_async({"no-such-program-here"}, 10s);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, -1);
}

}  // namespace
}  // namespace ignite::coldstart
