// http_session, in process: a real worker accepts real loopback connections in front of
// a fake pod. Plain TCP and TLS go through the same session code; the TLS cases check
// that bytes already inside the TLS layer are served and that an idle TLS connection
// wakes up for its next request.
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include "support/fake_pod.hpp"
#include "support/raw_client.hpp"
#include "support/wait_until.hpp"
#include "unit/proxy/worker_harness.hpp"

namespace ignite::proxy::testing {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr auto k_cap = 5s;

std::string post(std::string_view body, std::string_view extra = "") {
  return "POST / HTTP/1.1\r\nHost: " + std::string(k_host) + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + std::string(extra) + "\r\n" + std::string(body);
}

class http_session_test : public ::testing::Test {
 protected:
  void start(json limits = json::object()) { h_ = std::make_unique<worker_harness>(pod_.endpoint(), limits); }
  std::unique_ptr<test::raw_client> connect() { return std::make_unique<test::raw_client>(h_->port()); }

  test::fake_pod pod_{"pod"};
  std::unique_ptr<worker_harness> h_;
};

TEST_F(http_session_test, serves_requests_on_one_keep_alive_connection) {
  start();
  auto client = connect();
  for (int i = 0; i < 3; ++i) {
    ASSERT_FALSE(client->send(post("hi")));
    auto r = client->read_response();
    ASSERT_TRUE(r) << client->last_error().message();
    EXPECT_EQ(r->status, 200u);
    EXPECT_EQ(r->body, "pod");
    EXPECT_TRUE(r->keep_alive);
  }
  EXPECT_EQ(pod_.request_count(), 3u);
  EXPECT_EQ(pod_.connections_with_requests(), 1u) << "the upstream connection is reused too";
}

TEST_F(http_session_test, pipelined_requests_in_one_write_are_answered_in_order) {
  pod_.set_handler([](const test::recorded_request& req) { return test::pod_reply::text("echo:" + req.body); });
  start();
  auto client = connect();
  ASSERT_FALSE(client->send(post("one") + post("two") + post("three")));
  for (const char* expected : {"echo:one", "echo:two", "echo:three"}) {
    auto r = client->read_response();
    ASSERT_TRUE(r) << expected;
    EXPECT_EQ(r->body, expected);
  }
}

TEST_F(http_session_test, a_session_is_gone_once_its_client_closes) {
  start();
  {
    auto client = connect();
    ASSERT_FALSE(client->send(post("hi")));
    ASSERT_TRUE(client->read_response());
    EXPECT_EQ(h_->connections(), 1u);
  }
  EXPECT_TRUE(test::wait_until([&] { return h_->connections() == 0; }, k_cap)) << "the session outlived its connection";
}

TEST_F(http_session_test, an_idle_keep_alive_connection_is_closed_after_client_idle_timeout) {
  start({{"client_idle_timeout_ms", 150}});
  auto client = connect();
  ASSERT_FALSE(client->send(post("hi")));
  ASSERT_TRUE(client->read_response());
  auto end = client->read_until_closed();
  EXPECT_TRUE(end.closed()) << end.ec.message();
  EXPECT_EQ(end.data, "");
  EXPECT_TRUE(test::wait_until([&] { return h_->connections() == 0; }, k_cap));
}

// Parked connections share one timer (parking_lot.hpp): a deadline parked later but due
// sooner must still be kept.
TEST_F(http_session_test, a_new_connection_times_out_before_an_older_idle_one_with_a_later_deadline) {
  start({{"client_header_timeout_ms", 200}, {"client_idle_timeout_ms", 60000}});
  auto older = connect();
  ASSERT_FALSE(older->send(post("first")));
  ASSERT_TRUE(older->read_response());
  auto fresh = connect();
  const auto end = fresh->read_until_closed();
  EXPECT_TRUE(end.closed()) << "the new connection outlived client_header_timeout: " << end.ec.message();
  ASSERT_FALSE(older->send(post("again")));
  const auto r = older->read_response();
  ASSERT_TRUE(r) << "the idle connection was closed with the new one: " << older->last_error().message();
  EXPECT_EQ(r->status, 200u);
}

// Between requests a plain connection keeps only its socket in the parking lot; no session
// (object, timer, timer wait) stays with it, and the next request is served as before.
TEST_F(http_session_test, a_plain_connection_between_requests_is_parked_without_its_session) {
  start({{"client_idle_timeout_ms", 60000}});
  auto client = connect();
  for (int i = 0; i < 2; ++i) {
    ASSERT_FALSE(client->send(post("hi")));
    auto r = client->read_response();
    ASSERT_TRUE(r) << client->last_error().message();
    EXPECT_EQ(r->body, "pod");
    std::size_t parked = 0;
    EXPECT_TRUE(test::wait_until(
        [&] {
          h_->on_worker_thread([&] { parked = h_->worker().parking().size(); });
          return parked == 1;
        },
        k_cap))
        << "parked: " << parked;
    EXPECT_EQ(h_->connections(), 1u);
  }
}

TEST_F(http_session_test, a_connection_that_sends_nothing_is_closed_after_client_header_timeout) {
  start({{"client_header_timeout_ms", 150}});
  auto client = connect();
  auto end = client->read_until_closed();
  EXPECT_TRUE(end.closed()) << end.ec.message();
  EXPECT_EQ(end.data, "") << "nothing was asked, nothing is answered";
}

TEST_F(http_session_test, a_head_that_stops_halfway_gets_408) {
  start({{"client_header_timeout_ms", 150}});
  auto client = connect();
  ASSERT_FALSE(client->send("POST / HTTP/1.1\r\nHost: " + std::string(k_host) + "\r\n"));
  auto r = client->read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408u);
  EXPECT_FALSE(r->keep_alive);
}

TEST_F(http_session_test, a_body_that_stops_moving_gets_408) {
  start({{"client_header_timeout_ms", 150}});
  auto client = connect();
  ASSERT_FALSE(client->send("POST / HTTP/1.1\r\nHost: " + std::string(k_host) + "\r\nContent-Length: 10\r\n\r\nabc"));
  auto r = client->read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408u);
  EXPECT_EQ(pod_.request_count(), 0u);
  // A stalled read, not a slow body: counted with the other 408s.
  const auto& stats = h_->worker().stats();
  EXPECT_TRUE(test::wait_until(
      [&] { return stats.errors[static_cast<std::size_t>(proxy_error::request_timeout)].load() == 1; }, k_cap));
  EXPECT_EQ(stats.body_min_rate_timeouts.load(), 0u);
}

TEST_F(http_session_test, header_fields_with_underscores_are_dropped_and_counted) {
  start();
  auto client = connect();
  ASSERT_FALSE(client->send(post("hi", "X_Ignite_Org: evil\r\nTransfer_Encoding: chunked\r\nX-Kept: 1\r\n")));
  auto r = client->read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  ASSERT_EQ(pod_.request_count(), 1u);
  const auto got = pod_.requests()[0];
  EXPECT_FALSE(got.headers.has("X_Ignite_Org"));
  EXPECT_FALSE(got.headers.has("Transfer_Encoding"));
  EXPECT_TRUE(got.headers.has("X-Kept"));
  EXPECT_EQ(h_->worker().stats().underscore_fields_dropped.load(), 2u);
}

// The overload manager, counted: an idle connection closed to make room, then a fast
// 503 once nothing idle is left; and the session it closed is gone.
TEST_F(http_session_test, the_overload_manager_counts_what_it_closes_and_refuses) {
  auto release = std::make_shared<test::gate>();
  test::pod_reply held = test::pod_reply::text("done");
  held.hold = release;
  pod_.reply_with(held);
  start({{"max_connections", 2}});
  auto idle = connect();
  ASSERT_TRUE(test::wait_until([&] { return h_->connections() == 1; }, k_cap));
  auto busy = connect();  // 2 of 2: overloaded; the idle one makes room
  ASSERT_TRUE(test::wait_until([&] { return h_->worker().stats().connections_evicted.load() == 1; }, k_cap));
  EXPECT_TRUE(idle->read_until_closed().closed());
  EXPECT_TRUE(test::wait_until([&] { return h_->connections() == 1; }, k_cap)) << "the evicted session lives on";
  ASSERT_FALSE(busy->send(post("hold")));
  ASSERT_TRUE(pod_.wait_for_requests(1, k_cap));
  auto second_busy = connect();  // nothing idle: admitted up to the limit
  ASSERT_FALSE(second_busy->send(post("hold")));
  ASSERT_TRUE(pod_.wait_for_requests(2, k_cap));
  auto refused = connect();
  auto r = refused->read_response();
  ASSERT_TRUE(r) << refused->last_error().message();
  EXPECT_EQ(r->status, 503u);
  EXPECT_EQ(h_->worker().stats().connections_rejected.load(), 1u);
  // On at 2 of 2, off once the idle one was gone (1 of 2), on again with second_busy.
  EXPECT_EQ(h_->worker().stats().overload_episodes.load(), 2u);
  release->open();
  EXPECT_TRUE(busy->read_response());
  EXPECT_TRUE(second_busy->read_response());
}

TEST_F(http_session_test, drain_closes_idle_connections_and_lets_a_request_in_flight_finish) {
  auto release = std::make_shared<test::gate>();
  test::pod_reply slow = test::pod_reply::text("done");
  slow.hold = release;
  pod_.reply_with(slow);
  start();
  auto idle = connect();
  ASSERT_FALSE(idle->send(post("warm")));
  release->open();
  ASSERT_TRUE(idle->read_response());

  auto held = std::make_shared<test::gate>();
  slow.hold = held;
  pod_.reply_with(slow);
  auto busy = connect();
  ASSERT_FALSE(busy->send(post("slow")));
  ASSERT_TRUE(pod_.wait_for_requests(2, k_cap));
  h_->worker().begin_drain();
  EXPECT_TRUE(idle->read_until_closed().closed()) << "an idle connection is closed at once";
  held->open();
  auto r = busy->read_response();
  ASSERT_TRUE(r) << "the request in flight finishes";
  EXPECT_EQ(r->body, "done");
  EXPECT_FALSE(r->keep_alive) << "and its answer says the connection closes";
}

TEST_F(http_session_test, stopping_the_worker_aborts_a_request_in_flight) {
  auto never = std::make_shared<test::gate>();
  test::pod_reply stuck = test::pod_reply::text("late");
  stuck.hold = never;
  pod_.reply_with(stuck);
  start();
  auto client = connect();
  ASSERT_FALSE(client->send(post("hi")));
  ASSERT_TRUE(pod_.wait_for_requests(1, k_cap));
  h_->worker().stop();
  EXPECT_TRUE(client->read_until_closed().closed());
  EXPECT_TRUE(test::wait_until([&] { return h_->connections() == 0; }, k_cap));
  never->open();
}

// ---- over TLS ---------------------------------------------------------------------------

// A blocking TLS client with a receive timeout, so a failing test cannot hang.
class tls_client {
 public:
  tls_client(std::uint16_t port, net::ssl::context& ctx) : stream_(ioc_, ctx) {
    stream_.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    timeval tv{5, 0};
    ::setsockopt(stream_.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(stream_.next_layer().native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    stream_.set_verify_mode(net::ssl::verify_none);
    stream_.handshake(net::ssl::stream_base::client);
  }
  // One TLS write: several requests in it arrive in one record.
  void send(const std::string& bytes) { net::write(stream_, net::buffer(bytes)); }
  http::response<http::string_body> read() {
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    return res;
  }

 private:
  net::io_context ioc_;
  net::ssl::stream<tcp::socket> stream_;
  boost::beast::flat_buffer buffer_;
};

class http_session_tls_test : public http_session_test {
 protected:
  void SetUp() override {
    auto cert = make_certificate(std::string(k_host));
    server_.use_certificate_chain(net::buffer(cert.cert_pem));
    server_.use_private_key(net::buffer(cert.key_pem), net::ssl::context::pem);
  }
  net::ssl::context server_{net::ssl::context::tls_server};
  net::ssl::context client_{net::ssl::context::tls_client};
};

TEST_F(http_session_tls_test, serves_a_request_over_tls_with_x_forwarded_proto_https) {
  start();
  tls_client client(h_->listen_tls(server_), client_);
  client.send(post("hi"));
  auto r = client.read();
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), "pod");
  ASSERT_EQ(pod_.request_count(), 1u);
  EXPECT_EQ(pod_.requests()[0].headers.get("X-Forwarded-Proto").value_or(""), "https");
}

TEST_F(http_session_tls_test, pipelined_requests_inside_one_tls_record_are_all_served) {
  pod_.set_handler([](const test::recorded_request& req) { return test::pod_reply::text("echo:" + req.body); });
  start();
  tls_client client(h_->listen_tls(server_), client_);
  // Both requests are decrypted together: the second sits in the session's buffer, not
  // on the socket, when the first is answered.
  client.send(post("one") + post("two"));
  EXPECT_EQ(client.read().body(), "echo:one");
  EXPECT_EQ(client.read().body(), "echo:two");
}

TEST_F(http_session_tls_test, an_idle_tls_connection_wakes_for_its_next_request) {
  start();
  tls_client client(h_->listen_tls(server_), client_);
  client.send(post("first"));
  EXPECT_EQ(client.read().result_int(), 200u);
  // The session is parked in its idle wait before the next request arrives.
  ASSERT_TRUE(pod_.wait_for_requests(1, k_cap));
  client.send(post("second"));
  EXPECT_EQ(client.read().result_int(), 200u);
  EXPECT_EQ(pod_.request_count(), 2u);
}

}  // namespace
}  // namespace ignite::proxy::testing
