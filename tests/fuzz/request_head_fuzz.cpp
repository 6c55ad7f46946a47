// libFuzzer target: a request head from the client to the head the pod receives, as the
// session handles it: find_head_end, check_request_head (which also reads the head),
// parse_target and label_of_host (route), then write_upstream_head (forward). What it
// looks for, beyond memory errors and exceptions: a second reader (Beast's parser) that
// reads the same checked head differently (a desync), and a forwarded head that is not one clean
// request (a smuggling shape, a hop-by-hop or client-sent x-ignite-* field, a second
// Content-Length or Host) that the proxy's own checks would refuse from a client.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory_resource>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "common/strings.hpp"
#include "proxy/header_rewriter.hpp"
#include "proxy/request_head_check.hpp"
#include "routing/host.hpp"

namespace {

namespace http = boost::beast::http;
using namespace ignite;

// The largest max_header_bytes the config accepts.
constexpr std::size_t k_max_header_bytes = 1 << 20;
// What connection_tokens (header_rewriter.cpp) removes at most.
constexpr std::size_t k_connection_tokens = 32;

void check(bool ok) {
  if (!ok) std::abort();
}

using parser_type = http::request_parser<http::empty_body, proxy::arena_allocator>;

// Parses a head the proxy wrote; checks the whole of it is one request head.
void check_forwarded(std::string_view out, const proxy::forward_facts& facts, const proxy::request_head& client) {
  std::size_t scanned = 0;
  check(proxy::find_head_end(out, scanned) == out.size());
  const auto again = proxy::check_request_head(out);
  // The proxy adds a dozen fields and appends the peer to X-Forwarded-For, so a client
  // near the field-count or field-size limit can push the forwarded head over them
  // (431); any other refusal means the proxy wrote what it refuses to read.
  check(again.error == proxy::proxy_error::none || again.error == proxy::proxy_error::headers_too_large);
  if (again.error != proxy::proxy_error::none) return;
  check(!again.chunked && again.has_content_length && again.host_count == 1);

  std::pmr::monotonic_buffer_resource arena;
  http::request_parser<http::empty_body, proxy::arena_allocator> parser{
      std::piecewise_construct, std::make_tuple(), std::make_tuple(proxy::arena_allocator(&arena))};
  parser.eager(false);
  parser.header_limit(static_cast<std::uint32_t>(out.size()));
  boost::system::error_code ec;
  const auto used = parser.put(boost::asio::buffer(out.data(), out.size()), ec);
  check(!ec && parser.is_header_done() && used == out.size());
  const auto& req = parser.get();
  check(req.method() == http::verb::post && req.version() == 11);
  check(parser.content_length() && *parser.content_length() == 0);

  // The names the client's Connection fields list (as header_rewriter reads them).
  std::size_t listed = 0;
  std::string_view named[k_connection_tokens];
  bool too_many = false;
  for (std::size_t i = 0; i < client.field_count; ++i) {
    if (!common::iequals(client.fields[i].name(), "connection")) continue;
    std::string_view list = client.fields[i].value();
    while (!list.empty()) {
      auto comma = list.find(',');
      auto token = common::trim_ows(list.substr(0, comma));
      if (!token.empty()) {
        if (listed < k_connection_tokens)
          named[listed++] = token;
        else
          too_many = true;
      }
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  unsigned platform = 0;
  for (const auto& f : req) {
    const auto name = f.name_string();
    check(!proxy::is_hop_by_hop(name));
    if (!too_many)
      for (std::size_t i = 0; i < listed; ++i) check(!common::iequals(named[i], name));
    if (proxy::is_platform_header(name)) ++platform;
  }
  // The eight x-ignite-* fields, each once, with the proxy's values.
  check(platform == 8);
  check(req["x-ignite-execution-id"] == facts.execution_id);
  check(req["x-ignite-app-id"] == facts.app_id);
  check(req["x-ignite-source"] == facts.source);
  check(req[http::field::host] == facts.host);
  check(req.count("x-forwarded-proto") == 1 && req.count("x-forwarded-host") == 1 && req.count("x-forwarded-for") == 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::size_t scanned = 0;
  const auto head_size = proxy::find_head_end(in, scanned);
  if (head_size == 0 || head_size > k_max_header_bytes) return 0;
  const auto head = in.substr(0, head_size);
  // check_head: the session's one pass, which checks the head and reads it.
  proxy::request_head h;
  const auto facts = proxy::check_request_head(head, &h);
  if (facts.error != proxy::proxy_error::none) return 0;
  check(!facts.chunked || !facts.has_content_length);
  check(h.field_count == facts.fields);

  // A second reader: where Beast's parser also accepts the checked head, it must read the
  // same request line, the same fields and the same length, and take the
  // whole head as the head (anything short would be read as the start of the body).
  {
    std::pmr::monotonic_buffer_resource arena;
    parser_type parser{std::piecewise_construct, std::make_tuple(), std::make_tuple(proxy::arena_allocator(&arena))};
    parser.eager(false);
    parser.header_limit(static_cast<std::uint32_t>(k_max_header_bytes));
    parser.body_limit(boost::none);
    boost::system::error_code ec;
    std::size_t used = 0;
    try {
      used = parser.put(boost::asio::buffer(head.data(), head.size()), ec);
    } catch (...) {
      std::abort();  // the checks bound what reaches Beast's field container
    }
    if (!ec && parser.is_header_done()) {
      check(used == head_size);
      const auto& req = parser.get();
      check(req.method_string() == h.method && req.target() == h.target);
      check((req.version() == 10) == facts.http10);
      if (facts.has_content_length) check(parser.content_length() && *parser.content_length() == h.content_length);
      // Beast groups fields of one name together; within a name the order is the wire's.
      std::size_t count = 0;
      for (auto it = req.begin(); it != req.end(); ++it, ++count) {
        std::size_t nth = 0;
        for (auto before = req.begin(); before != it; ++before)
          nth += common::iequals(before->name_string(), it->name_string()) ? 1 : 0;
        const proxy::header_field* same = nullptr;
        for (std::size_t i = 0; i < h.field_count && !same; ++i)
          if (common::iequals(h.fields[i].name(), it->name_string()) && nth-- == 0) same = &h.fields[i];
        check(same && same->name() == it->name_string() && same->value() == it->value());
      }
      check(count == h.field_count);
    }
  }

  // route: the host, absolute-form target first.
  auto target = routing::parse_target(h.target);
  if (!target) return 0;
  std::string_view host;
  if (target->absolute) {
    check(!target->authority.empty());
    host = target->authority;
  } else {
    if (facts.host_count == 0) return 0;
    check(facts.host_count == 1);
    host = h.find("host").value_or(std::string_view());
  }
  check(target->path.empty() || target->path.front() == '/');
  if (auto label = routing::label_of_host(host, "ignite.dodil.cloud")) {
    check(!label->view().empty() && label->view().size() <= routing::host_label::max_size);
    for (char c : label->view()) check((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  }

  // forward: the head the pod receives.
  proxy::forward_facts forward{.execution_id = "01HZX3Q9S8K7M6N5P4R3T2V1W0",
                               .app_id = "acme-corp:greeter",
                               .org = "acme-corp",
                               .app = "greeter",
                               .version = "1",
                               .source = "public",
                               .cold_start = false,
                               .deadline_unix_ms = 1700000000000,
                               .host = host,
                               .client_ip = "127.0.0.1",
                               .proto = "http",
                               .query = target->query};
  std::string out;
  proxy::write_upstream_head(h, forward, 0, out);
  check_forwarded(out, forward, h);
  return 0;
}
