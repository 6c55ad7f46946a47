// The error table (DESIGN.md "What reaches the client"): every proxy_error row against
// the contract, the shape of its code and texts, and the request_error value built on it.
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "proxy/request_error.hpp"

namespace ignite::proxy {
namespace {

struct contract_row {
  proxy_error kind;
  unsigned status;
  std::string_view code;
};

// DESIGN.md's table, copied by hand: the source must match it, not the other way round.
const std::vector<contract_row> k_contract = {
    {proxy_error::bad_request, 400, "bad_request"},
    {proxy_error::app_not_found, 404, "app_not_found"},
    {proxy_error::path_not_found, 404, "path_not_found"},
    {proxy_error::method_not_allowed, 405, "method_not_allowed"},
    {proxy_error::request_timeout, 408, "request_timeout"},
    {proxy_error::payload_too_large, 413, "payload_too_large"},
    {proxy_error::misdirected_request, 421, "misdirected_request"},
    {proxy_error::headers_too_large, 431, "headers_too_large"},
    {proxy_error::upstream_error, 502, "upstream_error"},
    {proxy_error::overloaded, 503, "overloaded"},
    {proxy_error::pod_start_failed, 503, "pod_start_failed"},
    {proxy_error::cold_start_timeout, 504, "cold_start_timeout"},
    {proxy_error::upstream_timeout, 504, "upstream_timeout"},
    // Logged only (nginx's 499), never sent.
    {proxy_error::client_closed, 499, "client_closed"},
};

// Every kind but `none`.
std::vector<proxy_error> all_errors() {
  std::vector<proxy_error> out;
  for (std::size_t i = 1; i < k_proxy_error_count; ++i) out.push_back(static_cast<proxy_error>(i));
  return out;
}

bool is_snake_case(std::string_view s) {
  if (s.empty() || s.front() == '_' || s.back() == '_') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok || (c == '_' && s[i - 1] == '_')) return false;
  }
  return s.front() >= 'a' && s.front() <= 'z';
}

// --- row_of ---------------------------------------------------------------------------

TEST(request_error_table, every_row_has_the_contract_status_and_code) {
  for (const auto& want : k_contract) {
    const auto row = row_of(want.kind);
    EXPECT_EQ(row.status, want.status) << want.code;
    EXPECT_EQ(row.code, want.code) << want.code;
  }
}

TEST(request_error_table, the_contract_covers_every_error_kind) {
  // A kind added to the enum must be added to DESIGN.md's table (and above) too.
  EXPECT_EQ(k_contract.size(), all_errors().size());
  std::set<proxy_error> covered;
  for (const auto& row : k_contract) covered.insert(row.kind);
  for (auto e : all_errors()) EXPECT_EQ(covered.count(e), 1u) << row_of(e).code;
}

TEST(request_error_table, none_is_200_ok) {
  const auto row = row_of(proxy_error::none);
  EXPECT_EQ(row.status, 200u);
  EXPECT_EQ(row.code, "ok");
  EXPECT_EQ(row.reason, "OK");
}

TEST(request_error_table, only_client_closed_has_a_status_outside_the_sent_range) {
  // 499 is never written to a client; every other row is a real 4xx/5xx answer.
  for (auto e : all_errors()) {
    const auto row = row_of(e);
    EXPECT_GE(row.status, 400u) << row.code;
    EXPECT_LE(row.status, 599u) << row.code;
    EXPECT_EQ(row.status == 499u, e == proxy_error::client_closed) << row.code;
  }
}

TEST(request_error_table, codes_are_unique) {
  std::set<std::string_view> seen;
  for (auto e : all_errors()) EXPECT_TRUE(seen.insert(row_of(e).code).second) << row_of(e).code;
  EXPECT_EQ(seen.count("ok"), 0u);
}

TEST(request_error_table, codes_are_snake_case) {
  for (auto e : all_errors()) EXPECT_TRUE(is_snake_case(row_of(e).code)) << row_of(e).code;
  EXPECT_FALSE(is_snake_case("Bad_request"));
  EXPECT_FALSE(is_snake_case("bad-request"));
  EXPECT_FALSE(is_snake_case("bad__request"));
  EXPECT_FALSE(is_snake_case("_bad"));
}

TEST(request_error_table, every_row_has_a_default_message_and_a_reason_phrase) {
  for (auto e : all_errors()) {
    const auto row = row_of(e);
    EXPECT_FALSE(row.message.empty()) << row.code;
    EXPECT_FALSE(row.reason.empty()) << row.code;
  }
}

TEST(request_error_table, reason_phrases_are_the_standard_ones) {
  EXPECT_EQ(row_of(proxy_error::bad_request).reason, "Bad Request");
  EXPECT_EQ(row_of(proxy_error::app_not_found).reason, "Not Found");
  EXPECT_EQ(row_of(proxy_error::method_not_allowed).reason, "Method Not Allowed");
  EXPECT_EQ(row_of(proxy_error::request_timeout).reason, "Request Timeout");
  EXPECT_EQ(row_of(proxy_error::misdirected_request).reason, "Misdirected Request");
  EXPECT_EQ(row_of(proxy_error::headers_too_large).reason, "Request Header Fields Too Large");
  EXPECT_EQ(row_of(proxy_error::upstream_error).reason, "Bad Gateway");
  EXPECT_EQ(row_of(proxy_error::overloaded).reason, "Service Unavailable");
  EXPECT_EQ(row_of(proxy_error::cold_start_timeout).reason, "Gateway Timeout");
}

TEST(request_error_table, a_value_outside_the_enum_is_an_internal_error) {
  const auto row = row_of(static_cast<proxy_error>(k_proxy_error_count));
  EXPECT_EQ(row.status, 500u);
  EXPECT_EQ(row.code, "internal");
}

// --- request_error --------------------------------------------------------------------

TEST(request_error, default_is_no_error) {
  request_error e;
  EXPECT_FALSE(e);
  EXPECT_EQ(e.kind, proxy_error::none);
}

TEST(request_error, any_kind_but_none_is_an_error) {
  for (auto kind : all_errors()) EXPECT_TRUE(request_error::from_proxy(kind)) << row_of(kind).code;
}

TEST(request_error, public_message_falls_back_to_the_row_default) {
  for (auto kind : all_errors()) {
    const auto e = request_error::from_proxy(kind);
    EXPECT_EQ(e.public_message(), row_of(kind).message) << row_of(kind).code;
  }
}

TEST(request_error, public_message_prefers_the_specific_one) {
  const auto e = request_error::from_pod(proxy_error::pod_start_failed, true, "image pull failed", "podman: 401");
  EXPECT_EQ(e.public_message(), "image pull failed");
}

TEST(request_error, detail_never_becomes_the_public_message) {
  const auto e = request_error::from_proxy(proxy_error::pod_start_failed, {}, "/var/lib/secret/path");
  EXPECT_EQ(e.public_message(), row_of(proxy_error::pod_start_failed).message);
}

TEST(request_error, from_client_is_the_clients_fault_and_retry_safe) {
  const auto e = request_error::from_client(proxy_error::payload_too_large, "body over 10 bytes");
  EXPECT_EQ(e.kind, proxy_error::payload_too_large);
  EXPECT_EQ(e.source, error_source::client);
  EXPECT_TRUE(e.retry_safe);
  EXPECT_EQ(e.message, "body over 10 bytes");
  EXPECT_TRUE(e.detail.empty());
}

TEST(request_error, from_pod_keeps_the_callers_retry_safety) {
  const auto before_write = request_error::from_pod(proxy_error::upstream_error, true, "m", "d");
  EXPECT_EQ(before_write.kind, proxy_error::upstream_error);
  EXPECT_EQ(before_write.source, error_source::pod);
  EXPECT_TRUE(before_write.retry_safe);
  EXPECT_EQ(before_write.message, "m");
  EXPECT_EQ(before_write.detail, "d");

  const auto after_write = request_error::from_pod(proxy_error::upstream_error, false);
  EXPECT_EQ(after_write.source, error_source::pod);
  EXPECT_FALSE(after_write.retry_safe);
  EXPECT_TRUE(after_write.message.empty());
  EXPECT_TRUE(after_write.detail.empty());
}

TEST(request_error, from_proxy_is_the_proxys_own_and_retry_safe) {
  const auto e = request_error::from_proxy(proxy_error::overloaded, "held queue full", "1000 held");
  EXPECT_EQ(e.kind, proxy_error::overloaded);
  EXPECT_EQ(e.source, error_source::proxy);
  EXPECT_TRUE(e.retry_safe);
  EXPECT_EQ(e.message, "held queue full");
  EXPECT_EQ(e.detail, "1000 held");
}

TEST(request_error, default_source_is_proxy_and_not_retry_safe) {
  request_error e;
  EXPECT_EQ(e.source, error_source::proxy);
  EXPECT_FALSE(e.retry_safe);
}

// --- name_of(error_source) ------------------------------------------------------------

TEST(request_error, sources_are_named_as_the_log_names_them) {
  EXPECT_EQ(name_of(error_source::client), "client");
  EXPECT_EQ(name_of(error_source::pod), "pod");
  EXPECT_EQ(name_of(error_source::proxy), "proxy");
}

}  // namespace
}  // namespace ignite::proxy
