#pragma once
// What crosses the proxy in each direction, written straight into one output buffer:
// the request head the pod receives and the response head the client receives.
// Hop-by-hop headers (RFC 9110 7.6.1) stop here; x-ignite-* headers are the platform's
// and are never taken from the other side.

#include <cstdint>
#include <memory>
#include <memory_resource>
#include <string>
#include <string_view>

#include <boost/beast/http/fields.hpp>

#include "proxy/request_head_check.hpp"

namespace ignite::proxy {

// Facts about one request that the pod is told in x-ignite-* and X-Forwarded-* headers.
struct forward_facts {
  std::string_view execution_id;
  std::string_view app_id;  // "acme-corp:greeter"
  std::string_view org;
  std::string_view app;
  std::string_view version;
  std::string_view source;  // "public" or "invoke"
  bool cold_start = false;
  std::uint64_t deadline_unix_ms = 0;
  std::string_view host;  // the routed host, as the client wrote it
  std::string_view client_ip;
  std::string_view proto;  // "http" or "https"
  std::string_view query;  // without '?'; empty: none
};

// Header fields whose nodes come from a per-request arena (see http_session), and the
// plain kind; both are accepted below.
using arena_allocator = std::pmr::polymorphic_allocator<char>;
using arena_fields = boost::beast::http::basic_fields<arena_allocator>;

// Appends `POST /?query HTTP/1.1` and the forwarded fields of `client` (not those with
// '_' in their name) to `out`, with
// Content-Length `body_size` (bodies are buffered, so never chunked upstream).
// `Fields`: Beast's fields (the control API's invoke) or a checked request_head (the
// public session).
template <class Fields>
void write_upstream_head(const Fields& client, const forward_facts& facts, std::size_t body_size, std::string& out);

enum class client_framing { content_length, chunked, close_delimited, none };

// Appends the response head the client sees: the pod's status, reason and fields minus
// hop-by-hop and platform headers, then the proxy's framing and x-ignite-* fields.
template <class Allocator>
void write_client_head(unsigned status, std::string_view reason, const boost::beast::http::basic_fields<Allocator>& pod,
                       client_framing framing, std::uint64_t content_length, bool keep_alive,
                       std::string_view execution_id, bool cold_start, std::string& out);

// True for header names that are hop-by-hop wherever they appear (not those a
// Connection header names; see write_* for those).
bool is_hop_by_hop(std::string_view name) noexcept;

// True for names starting with "x-ignite-" in any case.
bool is_platform_header(std::string_view name) noexcept;

// True for names holding '_': never forwarded to a pod, since CGI/WSGI-style frameworks
// map '-' and '_' to the same variable (X_Ignite_Org would read as x-ignite-org).
bool has_underscore(std::string_view name) noexcept;

}  // namespace ignite::proxy
