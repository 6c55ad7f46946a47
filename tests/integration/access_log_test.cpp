// The access log of the real proxy: one JSON line per request with the fields the
// README lists, in a file when log.access_file is set, reopened on SIGUSR1 without
// losing a line (logrotate's rename-then-signal).
#include <openssl/ssl.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/proxy_fixture.hpp"
#include "support/test_ca.hpp"
#include "support/tls_client.hpp"
#include "support/wait_until.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view k_traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

// The request lines of a file (every line must be JSON).
std::vector<json> read_lines(const fs::path& file) {
  std::vector<json> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    auto j = json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << line;
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

class access_log_test : public proxy_fixture {
 protected:
  // The greeter config with the access log in a file of the test's own directory.
  void start_with_file(bool to_stderr) {
    file_ = fs::path(::testing::TempDir()) / ("ignite-access-" + std::to_string(::getpid()) + "-" +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove(file_);
    fs::remove(file_.string() + ".1");
    auto cfg = greeter_config();
    cfg["log"] = {{"access_file", file_.string()}, {"access_stderr", to_stderr}};
    start_proxy(cfg);
  }
  void TearDown() override {
    proxy_fixture::TearDown();
    fs::remove(file_);
    fs::remove(file_.string() + ".1");
  }

  // Waits until `file` holds `n` lines; returns them.
  std::vector<json> wait_lines(const fs::path& file, std::size_t n) {
    std::vector<json> lines;
    wait_until(
        [&] {
          lines = read_lines(file);
          return lines.size() >= n;
        },
        k_cap);
    return lines;
  }

  fs::path file_;
};

TEST_F(access_log_test, a_request_line_has_every_field) {
  start_with_file(false);
  auto r = round_trip(post(k_host, R"({"name":"ada"})", "traceparent: " + std::string(k_traceparent) + "\r\n"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200u);
  auto lines = wait_lines(file_, 1);
  ASSERT_EQ(lines.size(), 1u);
  const auto& l = lines[0];
  EXPECT_EQ(l["event"], "request");
  EXPECT_EQ(l["execution_id"], r->headers.get("x-ignite-execution-id").value_or("?"));
  EXPECT_EQ(l["app"], "acme-corp:greeter");
  EXPECT_EQ(l["version"], 1);
  EXPECT_EQ(l["method"], "POST");
  EXPECT_EQ(l["status"], 200);
  EXPECT_EQ(l["cold_start"], false);
  EXPECT_EQ(l["client"], "127.0.0.1");
  EXPECT_EQ(l["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_GT(l["bytes_in"].get<std::uint64_t>(), 14u);  // the head and the 14-byte body
  EXPECT_GT(l["bytes_out"].get<std::uint64_t>(), r->body.size());
  EXPECT_GE(l["duration_ms"].get<double>(), l["upstream_ms"].get<double>());
  EXPECT_TRUE(l.contains("time"));
  EXPECT_FALSE(l.contains("tls_version"));  // plain HTTP
  EXPECT_FALSE(l.contains("error"));
  // The header itself reaches the pod untouched.
  ASSERT_EQ(pod_.requests().size(), 1u);
  EXPECT_EQ(pod_.requests()[0].headers.get("traceparent"), std::string(k_traceparent));
  // With access_stderr off, request lines stay out of stderr.
  for (const auto& line : proxy().lines()) EXPECT_EQ(line.find("\"event\":\"request\""), std::string::npos) << line;
}

// Over HTTPS the line names the protocol the connection negotiated.
TEST_F(access_log_test, over_https_the_line_has_the_tls_version) {
  test_ca ca;
  const auto cert = ca.issue({std::string(k_host)}, "greeter");
  auto cfg = greeter_config();
  cfg["listen"]["https"] = "127.0.0.1:0";
  cfg["tls"] = {{"certificates", json::array({{{"cert_file", cert.cert_file}, {"key_file", cert.key_file}}})}};
  start_proxy(cfg);
  const auto https = proxy().wait_listener("https", k_cap);
  ASSERT_TRUE(https) << proxy().output();

  // The version each connection negotiated, by the execution id its answer carried.
  std::map<std::string, std::string> versions;
  for (int max_version : {0, TLS1_2_VERSION}) {
    tls_options o;
    o.server_name = std::string(k_host);
    o.ca_file = ca.ca_file();
    o.max_version = max_version;
    tls_client c(*https, o);
    ASSERT_TRUE(c.ok()) << c.handshake_error().message();
    ASSERT_FALSE(c.send(post(k_host, "{}")));
    const auto r = c.read_response();
    ASSERT_TRUE(r) << c.last_error().message();
    ASSERT_EQ(r->status, 200u);
    versions[r->headers.get("x-ignite-execution-id").value_or("?")] = c.version();
  }
  EXPECT_EQ(std::set<std::string>({"TLSv1.3", "TLSv1.2"}), [&] {
    std::set<std::string> v;
    for (const auto& [id, version] : versions) v.insert(version);
    return v;
  }());
  for (const auto& [id, version] : versions) {
    const auto line = proxy().wait_for_line(
        [&](const json& j) { return j.value("event", "") == "request" && j.value("execution_id", "") == id; }, k_cap);
    ASSERT_TRUE(line) << proxy().output();
    EXPECT_EQ(line->value("tls_version", ""), version) << line->dump();
    EXPECT_EQ(line->value("status", 0), 200);
  }
  // A plain-HTTP request on the same proxy has none.
  const auto plain = round_trip(post(k_host, "{}"));
  ASSERT_TRUE(plain);
  const auto id = plain->headers.get("x-ignite-execution-id").value_or("?");
  const auto line = proxy().wait_for_line(
      [&](const json& j) { return j.value("event", "") == "request" && j.value("execution_id", "") == id; }, k_cap);
  ASSERT_TRUE(line) << proxy().output();
  EXPECT_FALSE(line->contains("tls_version")) << line->dump();
}

TEST_F(access_log_test, errors_and_bad_traceparents_are_logged_without_what_the_client_made_up) {
  start_with_file(true);
  auto r = round_trip(post("nobody-here.ignite.dodil.cloud", "{}",
                           "traceparent: 00-00000000000000000000000000000000-00f067aa0ba902b7-01\r\n"
                           "Authorization: Bearer secret-token-123\r\n"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 404u);
  auto lines = wait_lines(file_, 1);
  ASSERT_EQ(lines.size(), 1u);
  const auto& l = lines[0];
  EXPECT_EQ(l["error"], "app_not_found");
  EXPECT_EQ(l["status"], 404);
  EXPECT_FALSE(l.contains("app"));
  EXPECT_FALSE(l.contains("trace_id"));  // an all-zero trace id is invalid
  EXPECT_FALSE(l.contains("upstream_ms"));
  EXPECT_EQ(l.dump().find("nobody-here"), std::string::npos);
  EXPECT_EQ(l.dump().find("secret-token"), std::string::npos);
  EXPECT_EQ(l.dump().find("{}"), std::string::npos);  // no body
  // access_stderr on: the same line on stderr too.
  EXPECT_TRUE(
      proxy().wait_for_line([&](const json& j) { return j.value("execution_id", "") == l["execution_id"]; }, k_cap));
}

// logrotate: rename the file, SIGUSR1; lines go on in a new file of the same name, and
// every request is in one of the two.
TEST_F(access_log_test, sigusr1_reopens_the_file_and_loses_no_line) {
  start_with_file(false);
  constexpr std::size_t k_each = 40;
  auto client = connect();
  std::set<std::string> ids;
  auto send_some = [&] {
    for (std::size_t i = 0; i < k_each; ++i) {
      ASSERT_FALSE(client->send(post(k_host, "{}")));
      auto r = client->read_response();
      ASSERT_TRUE(r);
      ids.insert(r->headers.get("x-ignite-execution-id").value_or(""));
    }
  };
  send_some();
  const fs::path rotated = file_.string() + ".1";
  fs::rename(file_, rotated);
  const auto from = proxy().line_count();
  proxy().send_signal(SIGUSR1);
  ASSERT_TRUE(proxy().wait_for_event("access_log_reopened", k_cap, from)) << proxy().output();
  send_some();

  std::vector<json> old_lines, new_lines;
  ASSERT_TRUE(wait_until(
      [&] {
        old_lines = read_lines(rotated);
        new_lines = read_lines(file_);
        return old_lines.size() + new_lines.size() >= 2 * k_each;
      },
      k_cap));
  EXPECT_EQ(old_lines.size() + new_lines.size(), 2 * k_each);
  EXPECT_GE(new_lines.size(), k_each);  // sent after the reopen: all in the new file
  std::set<std::string> logged;
  for (const auto* lines : {&old_lines, &new_lines})
    for (const auto& l : *lines) logged.insert(l["execution_id"].get<std::string>());
  EXPECT_EQ(logged, ids);
}

TEST_F(access_log_test, an_access_file_that_cannot_be_opened_stops_the_start) {
  auto cfg = greeter_config();
  cfg["log"] = {{"access_file", "/nonexistent-dir/access.log"}};
  proxy_ = std::make_unique<proxy_process>(IGNITE_PROXY_BIN, cfg);
  auto exit = proxy_->wait_exit(k_cap);
  ASSERT_TRUE(exit);
  EXPECT_NE(proxy_->output().find("log.access_file /nonexistent-dir/access.log"), std::string::npos)
      << proxy_->output();
}

}  // namespace
}  // namespace ignite::test
