// Clients that are slow or many on purpose, against the real proxy over raw sockets:
// heads and bodies trickled in, readers that never read, connection floods over
// max_connections, header names with underscores. Each case checks the answer the error
// table gives, that nothing reached the pod that should not, what the log line says, and
// that normal clients are still served.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "proxy_fixture.hpp"
#include "support/wait_until.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string h = std::string(k_host);

class hostile_clients : public proxy_fixture {
 protected:
  // The request line of the log, once written (lines are flushed within 50 ms).
  std::optional<json> request_line(const std::function<bool(const json&)>& pred) {
    return proxy().wait_for_line([&](const json& j) { return j.value("event", "") == "request" && pred(j); }, k_cap);
  }

  void expect_served() {
    const auto r = round_trip(post(k_host, "normal"));
    ASSERT_TRUE(r) << "a normal client got no answer";
    EXPECT_EQ(r->status, 200u);
  }
};

// Sends `bytes` one at a time, `gap` apart, until all are sent or the proxy has closed
// the connection (a send fails). Returns how many were sent. The gap paces the attack;
// it synchronises nothing.
std::size_t trickle(raw_client& client, std::string_view bytes, std::chrono::milliseconds gap) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (client.send(bytes.substr(i, 1))) return i;
    std::this_thread::sleep_for(gap);
  }
  return bytes.size();
}

// --- slowloris: heads and bodies trickled in ------------------------------------------

TEST_F(hostile_clients, a_head_trickled_in_gets_408_within_client_header_timeout_of_its_start) {
  start_proxy(greeter_config({{"client_header_timeout_ms", 300}}));
  auto client = connect();
  // 100 bytes, each 40 ms after the last: every read makes progress, 4 s in all, yet the
  // head has 300 ms from its first byte.
  const std::string head = "POST / HTTP/1.1\r\nHost: " + h + "\r\nX-Slow: " + std::string(100, 'a');
  EXPECT_LT(trickle(*client, head, 40ms), head.size()) << "the proxy took the whole trickle";
  expect_proxy_error(client->read_response(), 408, "request_timeout");
  EXPECT_EQ(pod_.request_count(), 0u);
  expect_served();
}

TEST_F(hostile_clients, a_body_trickled_in_below_the_min_rate_gets_408) {
  start_proxy(greeter_config({{"client_header_timeout_ms", 300}, {"client_body_min_rate_bytes_per_s", 100}}));
  auto client = connect();
  ASSERT_FALSE(client->send("POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 200\r\n\r\n"));
  // 25 bytes a second, each read within 300 ms of the last: only the rate can stop it.
  EXPECT_LT(trickle(*client, std::string(200, 'b'), 40ms), 200u) << "the proxy took the whole trickle";
  const auto r = client->read_response();
  expect_proxy_error(r, 408, "request_timeout");
  ASSERT_TRUE(r);
  EXPECT_NE(json::parse(r->body)["error"]["message"].get<std::string>().find("client_body_min_rate_bytes_per_s"),
            std::string::npos)
      << r->body;
  EXPECT_EQ(pod_.request_count(), 0u);
  const auto line = request_line([](const json& j) { return j.value("status", 0) == 408; });
  ASSERT_TRUE(line) << proxy().output();
  EXPECT_EQ(line->value("error", ""), "request_timeout");
  EXPECT_EQ(line->value("error_source", ""), "client");
  expect_served();
}

TEST_F(hostile_clients, with_no_min_rate_a_slow_body_that_keeps_moving_is_forwarded) {
  // The same trickle, shorter, with the rate switched off: the per-read rule alone lets
  // it through, which is what makes the test above depend on the rate.
  start_proxy(greeter_config({{"client_header_timeout_ms", 300}, {"client_body_min_rate_bytes_per_s", 0}}));
  auto client = connect();
  ASSERT_FALSE(client->send("POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 15\r\n\r\n"));
  EXPECT_EQ(trickle(*client, std::string(15, 'b'), 40ms), 15u);
  const auto r = client->read_response();
  ASSERT_TRUE(r) << client->last_error().message();
  EXPECT_EQ(r->status, 200u);
  ASSERT_EQ(pod_.request_count(), 1u);
  EXPECT_EQ(pod_.requests()[0].body, std::string(15, 'b'));
}

TEST_F(hostile_clients, a_body_at_the_min_rate_is_forwarded) {
  // 4 KiB in 16 writes 40 ms apart (about 6 KiB/s): well above 1000 B/s.
  start_proxy(greeter_config({{"client_header_timeout_ms", 300}, {"client_body_min_rate_bytes_per_s", 1000}}));
  auto client = connect();
  ASSERT_FALSE(client->send("POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 4096\r\n\r\n"));
  for (int i = 0; i < 16; ++i) {
    ASSERT_FALSE(client->send(std::string(256, 'c')));
    std::this_thread::sleep_for(40ms);
  }
  const auto r = client->read_response();
  ASSERT_TRUE(r) << client->last_error().message();
  EXPECT_EQ(r->status, 200u);
}

// --- slow readers ------------------------------------------------------------------------

TEST_F(hostile_clients, a_client_that_never_reads_frees_its_connection_and_the_pods) {
  pod_.reply_with(pod_reply::text(std::string(32 << 20, 'z')));
  start_proxy(greeter_config({{"client_send_timeout_ms", 300}}));
  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, "give me a lot")));
  // Nothing is read: the answer fills the socket buffers and the proxy's writes stall.
  const auto line = request_line([](const json& j) { return j.contains("cut_cause"); });
  ASSERT_TRUE(line) << "no cut-off request logged within the cap";
  EXPECT_EQ(line->value("status", 0), 200) << "the status the client was given";
  EXPECT_EQ(line->value("cut", false), true);
  EXPECT_EQ(line->value("cut_cause", ""), "client_send_timeout");
  EXPECT_EQ(line->value("error", ""), "client_closed");
  // The pod's connection is closed too, never pooled half-read.
  ASSERT_EQ(pod_.request_count(), 1u);
  const auto upstream = pod_.requests()[0].connection;
  EXPECT_TRUE(wait_until([&] { return pod_.connection_closed(upstream); }, k_cap))
      << "the pod connection outlived the client";
  // The client connection is closed: what arrived is a cut-off answer.
  const auto end = client->read_until_closed();
  EXPECT_TRUE(end.closed()) << end.ec.message();
  EXPECT_LT(end.data.size(), std::size_t{32 << 20});

  pod_.reply_with(pod_reply::text("small"));
  const auto r = round_trip(post(k_host, "next"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "small");
  EXPECT_EQ(pod_.requests().back().connection == upstream, false) << "a fresh pod connection";
}

// The send timeout is per write: a client that keeps reading gets all of a long answer
// (12 MiB: over Beast's own 8 MiB body limit too, which the relay does not use).
TEST_F(hostile_clients, a_client_that_keeps_reading_gets_the_whole_answer) {
  pod_.reply_with(pod_reply::text(std::string(12 << 20, 'y')));
  start_proxy(greeter_config({{"client_send_timeout_ms", 1000}}));
  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, "hi")));
  const auto r = client->read_response();
  ASSERT_TRUE(r) << client->last_error().message();
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body.size(), std::size_t{12 << 20});
}

// --- cut-off answers in the log ----------------------------------------------------------

TEST_F(hostile_clients, a_pod_dying_mid_answer_is_logged_as_cut_with_its_cause) {
  pod_reply dies = pod_reply::of(pod_reply::action::garbage);
  dies.garbage = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-part";
  pod_.reply_with(dies);
  start_proxy();
  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, "hi")));
  EXPECT_FALSE(client->read_response().has_value()) << "a cut answer must not look complete";
  const auto line = request_line([](const json& j) { return j.contains("cut"); });
  ASSERT_TRUE(line) << proxy().output();
  EXPECT_EQ(line->value("status", 0), 200);
  EXPECT_EQ(line->value("error", ""), "upstream_error");
  EXPECT_EQ(line->value("cut_cause", ""), "pod_failed");
}

TEST_F(hostile_clients, an_answer_cut_at_request_timeout_is_logged_as_cut_with_its_cause) {
  auto hold = std::make_shared<gate>();
  pod_reply stream;
  stream.chunks = {"first-part", "never-sent-in-time"};
  stream.after_first_chunk = hold;
  pod_.reply_with(stream);
  start_proxy(greeter_config({{"request_timeout_ms", 300}}));
  auto client = connect();
  ASSERT_FALSE(client->send(post(k_host, "hi")));
  ASSERT_TRUE(client->read_until("first-part")) << client->last_error().message();
  const auto line = request_line([](const json& j) { return j.contains("cut"); });
  ASSERT_TRUE(line) << proxy().output();
  EXPECT_EQ(line->value("status", 0), 200);
  EXPECT_EQ(line->value("error", ""), "upstream_timeout");
  EXPECT_EQ(line->value("cut_cause", ""), "request_timeout");
  hold->open();
}

// --- underscores in header names ----------------------------------------------------------

TEST_F(hostile_clients, header_names_with_underscores_never_reach_the_pod) {
  start_proxy();
  const auto r = round_trip(post(k_host, "hi",
                                 "X_Ignite_Org: evil\r\nX_Forwarded_Proto: https\r\nTransfer_Encoding: chunked\r\n"
                                 "X_Forwarded_For: 6.6.6.6\r\nMy_Header: 1\r\nX-Kept: yes\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  ASSERT_EQ(pod_.request_count(), 1u);
  const auto got = pod_.requests()[0];
  for (const auto& f : got.headers.fields())
    EXPECT_EQ(f.first.find('_'), std::string::npos) << f.first << " reached the pod";
  EXPECT_EQ(got.headers.get("X-Kept").value_or(""), "yes");
  EXPECT_EQ(got.headers.get("x-ignite-org").value_or(""), "acme-corp");
  EXPECT_EQ(got.headers.get("X-Forwarded-Proto").value_or(""), "http");
  EXPECT_EQ(got.headers.get("X-Forwarded-For").value_or(""), "127.0.0.1");
  EXPECT_EQ(got.body, "hi");
}

// --- connection floods over max_connections ----------------------------------------------

// Connections that send nothing fill every slot; a normal client still gets in, because
// the oldest idle connection makes room, and the rest of the flood is closed within the
// overload wait instead of client_header_timeout (10 s here).
TEST_F(hostile_clients, a_flood_of_idle_connections_yields_to_a_normal_client) {
  start_proxy(greeter_config({{"max_connections", 10}, {"client_header_timeout_ms", 10000}}));
  std::vector<std::unique_ptr<raw_client>> flood;
  for (int i = 0; i < 10; ++i) flood.push_back(connect());
  ASSERT_TRUE(proxy().wait_for_line(
      [](const json& j) { return j.value("event", "") == "overload" && j.value("state", "") == "on"; }, k_cap))
      << proxy().output();

  expect_served();
  // The oldest was the one closed for it, without a word.
  const auto oldest = flood.front()->read_until_closed();
  EXPECT_TRUE(oldest.closed()) << oldest.ec.message();
  EXPECT_EQ(oldest.data, "");
  // The others get the overload wait (1 s), not 10 s: all gone within the 5 s cap.
  for (std::size_t i = 1; i < flood.size(); ++i) {
    const auto end = flood[i]->read_until_closed();
    EXPECT_TRUE(end.closed()) << "flood connection " << i << ": " << end.ec.message();
  }
  ASSERT_TRUE(proxy().wait_for_line(
      [](const json& j) { return j.value("event", "") == "overload" && j.value("state", "") == "off"; }, k_cap))
      << proxy().output();
  EXPECT_EQ(pod_.request_count(), 1u);
  for (int i = 0; i < 10; ++i) expect_served();
}

// Every slot holds a request in progress: nothing is idle to close, so a new connection
// gets a fast 503 overloaded, and is served again once the slots free up.
TEST_F(hostile_clients, over_max_connections_with_nothing_idle_a_new_client_gets_a_fast_503) {
  auto hold = std::make_shared<gate>();
  pod_reply held = pod_reply::text("released");
  held.hold = hold;
  pod_.reply_with(held);
  start_proxy(greeter_config({{"max_connections", 4}}));
  std::vector<std::unique_ptr<raw_client>> busy;
  for (int i = 0; i < 4; ++i) {
    busy.push_back(connect());
    ASSERT_FALSE(busy.back()->send(post(k_host, "busy")));
  }
  ASSERT_TRUE(pod_.wait_for_requests(4, k_cap));

  auto extra = connect();
  extra->send(post(k_host, "one too many"));  // may race the proxy's close
  const auto r = extra->read_response();
  expect_proxy_error(r, 503, "overloaded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->headers.get("Retry-After").value_or(""), "1");
  EXPECT_FALSE(r->keep_alive);
  EXPECT_TRUE(extra->read_until_closed().closed());
  EXPECT_EQ(pod_.request_count(), 4u) << "the refused request never reached the pod";

  hold->open();
  for (auto& c : busy) {
    const auto done = c->read_response();
    ASSERT_TRUE(done) << c->last_error().message();
    EXPECT_EQ(done->status, 200u);
  }
  busy.clear();
  pod_.reply_with(pod_reply::text("normal"));
  EXPECT_TRUE(wait_until(
      [&] {
        const auto again = round_trip(post(k_host, "again"));
        return again && again->status == 200;
      },
      k_cap))
      << "the proxy did not recover after the flood";
}

// Keep-alive connections between requests are idle too: under overload the one idle
// longest is closed first, and the connection that just made a request keeps its slot.
TEST_F(hostile_clients, under_overload_idle_keep_alive_connections_close_oldest_first) {
  start_proxy(greeter_config({{"max_connections", 3}, {"client_idle_timeout_ms", 60000}}));
  auto older = connect();
  auto newer = connect();
  for (auto* c : {older.get(), newer.get()}) {
    ASSERT_FALSE(c->send(post(k_host, "hi")));
    const auto r = c->read_response();
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->keep_alive);
  }
  // The third connection reaches 90% (3 of 3): the oldest idle one makes room.
  expect_served();
  const auto end = older->read_until_closed();
  EXPECT_TRUE(end.closed()) << end.ec.message();
  ASSERT_FALSE(newer->send(post(k_host, "still here")));
  const auto r = newer->read_response();
  ASSERT_TRUE(r) << newer->last_error().message();
  EXPECT_EQ(r->status, 200u);
}

}  // namespace
}  // namespace ignite::test
