#include "proxy/header_rewriter.hpp"

#include <array>
#include <charconv>
#include <cstring>

#include "common/strings.hpp"

namespace ignite::proxy {

namespace http = boost::beast::http;
using common::iequals;
using common::istarts_with;
using common::lower;

namespace {

// The header names listed in Connection fields (RFC 9110 7.6.1): also hop-by-hop.
// Bounded at 32 names without allocating; a peer listing more gets only the first 32
// removed (the fixed hop-by-hop set is always removed).
class connection_tokens {
 public:
  template <class Allocator>
  explicit connection_tokens(const http::basic_fields<Allocator>& fields) {
    for (auto it = fields.find(http::field::connection); it != fields.end() && it->name() == http::field::connection;
         ++it)
      add(it->value());
  }
  explicit connection_tokens(const request_head& head) {
    for (std::size_t i = 0; i < head.field_count; ++i)
      if (iequals(head.fields[i].name(), "connection")) add(head.fields[i].value());
  }

  bool names(std::string_view header) const noexcept {
    for (std::size_t i = 0; i < count_; ++i)  // usually none
      if (iequals(tokens_[i], header)) return true;
    return false;
  }

 private:
  void add(std::string_view list) {
    while (!list.empty()) {
      auto comma = list.find(',');
      auto token = common::trim_ows(list.substr(0, comma));
      if (!token.empty() && count_ < tokens_.size()) tokens_[count_++] = token;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }

  std::array<std::string_view, 32> tokens_;  // only the first count_ are set
  std::size_t count_ = 0;
};

bool is_forwarded_header(std::string_view name) noexcept {
  return name.size() >= 15 && lower(name[0]) == 'x' &&
         (iequals(name, "x-forwarded-for") || iequals(name, "x-forwarded-proto") || iequals(name, "x-forwarded-host"));
}

// One size check and three copies per field: this runs for every header of every request.
void append_field(std::string& out, std::string_view name, std::string_view value) {
  const auto at = out.size();
  out.resize(at + name.size() + value.size() + 4);
  char* p = out.data() + at;
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  *p++ = ':';
  *p++ = ' ';
  std::memcpy(p, value.data(), value.size());
  p += value.size();
  *p++ = '\r';
  *p = '\n';
}

void append_number(std::string& out, std::uint64_t n) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

// Calls fn(name, value) for each field, in order, of either kind of field list.
template <class Allocator, class Fn>
void each_field(const http::basic_fields<Allocator>& fields, Fn&& fn) {
  for (const auto& f : fields) fn(std::string_view(f.name_string()), std::string_view(f.value()));
}
template <class Fn>
void each_field(const request_head& head, Fn&& fn) {
  for (std::size_t i = 0; i < head.field_count; ++i) fn(head.fields[i].name(), head.fields[i].value());
}

// Fields of the client's that the proxy writes itself (Host, Content-Length) or answers
// itself (Expect: 100-continue).
bool written_by_proxy(std::string_view name) noexcept {
  switch (name.size()) {
    case 4:
      return iequals(name, "host");
    case 6:
      return iequals(name, "expect");
    case 14:
      return iequals(name, "content-length");
    default:
      return false;
  }
}

}  // namespace

bool is_hop_by_hop(std::string_view name) noexcept {
  if (name.empty()) return false;
  switch (lower(name[0])) {  // most names are ruled out by their first letter
    case 'c':
      return iequals(name, "connection");
    case 'k':
      return iequals(name, "keep-alive");
    case 't':
      return iequals(name, "te") || iequals(name, "trailer") || iequals(name, "transfer-encoding");
    case 'u':
      return iequals(name, "upgrade");
    case 'p':
      return istarts_with(name, "proxy-");
    default:
      return false;
  }
}

bool is_platform_header(std::string_view name) noexcept {
  return name.size() >= 9 && lower(name[0]) == 'x' && istarts_with(name, "x-ignite-");
}

bool has_underscore(std::string_view name) noexcept { return std::memchr(name.data(), '_', name.size()) != nullptr; }

template <class Fields>
void write_upstream_head(const Fields& client, const forward_facts& facts, std::size_t body_size, std::string& out) {
  out.append("POST /");
  if (!facts.query.empty()) out.append("?").append(facts.query);
  out.append(" HTTP/1.1\r\n");
  append_field(out, "Host", facts.host);

  connection_tokens connection(client);
  each_field(client, [&](std::string_view name, std::string_view value) {
    if (written_by_proxy(name) || is_hop_by_hop(name) || is_platform_header(name) || connection.names(name) ||
        is_forwarded_header(name) || has_underscore(name))
      return;
    append_field(out, name, value);
  });
  // Several X-Forwarded-For fields form one list (RFC 9110 5.3); the peer goes last.
  // -Proto and -Host describe this hop and are never taken from the client.
  out.append("X-Forwarded-For: ");
  each_field(client, [&](std::string_view name, std::string_view value) {
    if (iequals(name, "x-forwarded-for")) out.append(value).append(", ");
  });
  out.append(facts.client_ip).append("\r\n");
  append_field(out, "X-Forwarded-Proto", facts.proto);
  append_field(out, "X-Forwarded-Host", facts.host);
  out.append("Content-Length: ");
  append_number(out, body_size);
  out.append("\r\n");
  append_field(out, "x-ignite-execution-id", facts.execution_id);
  append_field(out, "x-ignite-app-id", facts.app_id);
  append_field(out, "x-ignite-org", facts.org);
  append_field(out, "x-ignite-app", facts.app);
  append_field(out, "x-ignite-version", facts.version);
  append_field(out, "x-ignite-cold-start", facts.cold_start ? "true" : "false");
  out.append("x-ignite-deadline-ms: ");
  append_number(out, facts.deadline_unix_ms);
  out.append("\r\n");
  append_field(out, "x-ignite-source", facts.source);
  out.append("\r\n");
}

template <class Allocator>
void write_client_head(unsigned status, std::string_view reason, const http::basic_fields<Allocator>& pod,
                       client_framing framing, std::uint64_t content_length, bool keep_alive,
                       std::string_view execution_id, bool cold_start, std::string& out) {
  out.append("HTTP/1.1 ");
  append_number(out, status);
  out.append(" ").append(reason.empty() ? std::string_view("-") : reason).append("\r\n");
  connection_tokens connection(pod);
  for (const auto& f : pod) {
    auto name = f.name_string();
    if (f.name() == http::field::content_length) continue;
    if (is_hop_by_hop(name) || is_platform_header(name) || connection.names(name)) continue;
    append_field(out, name, f.value());
  }
  switch (framing) {
    case client_framing::content_length:
      out.append("Content-Length: ");
      append_number(out, content_length);
      out.append("\r\n");
      break;
    case client_framing::chunked:
      out.append("Transfer-Encoding: chunked\r\n");
      break;
    case client_framing::close_delimited:
    case client_framing::none:
      break;
  }
  if (!keep_alive) out.append("Connection: close\r\n");
  append_field(out, "x-ignite-execution-id", execution_id);
  append_field(out, "x-ignite-cold-start", cold_start ? "true" : "false");
  out.append("\r\n");
}

template void write_upstream_head(const http::fields&, const forward_facts&, std::size_t, std::string&);
template void write_upstream_head(const arena_fields&, const forward_facts&, std::size_t, std::string&);
template void write_upstream_head(const request_head&, const forward_facts&, std::size_t, std::string&);
template void write_client_head(unsigned, std::string_view, const http::fields&, client_framing, std::uint64_t, bool,
                                std::string_view, bool, std::string&);
template void write_client_head(unsigned, std::string_view, const arena_fields&, client_framing, std::uint64_t, bool,
                                std::string_view, bool, std::string&);

}  // namespace ignite::proxy
