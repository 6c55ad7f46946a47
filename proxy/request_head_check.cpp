#include "proxy/request_head_check.hpp"

#include <array>
#include <cstdint>
#include <cstring>

#include "common/strings.hpp"

namespace ignite::proxy {

using common::iequals;

namespace {

// Per-byte classes, looked up once per byte: this runs over every byte of every head.
enum char_class : unsigned char {
  k_token = 1,      // tchar (RFC 9110 5.6.2): may appear in a field name
  k_value_ctl = 2,  // a control byte a field value may not hold (all but HTAB, and DEL)
};

constexpr std::array<unsigned char, 256> make_classes() {
  std::array<unsigned char, 256> t{};
  for (int c = 0; c < 256; ++c) {
    bool token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    for (char p : std::string_view("!#$%&'*+-.^_`|~")) token = token || c == static_cast<unsigned char>(p);
    t[c] =
        static_cast<unsigned char>((token ? k_token : 0) | (((c < 0x20 && c != '\t') || c == 0x7f) ? k_value_ctl : 0));
  }
  return t;
}
constexpr auto k_classes = make_classes();

constexpr bool has(char c, char_class k) noexcept { return k_classes[static_cast<unsigned char>(c)] & k; }

// A request-target's bytes: visible ASCII and obs-text, as Beast's parser accepted.
constexpr bool target_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return (u > 0x20 && u < 0x7f) || u >= 0x80;
}

// method SP request-target SP HTTP/1.x, single spaces (RFC 9112 3).
bool read_request_line(std::string_view line, std::string_view& method, std::string_view& target) noexcept {
  const auto sp = line.find(' ');
  if (sp == 0 || sp == std::string_view::npos) return false;
  method = line.substr(0, sp);
  for (char c : method)
    if (!has(c, k_token)) return false;
  line.remove_prefix(sp + 1);
  constexpr std::string_view k_version = " HTTP/1.";
  if (line.size() < k_version.size() + 2) return false;
  const auto version = line.substr(line.size() - k_version.size() - 1);
  if (version.substr(0, k_version.size()) != k_version || (version.back() != '0' && version.back() != '1'))
    return false;
  target = line.substr(0, line.size() - version.size());
  for (char c : target)
    if (!target_char(c)) return false;
  return true;
}

// Whether a Connection field's comma-separated list holds `token` (any case).
bool lists(std::string_view list, std::string_view token) noexcept {
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (iequals(common::trim_ows(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

head_facts fail(proxy_error e, std::string_view why) noexcept {
  head_facts f;
  f.error = e;
  f.why = why;
  return f;
}

}  // namespace

std::size_t find_head_end(std::string_view data, std::size_t& scanned) noexcept {
  // A head ends at the first empty line; lines end in CRLF (a bare LF is caught by
  // check_request_head, but it still ends a line here so "\n\n" is found and refused).
  for (std::size_t i = scanned; i < data.size(); ++i) {
    const void* nl = std::memchr(data.data() + i, '\n', data.size() - i);
    if (!nl) break;
    i = static_cast<std::size_t>(static_cast<const char*>(nl) - data.data());
    if (i >= 1 && data[i - 1] == '\n') return i + 1;
    if (i >= 2 && data[i - 1] == '\r' && data[i - 2] == '\n') return i + 1;
  }
  scanned = data.size() > 2 ? data.size() - 2 : 0;
  return 0;
}

field_line check_field_line(std::string_view line) noexcept {
  field_line f;
  auto refuse = [&f](proxy_error e, std::string_view why) {
    f.error = e;
    f.why = why;
    return f;
  };
  if (line.empty()) return refuse(proxy_error::bad_request, "malformed header field");
  if (line.front() == ' ' || line.front() == '\t')
    return refuse(proxy_error::bad_request, "obsolete line folding is not accepted");
  // The name is every token byte up to the colon, in one pass.
  std::size_t colon = 0;
  while (colon < line.size() && has(line[colon], k_token)) ++colon;
  if (colon == line.size()) return refuse(proxy_error::bad_request, "malformed header field");
  if (line[colon] != ':') {
    if (line.find(':', colon) == std::string_view::npos)
      return refuse(proxy_error::bad_request, "malformed header field");
    if (line[colon] == ' ' || line[colon] == '\t')
      return refuse(proxy_error::bad_request, "whitespace before ':' in a header field");
    return refuse(proxy_error::bad_request, "invalid character in a header field name");
  }
  if (colon == 0) return refuse(proxy_error::bad_request, "malformed header field");
  auto name = line.substr(0, colon);
  auto value = common::trim_ows(line.substr(colon + 1));
  for (char c : value)
    if (has(c, k_value_ctl)) return refuse(proxy_error::bad_request, "control character in a header field value");
  if (name.size() > k_max_field_part_bytes || value.size() > k_max_field_part_bytes)
    return refuse(proxy_error::headers_too_large, "a header field is longer than 65533 bytes");
  f.name = name;
  f.value = value;
  return f;
}

std::optional<std::string_view> request_head::find(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < field_count; ++i)
    if (fields[i].name_size == name.size() && iequals(fields[i].name(), name)) return fields[i].value();
  return std::nullopt;
}

bool request_head::keep_alive(const head_facts& facts) const noexcept { return !facts.http10 && !connection_close; }

head_facts check_request_head(std::string_view head, request_head* out) noexcept {
  head_facts facts;
  request_head scratch;
  request_head& h = out ? *out : scratch;
  h.field_count = 0;
  h.connection_close = false;
  h.content_length = 0;
  unsigned content_lengths = 0;
  unsigned transfer_encodings = 0;
  bool first = true;
  if (head.find('\0') != std::string_view::npos) return fail(proxy_error::bad_request, "NUL byte in request head");
  while (!head.empty()) {
    auto nl = head.find('\n');
    if (nl == std::string_view::npos) return fail(proxy_error::bad_request, "request head does not end in CRLF");
    if (nl == 0 || head[nl - 1] != '\r') return fail(proxy_error::bad_request, "bare LF in request head");
    auto line = head.substr(0, nl - 1);
    head.remove_prefix(nl + 1);
    if (first) {
      // Field lines meet CR in check_field_line; the request line is checked here.
      if (line.find('\r') != std::string_view::npos) return fail(proxy_error::bad_request, "bare CR in request head");
      first = false;
      if (!read_request_line(line, h.method, h.target)) return fail(proxy_error::bad_request, "malformed request line");
      facts.http10 = line.back() == '0';
      continue;
    }
    if (line.empty()) break;  // the blank line: end of head
    if (++facts.fields > k_max_header_fields)
      return fail(proxy_error::headers_too_large, "more than 100 header fields");
    auto field = check_field_line(line);
    if (field.error != proxy_error::none) return fail(field.error, field.why);
    auto name = field.name;
    auto value = field.value;
    if (std::memchr(name.data(), '_', name.size())) ++facts.underscore_fields;
    h.fields[h.field_count++] = {name.data(), value.data(), static_cast<std::uint32_t>(name.size()),
                                 static_cast<std::uint32_t>(value.size())};
    // The four names read here, told apart by length before any comparison.
    const auto n = name.size();
    if (n != 14 && n != 17 && n != 4 && n != 10) continue;
    if (n == 14 && iequals(name, "content-length")) {
      if (++content_lengths > 1) return fail(proxy_error::bad_request, "more than one Content-Length");
      if (value.empty()) return fail(proxy_error::bad_request, "invalid Content-Length");
      std::uint64_t length = 0;
      for (char c : value) {
        if (c < '0' || c > '9') return fail(proxy_error::bad_request, "invalid Content-Length");
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (length > (UINT64_MAX - digit) / 10) return fail(proxy_error::bad_request, "invalid Content-Length");
        length = length * 10 + digit;
      }
      h.content_length = length;
      facts.has_content_length = true;
    } else if (n == 10 && iequals(name, "connection")) {
      h.connection_close = h.connection_close || lists(value, "close");
    } else if (n == 17 && iequals(name, "transfer-encoding")) {
      if (++transfer_encodings > 1) return fail(proxy_error::bad_request, "more than one Transfer-Encoding");
      if (!iequals(value, "chunked"))
        return fail(proxy_error::bad_request, "only Transfer-Encoding: chunked is accepted");
      facts.chunked = true;
    } else if (n == 4 && iequals(name, "host")) {
      ++facts.host_count;
    }
  }
  if (facts.has_content_length && facts.chunked)
    return fail(proxy_error::bad_request, "Content-Length and Transfer-Encoding together");
  if (facts.chunked && facts.http10) return fail(proxy_error::bad_request, "Transfer-Encoding in an HTTP/1.0 request");
  if (facts.host_count > 1) return fail(proxy_error::bad_request, "more than one Host header");
  return facts;
}

}  // namespace ignite::proxy
