// The process provider with real child processes: environment, readiness, output
// capture, death before listening, and stopping a pod that ignores SIGTERM.

#include "coldstart/process_provider.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace ignite::coldstart {
namespace {

using namespace std::chrono_literals;
constexpr auto k_cap = 10s;

// Records pod events from the provider's thread; tests wait on them with a cap.
class recorded_events final : public pod_events {
 public:
  void on_ready(pod_id id, const endpoint& at, bool = false) override {
    std::lock_guard lock(mutex_);
    ready_[id] = at.address().to_string() + ":" + std::to_string(at.port());
    changed_.notify_all();
  }
  void on_exit(pod_id id, const pod_exit& how) override {
    std::lock_guard lock(mutex_);
    exits_[id] = how;
    changed_.notify_all();
  }
  std::optional<std::string> wait_ready(pod_id id) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, k_cap, [&] { return ready_.contains(id) || exits_.contains(id); });
    if (!ready_.contains(id)) return std::nullopt;
    return ready_[id];
  }
  std::optional<pod_exit> wait_exit(pod_id id) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, k_cap, [&] { return exits_.contains(id); });
    if (!exits_.contains(id)) return std::nullopt;
    return exits_[id];
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<pod_id, std::string> ready_;
  std::map<pod_id, pod_exit> exits_;
};

class process_provider_test : public ::testing::Test {
 protected:
  process_provider_test()
      : provider_(
            ctx_,
            [this](const pod_output& out) {
              std::lock_guard lock(mutex_);
              output_.push_back(std::string(out.stream) + ": " + std::string(out.line));
              output_changed_.notify_all();
            },
            300ms) {
    thread_ = std::thread([this] { ctx_.run(); });
  }
  ~process_provider_test() override {
    work_.reset();
    ctx_.stop();
    thread_.join();
  }

  pod_spec shell(std::string script) {
    pod_spec spec;
    spec.app_id = "acme-corp:greeter";
    spec.version = "7";
    spec.command = {"/bin/sh", "-c", std::move(script)};
    return spec;
  }
  std::vector<std::string> output() {
    std::lock_guard lock(mutex_);
    return output_;
  }
  bool wait_output(const std::string& line) {
    std::unique_lock lock(mutex_);
    return output_changed_.wait_for(lock, k_cap,
                                    [&] { return std::find(output_.begin(), output_.end(), line) != output_.end(); });
  }

  boost::asio::io_context ctx_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{ctx_.get_executor()};
  std::mutex mutex_;
  std::vector<std::string> output_;
  std::condition_variable output_changed_;
  process_provider provider_;
  std::thread thread_;
  recorded_events events_;
};

TEST_F(process_provider_test, a_pod_gets_its_port_and_identity_and_its_output_is_captured) {
  provider_.start(1, shell("echo \"port=$PORT app=$IGNITE_APP_ID version=$IGNITE_VERSION\"; echo oops >&2; exit 4"),
                  events_);
  const auto how = events_.wait_exit(1);
  ASSERT_TRUE(how);
  EXPECT_EQ(how->cause, "exited with status 4");
  EXPECT_EQ(how->last_stderr, std::vector<std::string>{"oops"});
  const auto lines = output();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(lines[0].starts_with("stdout: port=")) << lines[0];
  EXPECT_NE(lines[0].find(" app=acme-corp:greeter version=7"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1], "stderr: oops");
}

TEST_F(process_provider_test, readiness_is_reported_when_the_pod_listens_on_its_port) {
  // python3 is on every machine this runs on (Debian); it listens on $PORT after a pause.
  provider_.start(2,
                  shell("exec python3 -c 'import os,socket,time; time.sleep(0.2); s=socket.socket(); "
                        "s.bind((\"127.0.0.1\", int(os.environ[\"PORT\"]))); s.listen(); time.sleep(60)'"),
                  events_);
  const auto address = events_.wait_ready(2);
  ASSERT_TRUE(address) << "no readiness";
  EXPECT_TRUE(address->starts_with("127.0.0.1:")) << *address;
  provider_.stop(2);
  const auto how = events_.wait_exit(2);
  ASSERT_TRUE(how);
  EXPECT_NE(how->cause.find("was stopped"), std::string::npos) << how->cause;
}

TEST_F(process_provider_test, a_pod_ignoring_sigterm_is_killed_after_the_grace_period) {
  provider_.start(3, shell("trap '' TERM; echo started >&2; while :; do sleep 0.05; done"), events_);
  // Wait until the shell has set its trap (it says so), then stop it.
  ASSERT_TRUE(wait_output("stderr: started"));
  provider_.stop(3);
  const auto how = events_.wait_exit(3);
  ASSERT_TRUE(how) << "still running after SIGTERM and the 300 ms grace";
  EXPECT_NE(how->cause.find("killed by signal 9"), std::string::npos) << how->cause;
}

TEST_F(process_provider_test, a_missing_command_is_a_start_failure_with_the_reason) {
  pod_spec spec;
  spec.app_id = "acme-corp:greeter";
  spec.version = "1";
  spec.command = {"/nonexistent/greeter"};
  provider_.start(4, spec, events_);
  const auto how = events_.wait_exit(4);
  ASSERT_TRUE(how);
  EXPECT_NE(how->cause.find("/nonexistent/greeter does not exist"), std::string::npos) << how->cause;
  EXPECT_EQ(how->summary, "could not be started") << "the public summary names no path";
}

}  // namespace
}  // namespace ignite::coldstart
