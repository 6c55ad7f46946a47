// The hostile-client cases that change over TLS, on the real HTTPS listener with a CA
// made at test time: a head trickled in through TLS records, a smuggling shape inside
// TLS, and a flood of connections that never finish their handshake under the overload
// manager. (A lone trickled handshake is in tls_test.)
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/proxy_fixture.hpp"
#include "support/raw_client.hpp"
#include "support/test_ca.hpp"
#include "support/tls_client.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class hostile_tls : public proxy_fixture {
 protected:
  void start_https(json limits) {
    auto cfg = greeter_config(std::move(limits));
    cfg["listen"]["https"] = "127.0.0.1:0";
    cfg["tls"] = {{"certificates", json::array({{{"cert_file", cert_.cert_file}, {"key_file", cert_.key_file}}})}};
    start_proxy(cfg);
    auto port = proxy().wait_listener("https", k_cap);
    ASSERT_TRUE(port) << proxy().output();
    https_port_ = *port;
  }
  std::unique_ptr<tls_client> tls() const {
    tls_options o;
    o.server_name = std::string(k_host);
    o.ca_file = ca_.ca_file();
    return std::make_unique<tls_client>(https_port_, std::move(o));
  }

  test_ca ca_;
  test_ca::issued cert_ = ca_.issue({std::string(k_host)}, "exact");
  std::uint16_t https_port_ = 0;
};

TEST_F(hostile_tls, a_head_trickled_in_over_tls_gets_408) {
  start_https({{"client_header_timeout_ms", 300}});
  auto client = tls();
  ASSERT_TRUE(client->ok()) << client->handshake_error().message();
  const std::string head = "POST / HTTP/1.1\r\nHost: " + std::string(k_host) + "\r\nX-Slow: " + std::string(100, 'a');
  std::size_t sent = 0;
  // One TLS record per byte, 40 ms apart (pacing the attack, not synchronising).
  for (; sent < head.size() && !client->send(head.substr(sent, 1)); ++sent) std::this_thread::sleep_for(40ms);
  EXPECT_LT(sent, head.size()) << "the proxy took the whole trickle";
  expect_proxy_error(client->read_response(), 408, "request_timeout");
  EXPECT_EQ(pod_.request_count(), 0u);
}

TEST_F(hostile_tls, a_smuggling_shape_inside_tls_is_refused_and_never_forwarded) {
  start_https(json::object());
  auto client = tls();
  ASSERT_TRUE(client->ok()) << client->handshake_error().message();
  ASSERT_FALSE(client->send(post(k_host, "hi") + "POST / HTTP/1.1\r\nHost: " + std::string(k_host) +
                            "\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  const auto good = client->read_response();
  ASSERT_TRUE(good) << client->last_error().message();
  EXPECT_EQ(good->status, 200u);
  expect_proxy_error(client->read_response(), 400, "bad_request");
  EXPECT_TRUE(client->read_until_closed().closed());
  ASSERT_TRUE(pod_.wait_for_requests(1, k_cap));
  EXPECT_EQ(pod_.request_count(), 1u) << "only the good request reaches the pod";
}

// Connections that never start their handshake fill every slot. Under overload their
// handshake gets 1 s, not tls_handshake_timeout_ms (10 s here), so they are all gone
// within the 5 s cap, and a TLS client is served after them.
TEST_F(hostile_tls, a_flood_of_silent_tls_connections_is_cut_short_under_overload) {
  start_https({{"max_connections", 4}, {"tls_handshake_timeout_ms", 10000}});
  std::vector<std::unique_ptr<raw_client>> flood;
  for (int i = 0; i < 4; ++i) flood.push_back(std::make_unique<raw_client>(https_port_));
  ASSERT_TRUE(proxy().wait_for_line(
      [](const json& j) { return j.value("event", "") == "overload" && j.value("state", "") == "on"; }, k_cap))
      << proxy().output();
  for (auto& c : flood) {
    const auto end = c->read_until_closed();
    EXPECT_TRUE(end.closed()) << end.ec.message();
    EXPECT_EQ(end.data, "") << "nothing is written before a handshake";
  }
  auto client = tls();
  ASSERT_TRUE(client->ok()) << client->handshake_error().message();
  ASSERT_FALSE(client->send(post(k_host, "hi")));
  const auto r = client->read_response();
  ASSERT_TRUE(r) << client->last_error().message();
  EXPECT_EQ(r->status, 200u);
}

}  // namespace
}  // namespace ignite::test
