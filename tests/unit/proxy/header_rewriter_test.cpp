// What crosses the proxy (DESIGN.md "What reaches the pod" / "What reaches the client"):
// the written heads are parsed back and checked field by field.
#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "proxy/header_rewriter.hpp"

namespace ignite::proxy {
namespace {

namespace http = boost::beast::http;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// A head as written: the start line and the fields in order, duplicates kept.
struct parsed_head {
  std::string start_line;
  std::vector<std::pair<std::string, std::string>> fields;

  std::vector<std::string> all(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [n, v] : fields)
      if (lower(n) == lower(name)) out.push_back(v);
    return out;
  }
  std::size_t count(std::string_view name) const { return all(name).size(); }
  std::optional<std::string> get(std::string_view name) const {
    auto v = all(name);
    if (v.empty()) return std::nullopt;
    return v.front();
  }
  std::vector<std::string> names_with_prefix(std::string_view prefix) const {
    std::vector<std::string> out;
    for (const auto& [n, v] : fields)
      if (lower(n).rfind(lower(prefix), 0) == 0) out.push_back(lower(n));
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string dump() const {
    std::string out = start_line + "\n";
    for (const auto& [n, v] : fields) out += n + ": " + v + "\n";
    return out;
  }
};

// Splits `text` strictly: CRLF line ends, "name: value" fields, one blank line at the very end.
parsed_head parse_head(std::string_view text) {
  parsed_head head;
  EXPECT_GE(text.size(), 4u);
  EXPECT_EQ(text.substr(text.size() - 4), "\r\n\r\n") << "head must end in a blank line";
  bool first = true;
  while (!text.empty()) {
    auto end = text.find("\r\n");
    if (end == std::string_view::npos) {
      ADD_FAILURE() << "line without CRLF: " << text;
      break;
    }
    auto line = text.substr(0, end);
    text.remove_prefix(end + 2);
    EXPECT_EQ(line.find_first_of("\r\n"), std::string_view::npos) << "bare CR/LF in: " << line;
    if (first) {
      head.start_line = std::string(line);
      first = false;
      continue;
    }
    if (line.empty()) {
      EXPECT_TRUE(text.empty()) << "bytes after the blank line: " << text;
      break;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      ADD_FAILURE() << "malformed field: " << line;
      continue;
    }
    auto name = line.substr(0, colon);
    auto value = line.substr(colon + 1);
    EXPECT_EQ(name.find_first_of(" \t"), std::string_view::npos) << "whitespace in name: " << line;
    EXPECT_TRUE(value.starts_with(" ")) << line;
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    head.fields.emplace_back(std::string(name), std::string(value));
  }
  return head;
}

struct upstream_case {
  std::string execution_id = "01HZX3Q9M7K2B5N8R4T6V0W1YA";
  std::string host = "greeter-acme-corp.ignite.dodil.cloud";
  std::string client_ip = "5.6.7.9";

  forward_facts facts() const {
    forward_facts f;
    f.execution_id = execution_id;
    f.app_id = "acme-corp:greeter";
    f.org = "acme-corp";
    f.app = "greeter";
    f.version = "3";
    f.source = "public";
    f.cold_start = true;
    f.deadline_unix_ms = 1700000000123;
    f.host = host;
    f.client_ip = client_ip;
    f.proto = "http";
    f.query = "q";
    return f;
  }
};

// Every kind of header a hostile or sloppy client can send.
http::fields hostile_client_fields() {
  http::fields f;
  f.insert("Host", "greeter-acme-corp.ignite.dodil.cloud:8080");
  f.insert("Content-Type", "application/json");
  f.insert("Authorization", "Bearer secret-token");
  f.insert("Accept", "*/*");
  f.insert("X-Ignite-App", "spoofed-app");
  f.insert("x-ignite-execution-id", "01ARZ3NDEKTSV4RRFFQ69G5FAV");
  f.insert("X-IGNITE-COLD-START", "spoofed");
  f.insert("x-ignite-error", "spoofed");
  f.insert("X-Ignite-Custom", "spoofed");
  f.insert("Connection", "close");
  f.insert("Connection", "keep-alive, X-Foo");
  f.insert("X-Foo", "hop-by-hop because Connection names it");
  f.insert("Keep-Alive", "timeout=5");
  f.insert("TE", "trailers");
  f.insert("Trailer", "X-Checksum");
  f.insert("Upgrade", "websocket");
  f.insert("Proxy-Authorization", "Basic cHJveHk6cHc=");
  f.insert("Proxy-Connection", "keep-alive");
  f.insert("Transfer-Encoding", "chunked");
  f.insert("Expect", "100-continue");
  f.insert("X-Forwarded-For", "1.2.3.4");
  f.insert("X-Forwarded-For", "5.6.7.8");
  f.insert("X-Forwarded-Proto", "https");
  f.insert("X-Forwarded-Host", "evil.example");
  f.insert("Content-Length", "999");
  f.insert("X-Multi", "one");
  f.insert("X-Multi", "two");
  return f;
}

// Feeds all of `text` to a Beast parser (which stops after the head unless fed again).
template <class Parser>
std::size_t feed(Parser& parser, std::string_view text, boost::beast::error_code& ec) {
  std::size_t used = 0;
  while (!parser.is_done() && used < text.size()) {
    auto n = parser.put(boost::asio::buffer(text.data() + used, text.size() - used), ec);
    used += n;
    if (ec || n == 0) break;
  }
  return used;
}

parsed_head upstream_head(const http::fields& client, const forward_facts& facts, std::size_t body_size) {
  std::string out;
  write_upstream_head(client, facts, body_size, out);
  return parse_head(out);
}

TEST(write_upstream_head, request_line_is_post_root_with_the_query) {
  upstream_case c;
  auto head = upstream_head(hostile_client_fields(), c.facts(), 5);
  EXPECT_EQ(head.start_line, "POST /?q HTTP/1.1");
}

TEST(write_upstream_head, request_line_without_query_has_no_question_mark) {
  upstream_case c;
  auto facts = c.facts();
  facts.query = {};
  auto head = upstream_head(http::fields{}, facts, 0);
  EXPECT_EQ(head.start_line, "POST / HTTP/1.1");
}

TEST(write_upstream_head, host_is_the_routed_host_exactly_once) {
  upstream_case c;
  auto head = upstream_head(hostile_client_fields(), c.facts(), 5);
  EXPECT_EQ(head.all("host"), std::vector<std::string>{c.host}) << head.dump();
}

TEST(write_upstream_head, ignite_headers_are_exactly_the_injected_ones) {
  upstream_case c;
  auto head = upstream_head(hostile_client_fields(), c.facts(), 5);
  EXPECT_EQ(head.names_with_prefix("x-ignite-"),
            (std::vector<std::string>{"x-ignite-app", "x-ignite-app-id", "x-ignite-cold-start", "x-ignite-deadline-ms",
                                      "x-ignite-execution-id", "x-ignite-org", "x-ignite-source", "x-ignite-version"}))
      << head.dump();
  EXPECT_EQ(head.all("x-ignite-execution-id"), std::vector<std::string>{c.execution_id});
  EXPECT_EQ(head.all("x-ignite-app-id"), std::vector<std::string>{"acme-corp:greeter"});
  EXPECT_EQ(head.all("x-ignite-org"), std::vector<std::string>{"acme-corp"});
  EXPECT_EQ(head.all("x-ignite-app"), std::vector<std::string>{"greeter"});
  EXPECT_EQ(head.all("x-ignite-version"), std::vector<std::string>{"3"});
  EXPECT_EQ(head.all("x-ignite-cold-start"), std::vector<std::string>{"true"});
  EXPECT_EQ(head.all("x-ignite-deadline-ms"), std::vector<std::string>{"1700000000123"});
  EXPECT_EQ(head.all("x-ignite-source"), std::vector<std::string>{"public"});
  for (const auto& [name, value] : head.fields) {
    EXPECT_NE(value, "spoofed") << name;
    EXPECT_NE(value, "spoofed-app") << name;
    EXPECT_NE(value, "01ARZ3NDEKTSV4RRFFQ69G5FAV") << name;
  }
}

TEST(write_upstream_head, cold_start_false_and_invoke_source) {
  upstream_case c;
  auto facts = c.facts();
  facts.cold_start = false;
  facts.source = "invoke";
  facts.deadline_unix_ms = 0;
  auto head = upstream_head(hostile_client_fields(), facts, 5);
  EXPECT_EQ(head.all("x-ignite-cold-start"), std::vector<std::string>{"false"});
  EXPECT_EQ(head.all("x-ignite-source"), std::vector<std::string>{"invoke"});
  EXPECT_EQ(head.all("x-ignite-deadline-ms"), std::vector<std::string>{"0"});
}

TEST(write_upstream_head, hop_by_hop_headers_are_removed) {
  upstream_case c;
  auto head = upstream_head(hostile_client_fields(), c.facts(), 5);
  for (const char* name : {"connection", "x-foo", "keep-alive", "te", "trailer", "upgrade", "proxy-authorization",
                           "proxy-connection", "transfer-encoding", "expect"})
    EXPECT_EQ(head.count(name), 0u) << name << "\n" << head.dump();
}

TEST(write_upstream_head, headers_named_by_connection_are_removed_whatever_the_spacing_and_case) {
  upstream_case c;
  http::fields f;
  f.insert("Connection", " X-Bar ,\tx-BAZ,,  ");
  f.insert("x-bar", "1");
  f.insert("X-Baz", "2");
  f.insert("X-Qux", "3");
  auto head = upstream_head(f, c.facts(), 0);
  EXPECT_EQ(head.count("x-bar"), 0u) << head.dump();
  EXPECT_EQ(head.count("x-baz"), 0u) << head.dump();
  EXPECT_EQ(head.all("x-qux"), std::vector<std::string>{"3"});
  EXPECT_EQ(head.count("connection"), 0u);
}

TEST(write_upstream_head, every_connection_field_counts_even_when_not_adjacent) {
  // RFC 9110 7.6.1: all Connection fields together name the hop-by-hop headers, wherever
  // they are in the head.
  upstream_case c;
  http::fields f;
  f.insert("Connection", "keep-alive");
  f.insert("X-Foo", "1");
  f.insert("X-Keep", "2");
  f.insert("Connection", "X-Foo");
  auto head = upstream_head(f, c.facts(), 0);
  EXPECT_EQ(head.count("x-foo"), 0u) << head.dump();
  EXPECT_EQ(head.all("x-keep"), std::vector<std::string>{"2"});
  EXPECT_EQ(head.count("connection"), 0u);
}

TEST(write_upstream_head, forwarded_for_appends_the_peer_to_every_client_entry) {
  upstream_case c;
  auto head = upstream_head(hostile_client_fields(), c.facts(), 5);
  EXPECT_EQ(head.all("x-forwarded-for"), std::vector<std::string>{"1.2.3.4, 5.6.7.8, " + c.client_ip}) << head.dump();
}

TEST(write_upstream_head, forwarded_for_without_client_entries_is_the_peer) {
  upstream_case c;
  auto head = upstream_head(http::fields{}, c.facts(), 0);
  EXPECT_EQ(head.all("x-forwarded-for"), std::vector<std::string>{c.client_ip});
}

TEST(write_upstream_head, forwarded_proto_and_host_describe_this_hop) {
  upstream_case c;
  auto head = upstream_head(hostile_client_fields(), c.facts(), 5);
  EXPECT_EQ(head.all("x-forwarded-proto"), std::vector<std::string>{"http"});
  EXPECT_EQ(head.all("x-forwarded-host"), std::vector<std::string>{c.host});

  auto facts = c.facts();
  facts.proto = "https";
  head = upstream_head(hostile_client_fields(), facts, 5);
  EXPECT_EQ(head.all("x-forwarded-proto"), std::vector<std::string>{"https"});
}

TEST(write_upstream_head, content_length_is_the_body_size) {
  upstream_case c;
  auto head = upstream_head(hostile_client_fields(), c.facts(), 5);
  EXPECT_EQ(head.all("content-length"), std::vector<std::string>{"5"}) << head.dump();
  head = upstream_head(http::fields{}, c.facts(), 0);
  EXPECT_EQ(head.all("content-length"), std::vector<std::string>{"0"});
  head = upstream_head(http::fields{}, c.facts(), 6291456);
  EXPECT_EQ(head.all("content-length"), std::vector<std::string>{"6291456"});
}

TEST(write_upstream_head, ordinary_headers_are_kept_with_their_values) {
  upstream_case c;
  auto head = upstream_head(hostile_client_fields(), c.facts(), 5);
  EXPECT_EQ(head.all("content-type"), std::vector<std::string>{"application/json"});
  EXPECT_EQ(head.all("authorization"), std::vector<std::string>{"Bearer secret-token"});
  EXPECT_EQ(head.all("accept"), std::vector<std::string>{"*/*"});
  EXPECT_EQ(head.all("x-multi"), (std::vector<std::string>{"one", "two"}));
}

TEST(write_upstream_head, exactly_the_expected_field_names) {
  upstream_case c;
  auto head = upstream_head(hostile_client_fields(), c.facts(), 5);
  std::vector<std::string> names;
  for (const auto& [n, v] : head.fields) names.push_back(lower(n));
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"accept", "authorization", "content-length", "content-type", "host",
                                             "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-ignite-app",
                                             "x-ignite-app-id", "x-ignite-cold-start", "x-ignite-deadline-ms",
                                             "x-ignite-execution-id", "x-ignite-org", "x-ignite-source",
                                             "x-ignite-version", "x-multi", "x-multi"}))
      << head.dump();
}

TEST(write_upstream_head, appends_to_what_is_already_in_the_buffer) {
  upstream_case c;
  std::string out = "previous";
  write_upstream_head(http::fields{}, c.facts(), 0, out);
  EXPECT_EQ(out.rfind("previousPOST /?q HTTP/1.1\r\n", 0), 0u);
}

TEST(write_upstream_head, beast_parses_the_head_and_body) {
  upstream_case c;
  std::string out;
  write_upstream_head(hostile_client_fields(), c.facts(), 5, out);
  out += "hello";
  http::request_parser<http::string_body> parser;
  boost::beast::error_code ec;
  auto used = feed(parser, out, ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(used, out.size());
  const auto& req = parser.get();
  EXPECT_EQ(req.method(), http::verb::post);
  EXPECT_EQ(req.target(), "/?q");
  EXPECT_EQ(req.body(), "hello");
  EXPECT_FALSE(req.chunked());
}

// --- write_client_head ---------------------------------------------------------------

http::fields pod_fields() {
  http::fields f;
  f.insert("Content-Type", "text/plain");
  f.insert("Set-Cookie", "a=1");
  f.insert("Set-Cookie", "b=2");
  f.insert("Cache-Control", "no-store");
  f.insert("Connection", "keep-alive, X-Pod-Hop");
  f.insert("X-Pod-Hop", "1");
  f.insert("Keep-Alive", "timeout=5");
  f.insert("Transfer-Encoding", "chunked");
  f.insert("Content-Length", "12");
  f.insert("Trailer", "X-Checksum");
  f.insert("Upgrade", "h2c");
  f.insert("Proxy-Authenticate", "Basic");
  f.insert("x-ignite-error", "proxy");
  f.insert("X-Ignite-Execution-Id", "01ARZ3NDEKTSV4RRFFQ69G5FAV");
  f.insert("x-ignite-cold-start", "spoofed");
  return f;
}

constexpr std::string_view k_id = "01HZX3Q9M7K2B5N8R4T6V0W1YA";

parsed_head client_head(unsigned status, std::string_view reason, const http::fields& pod, client_framing framing,
                        std::uint64_t length, bool keep_alive, bool cold_start) {
  std::string out;
  write_client_head(status, reason, pod, framing, length, keep_alive, k_id, cold_start, out);
  return parse_head(out);
}

TEST(write_client_head, status_line_carries_the_pods_status_and_reason) {
  auto head = client_head(201, "Created", pod_fields(), client_framing::content_length, 3, true, false);
  EXPECT_EQ(head.start_line, "HTTP/1.1 201 Created");
  head = client_head(418, "I'm a teapot", http::fields{}, client_framing::none, 0, true, false);
  EXPECT_EQ(head.start_line, "HTTP/1.1 418 I'm a teapot");
}

TEST(write_client_head, status_line_without_reason_is_still_valid) {
  auto head = client_head(200, "", http::fields{}, client_framing::content_length, 0, true, false);
  EXPECT_TRUE(head.start_line.starts_with("HTTP/1.1 200 ")) << head.start_line;
}

TEST(write_client_head, pod_hop_by_hop_and_platform_headers_are_removed) {
  auto head = client_head(200, "OK", pod_fields(), client_framing::content_length, 12, true, false);
  for (const char* name : {"x-pod-hop", "keep-alive", "trailer", "upgrade", "proxy-authenticate", "x-ignite-error"})
    EXPECT_EQ(head.count(name), 0u) << name << "\n" << head.dump();
  EXPECT_EQ(head.count("connection"), 0u) << head.dump();
  EXPECT_EQ(head.count("transfer-encoding"), 0u) << head.dump();
  for (const auto& [name, value] : head.fields) {
    EXPECT_NE(value, "proxy") << name;
    EXPECT_NE(value, "spoofed") << name;
    EXPECT_NE(value, "01ARZ3NDEKTSV4RRFFQ69G5FAV") << name;
  }
}

TEST(write_client_head, every_connection_field_of_the_pod_counts_even_when_not_adjacent) {
  http::fields f;
  f.insert("Connection", "keep-alive");
  f.insert("Content-Type", "text/plain");
  f.insert("Connection", "X-Pod-Hop");
  f.insert("X-Pod-Hop", "1");
  auto head = client_head(200, "OK", f, client_framing::content_length, 0, true, false);
  EXPECT_EQ(head.count("x-pod-hop"), 0u) << head.dump();
  EXPECT_EQ(head.all("content-type"), std::vector<std::string>{"text/plain"});
}

TEST(write_client_head, ordinary_pod_headers_are_kept) {
  auto head = client_head(200, "OK", pod_fields(), client_framing::content_length, 12, true, false);
  EXPECT_EQ(head.all("content-type"), std::vector<std::string>{"text/plain"});
  EXPECT_EQ(head.all("set-cookie"), (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(head.all("cache-control"), std::vector<std::string>{"no-store"});
}

TEST(write_client_head, execution_id_and_cold_start_are_added_once) {
  auto head = client_head(200, "OK", pod_fields(), client_framing::content_length, 12, true, false);
  EXPECT_EQ(head.names_with_prefix("x-ignite-"),
            (std::vector<std::string>{"x-ignite-cold-start", "x-ignite-execution-id"}));
  EXPECT_EQ(head.all("x-ignite-execution-id"), std::vector<std::string>{std::string(k_id)});
  EXPECT_EQ(head.all("x-ignite-cold-start"), std::vector<std::string>{"false"});

  head = client_head(200, "OK", pod_fields(), client_framing::content_length, 12, true, true);
  EXPECT_EQ(head.all("x-ignite-cold-start"), std::vector<std::string>{"true"});
}

TEST(write_client_head, content_length_framing_sets_only_content_length) {
  auto head = client_head(200, "OK", pod_fields(), client_framing::content_length, 42, true, false);
  EXPECT_EQ(head.all("content-length"), std::vector<std::string>{"42"}) << head.dump();
  EXPECT_EQ(head.count("transfer-encoding"), 0u);
}

TEST(write_client_head, chunked_framing_sets_only_transfer_encoding) {
  auto head = client_head(200, "OK", pod_fields(), client_framing::chunked, 0, true, false);
  EXPECT_EQ(head.all("transfer-encoding"), std::vector<std::string>{"chunked"}) << head.dump();
  EXPECT_EQ(head.count("content-length"), 0u);
}

TEST(write_client_head, close_delimited_framing_sets_neither_and_closes) {
  auto head = client_head(200, "OK", pod_fields(), client_framing::close_delimited, 0, false, false);
  EXPECT_EQ(head.count("content-length"), 0u) << head.dump();
  EXPECT_EQ(head.count("transfer-encoding"), 0u);
  EXPECT_EQ(head.all("connection"), std::vector<std::string>{"close"});
}

TEST(write_client_head, no_body_framing_sets_neither) {
  auto head = client_head(204, "No Content", pod_fields(), client_framing::none, 0, true, false);
  EXPECT_EQ(head.count("content-length"), 0u) << head.dump();
  EXPECT_EQ(head.count("transfer-encoding"), 0u);
  EXPECT_EQ(head.count("connection"), 0u);
}

TEST(write_client_head, connection_close_only_when_not_keeping_alive) {
  auto head = client_head(200, "OK", pod_fields(), client_framing::content_length, 12, false, false);
  EXPECT_EQ(head.all("connection"), std::vector<std::string>{"close"}) << head.dump();
  head = client_head(200, "OK", pod_fields(), client_framing::content_length, 12, true, false);
  EXPECT_EQ(head.count("connection"), 0u) << head.dump();
}

TEST(write_client_head, exactly_the_expected_field_names) {
  auto head = client_head(200, "OK", pod_fields(), client_framing::chunked, 0, false, true);
  std::vector<std::string> names;
  for (const auto& [n, v] : head.fields) names.push_back(lower(n));
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"cache-control", "connection", "content-type", "set-cookie", "set-cookie",
                                             "transfer-encoding", "x-ignite-cold-start", "x-ignite-execution-id"}))
      << head.dump();
}

TEST(write_client_head, beast_parses_the_response_head) {
  std::string out;
  write_client_head(200, "OK", pod_fields(), client_framing::content_length, 5, true, k_id, false, out);
  out += "hello";
  http::response_parser<http::string_body> parser;
  boost::beast::error_code ec;
  EXPECT_EQ(feed(parser, out, ec), out.size());
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().result_int(), 200u);
  EXPECT_EQ(parser.get()["x-ignite-execution-id"], k_id);
  EXPECT_EQ(parser.get().body(), "hello");
}

// --- classification -----------------------------------------------------------------

TEST(is_hop_by_hop, names_the_fixed_set_in_any_case) {
  for (const char* name : {"Connection", "connection", "Keep-Alive", "TE", "te", "Trailer", "Transfer-Encoding",
                           "Upgrade", "Proxy-Authorization", "proxy-authenticate", "Proxy-Connection", "PROXY-X"})
    EXPECT_TRUE(is_hop_by_hop(name)) << name;
  for (const char* name :
       {"Content-Type", "Content-Length", "Trailers", "Host", "Authorization", "X-Proxy-Id", "Proxy", "Tea", ""})
    EXPECT_FALSE(is_hop_by_hop(name)) << name;
}

TEST(is_platform_header, is_the_x_ignite_prefix_in_any_case) {
  for (const char* name : {"x-ignite-app", "X-Ignite-Execution-Id", "X-IGNITE-ERROR", "x-ignite-"})
    EXPECT_TRUE(is_platform_header(name)) << name;
  for (const char* name : {"x-ignite", "x-ignitex-app", "x-igniteapp", "ignite-app", "x-forwarded-for", ""})
    EXPECT_FALSE(is_platform_header(name)) << name;
}

}  // namespace
}  // namespace ignite::proxy
