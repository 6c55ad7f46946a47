// What an operator meets first: start-up that fails cleanly and says why in one line,
// one owner per port, --check-config agreeing with start-up (listen addresses, commands,
// JSON with a location), --version and --help, and versions that a reload cannot change.
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "proxy_fixture.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;
namespace net = boost::asio;

class startup : public proxy_fixture {
 protected:
  // Runs the proxy on `cfg` with `args`, expecting it to end by itself; its exit.
  process_exit run_to_exit(const json& cfg, std::vector<std::string> args = {}) {
    proxy_ = std::make_unique<proxy_process>(IGNITE_PROXY_BIN, cfg, std::move(args));
    auto exit = proxy_->wait_exit(k_cap);
    EXPECT_TRUE(exit) << "the proxy did not exit by itself:\n" << proxy_->output();
    return exit.value_or(process_exit{});
  }

  // The config with listen.http set to `address`.
  json listening_on(const std::string& address) const {
    auto cfg = greeter_config();
    cfg["listen"]["http"] = address;
    return cfg;
  }

  // Every line of output, and it must be exactly one.
  std::string the_one_line() const {
    auto lines = proxy_->lines();
    EXPECT_EQ(lines.size(), 1u) << proxy_->output();
    return lines.empty() ? std::string() : lines.front();
  }
};

TEST_F(startup, a_port_in_use_exits_1_with_one_line_naming_the_listener) {
  net::io_context ioc;
  net::ip::tcp::acceptor taken(ioc, {net::ip::make_address("127.0.0.1"), 0});
  const auto port = taken.local_endpoint().port();
  const auto exit = run_to_exit(listening_on("127.0.0.1:" + std::to_string(port)));
  EXPECT_EQ(exit.code, 1);
  EXPECT_EQ(exit.signal, 0) << "not an abort";
  EXPECT_EQ(the_one_line(),
            "ignite-proxy: cannot start: listen.http 127.0.0.1:" + std::to_string(port) + ": address already in use");
}

TEST_F(startup, an_address_that_is_not_local_exits_1_with_one_line) {
  const auto exit = run_to_exit(listening_on("192.0.2.1:8080"));  // TEST-NET-1: never ours
  EXPECT_EQ(exit.code, 1);
  EXPECT_EQ(exit.signal, 0);
  EXPECT_EQ(the_one_line(), "ignite-proxy: cannot start: listen.http 192.0.2.1:8080: cannot assign requested address");
}

TEST_F(startup, a_host_name_as_listen_address_is_refused_by_check_config_and_by_start_alike) {
  const auto checked = run_to_exit(listening_on("localhost:8080"), {"--check-config"});
  EXPECT_EQ(checked.code, 1);
  // Each run writes its config to its own directory: compare what follows the path.
  auto reason = [](const std::string& line) { return line.substr(line.find(".json: ") + 7); };
  const auto check_line = the_one_line();
  EXPECT_NE(check_line.find("listen.http"), std::string::npos) << check_line;
  const auto started = run_to_exit(listening_on("localhost:8080"));
  EXPECT_EQ(started.code, 1);
  EXPECT_EQ(reason(the_one_line()), reason(check_line)) << "check-config and start-up say the same";
}

TEST_F(startup, a_second_instance_on_the_same_port_fails_and_the_first_keeps_serving) {
  start_proxy();
  auto first = std::move(proxy_);
  const auto exit = run_to_exit(listening_on("127.0.0.1:" + std::to_string(first->port())));
  EXPECT_EQ(exit.code, 1);
  EXPECT_NE(the_one_line().find("address already in use"), std::string::npos);
  proxy_ = std::move(first);
  for (int i = 0; i < 10; ++i) {
    const auto r = round_trip(post(k_host, "hi"));
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(r->status, 200u);
  }
}

TEST_F(startup, version_and_help_exit_0) {
  EXPECT_EQ(run_to_exit(greeter_config(), {"--version"}).code, 0);
  EXPECT_EQ(the_one_line().rfind("ignite-proxy ", 0), 0u);
  EXPECT_EQ(run_to_exit(greeter_config(), {"--help"}).code, 0);
  EXPECT_NE(proxy_->output().find("--check-config"), std::string::npos);
  EXPECT_EQ(run_to_exit(greeter_config(), {"--no-such-flag"}).code, 2);
}

// ---- --check-config ---------------------------------------------------------------------

class check_config_sources : public startup {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ignite-check-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    startup::TearDown();
    std::filesystem::remove_all(dir_);
  }
  json with_command(std::vector<std::string> argv) const {
    json a = {{"org", "acme-corp"}, {"name", "greeter"}, {"versions", {{{"version", 1}, {"command", argv}}}}};
    return config(json::array({a}));
  }
  std::filesystem::path dir_;
};

TEST_F(check_config_sources, a_command_that_cannot_run_is_named) {
  const auto not_executable = dir_ / "script.sh";
  std::ofstream(not_executable) << "#!/bin/sh\n";
  ::chmod(not_executable.c_str(), 0644);
  for (const std::string& bad :
       {(dir_ / "missing").string(), not_executable.string(), dir_.string(), std::string("no-such-command-in-path")}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(run_to_exit(with_command({bad}), {"--check-config"}).code, 1);
    const auto line = the_one_line();
    EXPECT_NE(line.find("apps[0].versions[0].command"), std::string::npos) << line;
  }
  EXPECT_EQ(run_to_exit(with_command({IGNITE_GREETER_BIN}), {"--check-config"}).code, 0) << proxy_->output();
}

TEST_F(check_config_sources, start_up_refuses_the_same_commands) {
  EXPECT_EQ(run_to_exit(with_command({(dir_ / "missing").string()})).code, 1);
  EXPECT_NE(the_one_line().find("apps[0].versions[0].command"), std::string::npos);
}

TEST_F(check_config_sources, invalid_json_gives_its_line_and_column) {
  const auto path = dir_ / "broken.json";
  std::ofstream(path) << "{\n  \"domain\": \"ignite.dodil.cloud\",\n  \"threads\": ,\n}\n";
  proxy_ = std::make_unique<proxy_process>(IGNITE_PROXY_BIN, json::object(),
                                           std::vector<std::string>{"--config", path.string(), "--check-config"});
  const auto exit = proxy_->wait_exit(k_cap);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 1);
  const auto line = the_one_line();
  EXPECT_NE(line.find("broken.json:3:14"), std::string::npos) << line;
}

// ---- versions are immutable ---------------------------------------------------------------

TEST_F(startup, a_reload_that_changes_an_existing_versions_source_is_refused) {
  fake_pod other{"other-pod"};
  start_proxy();
  auto changed = greeter_config();
  changed["apps"][0]["versions"][0]["endpoints"] = {other.endpoint()};
  const auto from = proxy().reload(changed);
  const auto line = proxy().wait_for_line(
      [](const json& j) { return j.value("event", "") == "reload_failed" || j.value("event", "") == "reloaded"; },
      k_cap, from);
  ASSERT_TRUE(line);
  EXPECT_EQ(line->value("event", ""), "reload_failed");
  const std::string error = line->value("error", "");
  EXPECT_NE(error.find("apps[0].versions[0]"), std::string::npos) << error;
  EXPECT_NE(error.find("immutable"), std::string::npos) << error;
  const auto r = round_trip(post(k_host, "hi"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, pod_.name()) << "the old config keeps serving";
  EXPECT_EQ(other.request_count(), 0u);

  // The change as a new version is accepted.
  changed = greeter_config();
  changed["apps"][0]["versions"].push_back({{"version", 2}, {"endpoints", {other.endpoint()}}});
  changed["apps"][0]["active_version"] = 2;
  const auto again = proxy().reload(changed);
  ASSERT_TRUE(proxy().wait_for_event("reloaded", k_cap, again)) << proxy().output();
  const auto after = round_trip(post(k_host, "hi"));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, other.name());
}

}  // namespace
}  // namespace ignite::test
