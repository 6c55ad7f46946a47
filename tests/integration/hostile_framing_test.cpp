// Framing a client or a pod can use to crash the proxy or make it hold unbounded memory:
// oversized and malformed trailers, chunk extensions, fields around Beast's 65533-byte
// field limit. Every case checks the answer, that nothing smuggled reaches the pod, and
// that the process is alive and still serving another client afterwards.
#include <signal.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <boost/beast/http/error.hpp>

#include "proxy_fixture.hpp"

namespace ignite::test {
namespace {

using nlohmann::json;
using namespace std::string_literals;

const std::string h = std::string(k_host);
const std::string k_chunked_head = "POST / HTTP/1.1\r\nHost: " + h + "\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string good_request() { return post(k_host, "hi"); }

// Resident memory of a process, in KiB.
long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

class hostile_framing : public proxy_fixture {
 protected:
  // The process is alive, serves a fresh client, and never hit its fault handler.
  void expect_still_serving() {
    ASSERT_EQ(::kill(proxy().pid(), 0), 0) << "the proxy process is gone";
    pod_.reply_with(pod_reply::text("still-here"));
    const auto r = round_trip(good_request());
    ASSERT_TRUE(r) << "no answer for a normal client afterwards";
    EXPECT_EQ(r->status, 200u);
    EXPECT_EQ(r->body, "still-here");
    EXPECT_EQ(proxy().output().find("_fault"), std::string::npos) << "an exception reached a fault handler";
  }

  // `raw` alone on a connection, then after a good request on the same connection.
  void expect_refused(const std::string& raw, unsigned status, std::string_view code) {
    {
      SCOPED_TRACE("plain");
      auto client = connect();
      client->send(raw);  // may fail part-way: the proxy answers and closes early
      expect_proxy_error(client->read_response(), status, code);
      EXPECT_TRUE(client->read_until_closed().closed());
    }
    {
      SCOPED_TRACE("pipelined after a good request");
      auto client = connect();
      client->send(good_request() + raw);
      auto first = client->read_response();
      ASSERT_TRUE(first) << client->last_error().message();
      EXPECT_EQ(first->status, 200u);
      expect_proxy_error(client->read_response(), status, code);
      EXPECT_TRUE(client->read_until_closed().closed());
    }
    expect_still_serving();
  }
};

// --- from a client ---------------------------------------------------------------------

TEST_F(hostile_framing, trailer_value_of_65534_bytes_is_431) {
  start_proxy();
  expect_refused(k_chunked_head + "0\r\nX: " + std::string(65534, 'a') + "\r\n\r\n", 431, "headers_too_large");
  EXPECT_EQ(pod_.request_count(), 2u) << "only the good request and the liveness check reach the pod";
}

TEST_F(hostile_framing, trailer_name_of_65534_bytes_is_431) {
  start_proxy();
  expect_refused(k_chunked_head + "0\r\n" + std::string(65534, 'a') + ": x\r\n\r\n", 431, "headers_too_large");
}

TEST_F(hostile_framing, trailer_of_16384_bytes_counts_against_max_header_bytes) {
  start_proxy();
  expect_refused(k_chunked_head + "0\r\nX: " + std::string(16384, 'a') + "\r\n\r\n", 431, "headers_too_large");
}

TEST_F(hostile_framing, with_a_large_header_limit_trailers_of_65534_bytes_are_still_refused) {
  start_proxy(greeter_config({{"max_header_bytes", 1 << 20}}));
  expect_refused(k_chunked_head + "0\r\nX: " + std::string(65534, 'a') + "\r\n\r\n", 431, "headers_too_large");
  expect_refused(k_chunked_head + "0\r\n" + std::string(65534, 'a') + ": x\r\n\r\n", 431, "headers_too_large");
}

TEST_F(hostile_framing, with_a_large_header_limit_a_trailer_of_65533_bytes_is_dropped_not_forwarded) {
  start_proxy(greeter_config({{"max_header_bytes", 1 << 20}}));
  const auto r = round_trip(k_chunked_head + "2\r\nhi\r\n0\r\nX-Big: " + std::string(65533, 'a') + "\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  ASSERT_EQ(pod_.request_count(), 1u);
  EXPECT_EQ(pod_.requests()[0].body, "hi");
  EXPECT_FALSE(pod_.requests()[0].headers.get("X-Big").has_value());
  expect_still_serving();
}

TEST_F(hostile_framing, head_fields_around_65533_bytes) {
  start_proxy(greeter_config({{"max_header_bytes", 1 << 20}}));
  auto with_field = [](std::string field) { return post(k_host, "hi", field + "\r\n"); };
  const auto ok = round_trip(with_field("X-Big: " + std::string(65533, 'a')));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200u);
  ASSERT_EQ(pod_.request_count(), 1u);
  EXPECT_EQ(pod_.requests()[0].headers.get("X-Big").value_or("").size(), 65533u);
  expect_refused(with_field("X-Big: " + std::string(65534, 'a')), 431, "headers_too_large");
  expect_refused(with_field(std::string(65534, 'n') + ": v"), 431, "headers_too_large");
}

TEST_F(hostile_framing, head_field_of_16384_bytes_is_431_at_the_default_limit) {
  start_proxy();
  expect_refused(post(k_host, "hi", "X-Big: " + std::string(16384, 'a') + "\r\n"), 431, "headers_too_large");
}

TEST_F(hostile_framing, trailers_never_become_header_fields) {
  start_proxy();
  for (const char* trailer :
       {"Authorization: Bearer smuggled", "Cookie: session=stolen", "X-Forwarded-For: 6.6.6.6", "x-ignite-org: evil"}) {
    SCOPED_TRACE(trailer);
    const auto before = pod_.request_count();
    const auto r = round_trip(k_chunked_head + "2\r\nhi\r\n0\r\n" + trailer + "\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200u);
    ASSERT_EQ(pod_.request_count(), before + 1);
    const auto got = pod_.requests().back();
    EXPECT_EQ(got.body, "hi");
    EXPECT_FALSE(got.headers.get("Authorization").has_value());
    EXPECT_FALSE(got.headers.get("Cookie").has_value());
    EXPECT_EQ(got.headers.get("X-Forwarded-For").value_or(""), "127.0.0.1");
    EXPECT_EQ(got.headers.get("x-ignite-org").value_or(""), "acme-corp");
  }
  expect_still_serving();
}

TEST_F(hostile_framing, folded_or_malformed_trailers_are_400) {
  start_proxy();
  expect_refused(k_chunked_head + "2\r\nhi\r\n0\r\nX-A: b\r\n c\r\n\r\n", 400, "bad_request");
  expect_refused(k_chunked_head + "2\r\nhi\r\n0\r\nX-A: b\n\r\n", 400, "bad_request");
  expect_refused(k_chunked_head + "2\r\nhi\r\n0\r\nX-A : b\r\n\r\n", 400, "bad_request");
  expect_refused(k_chunked_head + "2\r\nhi\r\n0\r\nX-A: \0\r\n\r\n"s, 400, "bad_request");
  EXPECT_EQ(pod_.request_count(), 8u) << "only the good requests and the liveness checks reach the pod";
}

TEST_F(hostile_framing, more_than_100_fields_counting_trailers_is_431) {
  start_proxy();
  std::string trailers;
  for (int i = 0; i < 1000; ++i) trailers += "X-" + std::to_string(i) + ": y\r\n";
  expect_refused(k_chunked_head + "0\r\n" + trailers + "\r\n", 431, "headers_too_large");
  // Head (3 fields) + 97 trailer fields is exactly 100: accepted.
  std::string fits;
  for (int i = 0; i < 97; ++i) fits += "X-" + std::to_string(i) + ": y\r\n";
  const auto r = round_trip(k_chunked_head + "0\r\n" + fits + "\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
}

TEST_F(hostile_framing, a_huge_chunk_extension_is_400_without_buffering_it) {
  start_proxy();
  const long before = rss_kib(proxy().pid());
  auto client = connect();
  client->send(k_chunked_head + "2;" + std::string(8 << 20, 'e'));
  expect_proxy_error(client->read_response(), 400, "bad_request");
  EXPECT_LT(rss_kib(proxy().pid()) - before, 4096) << "the extension was buffered";
  client.reset();
  expect_refused(k_chunked_head + "2;" + std::string(5000, 'e') + "\r\nhi\r\n0\r\n\r\n", 400, "bad_request");
}

TEST_F(hostile_framing, an_unterminated_trailer_is_cut_off_at_the_limit) {
  start_proxy();
  const long before = rss_kib(proxy().pid());
  auto client = connect();
  client->send(k_chunked_head + "0\r\nX: " + std::string(8 << 20, 'a'));
  expect_proxy_error(client->read_response(), 431, "headers_too_large");
  EXPECT_LT(rss_kib(proxy().pid()) - before, 4096) << "the trailer was buffered";
  client.reset();
  expect_still_serving();
}

TEST_F(hostile_framing, the_body_limit_counts_chunk_framing) {
  start_proxy(greeter_config({{"max_body_bytes", 100}}));
  std::string one_byte_chunks;
  for (int i = 0; i < 30; ++i) one_byte_chunks += "1\r\nx\r\n";  // 30 body bytes, 180 on the wire
  expect_refused(k_chunked_head + one_byte_chunks + "0\r\n\r\n", 413, "payload_too_large");
  const auto r = round_trip(k_chunked_head + "1e\r\n" + std::string(30, 'x') + "\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u) << "the same 30 bytes in one chunk fit";
}

TEST_F(hostile_framing, nul_or_control_bytes_in_the_head_are_400) {
  start_proxy();
  expect_refused(post(k_host, "hi", "X-A: a\0b\r\n"s), 400, "bad_request");
  expect_refused(post(k_host, "hi",
                      "X-A: a\x01"
                      "b\r\n"),
                 400, "bad_request");
}

// --- from a pod ------------------------------------------------------------------------

// The answer started but the connection ended before it was complete.
void expect_cut_off(raw_client& client) {
  EXPECT_FALSE(client.read_response().has_value());
  EXPECT_EQ(client.last_error(), boost::beast::http::error::partial_message) << client.last_error().message();
}

std::string chunked_answer(std::string_view rest) {
  return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(rest);
}

TEST_F(hostile_framing, a_pod_trailer_of_65534_bytes_cuts_the_answer_and_the_proxy_lives) {
  for (std::size_t size : {std::size_t{16384}, std::size_t{65533}, std::size_t{65534}}) {
    SCOPED_TRACE(size);
    pod_reply evil = pod_reply::of(pod_reply::action::garbage);
    evil.garbage = chunked_answer("2\r\nok\r\n0\r\nX: " + std::string(size, 'a') + "\r\n\r\n");
    pod_.reply_with(evil);
    if (!proxy_) start_proxy();
    auto client = connect();
    ASSERT_FALSE(client->send(good_request()));
    // The head and the first chunk are out before the trailer shows: the client is cut
    // off and never sees a complete-looking answer.
    expect_cut_off(*client);
    expect_still_serving();
  }
}

TEST_F(hostile_framing, a_pod_trailer_is_dropped_and_the_answer_completes) {
  pod_reply reply = pod_reply::of(pod_reply::action::garbage);
  // The pod closes after writing: it says so, or the proxy could reuse the connection.
  reply.garbage =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "2\r\nok\r\n0\r\nX-Pod-Trailer: y\r\n\r\n";
  pod_.reply_with(reply);
  start_proxy();
  const auto r = round_trip(good_request());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "ok");
  EXPECT_FALSE(r->headers.get("X-Pod-Trailer").has_value());
  expect_still_serving();
}

TEST_F(hostile_framing, a_malformed_chunk_from_a_pod_before_any_byte_went_out_is_502) {
  for (const char* body : {"zz\r\nok\r\n0\r\n\r\n", "2\nok\r\n0\r\n\r\n", "2\r\nokXX0\r\n\r\n"}) {
    SCOPED_TRACE(body);
    pod_reply evil = pod_reply::of(pod_reply::action::garbage);
    evil.garbage = chunked_answer(body);
    pod_.reply_with(evil);
    if (!proxy_) start_proxy();
    // The whole answer arrives in one read, so the error shows before the head is sent.
    expect_proxy_error(round_trip(good_request()), 502, "upstream_error");
    expect_still_serving();
  }
}

TEST_F(hostile_framing, a_pod_chunk_line_over_the_bound_cuts_the_answer) {
  pod_reply evil = pod_reply::of(pod_reply::action::garbage);
  evil.garbage = chunked_answer("2;" + std::string(100000, 'e') + "\r\nok\r\n0\r\n\r\n");
  pod_.reply_with(evil);
  start_proxy();
  auto client = connect();
  ASSERT_FALSE(client->send(good_request()));
  expect_cut_off(*client);
  expect_still_serving();
}

}  // namespace
}  // namespace ignite::test
