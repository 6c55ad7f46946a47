// cluster::etcd_store against a secured etcd (tests/support/etcd_cluster): TLS to the
// client URLs (etcd's certificate checked against the configured CA and the endpoint's
// address, a client certificate when etcd asks for one) and etcd's own auth (a user and
// password, a token renewed when etcd stops taking it). Certificates come from a CA made
// at test time (tests/support/test_ca).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cluster/etcd_connection.hpp"
#include "cluster/etcd_store.hpp"
#include "store_ops.hpp"
#include "support/container_engine.hpp"
#include "support/etcd_cluster.hpp"
#include "support/test_ca.hpp"
#include "support/wait_until.hpp"

namespace ignite::cluster {
namespace {

using namespace std::chrono_literals;
using routing::compare;
using routing::event;
using routing::operation;
using routing::revision;
using routing::state_error;

using namespace ignite::cluster::testing;

// A spec for `endpoints` ("127.0.0.1:PORT" or "localhost:PORT") under a prefix of the
// running test's own.
routing::etcd_spec spec_for(const std::vector<std::string>& endpoints) {
  routing::etcd_spec spec;
  for (const auto& e : endpoints) {
    std::string why;
    spec.endpoints.push_back(*common::parse_host_port(e, false, why));
  }
  spec.prefix =
      "/s" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  spec.request_timeout = 3s;
  return spec;
}

// What a store's construction threw, or "<connected>".
std::string refusal_of(const routing::etcd_spec& spec) {
  try {
    etcd_store s(spec);
  } catch (const state_error& e) {
    return e.what();
  }
  return "<connected>";
}

// Writes, reads, a failed compare-and-swap and a watch: the store works end to end.
void exercise(etcd_store& s) {
  recorder seen;
  auto w = s.watch("/apps/", s.current_revision(), seen.callback());
  auto t1 = s.txn({}, {put("/apps/a", "1"), put("/apps/b", "2")});
  ASSERT_TRUE(t1.succeeded);
  EXPECT_TRUE(seen.saw(t1.at));  // txn() returns once its watches have it
  ASSERT_TRUE(s.get("/apps/a"));
  EXPECT_EQ(s.get("/apps/a")->value, "1");
  EXPECT_EQ(s.range("/apps/").size(), 2u);
  auto lost = s.txn({compare{"/apps/a", 0}}, {put("/apps/a", "x")});
  EXPECT_FALSE(lost.succeeded);
  EXPECT_EQ(lost.failed_key, "/apps/a");
  auto t2 = s.txn({compare{"/apps/a", t1.at}}, {put("/apps/a", "3")});
  ASSERT_TRUE(t2.succeeded);
  EXPECT_TRUE(seen.saw(t2.at));
  EXPECT_EQ(s.get("/apps/a")->value, "3");
}

bool have_etcd(std::string& missing) {
  missing = test::etcd_cluster::missing_tools();
  return missing.empty();
}

// ---- TLS ----------------------------------------------------------------------------------

class etcd_tls_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!have_etcd(unavailable_)) return;
    ca_ = new test::test_ca();
    // Issued for the address clients dial, not for "localhost".
    const auto member = ca_->issue_for("etcd-member", {"IP:127.0.0.1"}, "member");
    client_ = new test::test_ca::issued(ca_->issue_for("ignite-client", {}, "client"));
    test::etcd_security open{ca_->ca_file(), member.cert_file, member.key_file, false, {}, 0};
    test::etcd_security strict = open;
    strict.client_cert_auth = true;
    server_only_ = new test::etcd_cluster(1, open);
    mutual_ = new test::etcd_cluster(1, strict);
  }
  static void TearDownTestSuite() {
    delete mutual_;
    delete server_only_;
    delete client_;
    delete ca_;
    mutual_ = server_only_ = nullptr;
    client_ = nullptr;
    ca_ = nullptr;
  }
  void SetUp() override {
    if (!mutual_) {
      if (test::container_tests_required()) FAIL() << unavailable_ << " (CI=true: these tests must run)";
      GTEST_SKIP() << unavailable_;
    }
  }
  static routing::etcd_spec tls_spec(const test::etcd_cluster& etcd, bool client_certificate) {
    auto spec = spec_for(etcd.endpoints());
    spec.tls.emplace();
    spec.tls->ca_file = ca_->ca_file();
    if (client_certificate) {
      spec.tls->cert_file = client_->cert_file;
      spec.tls->key_file = client_->key_file;
    }
    return spec;
  }

  static inline test::test_ca* ca_ = nullptr;
  static inline test::test_ca::issued* client_ = nullptr;
  static inline test::etcd_cluster* server_only_ = nullptr;  // TLS, any client
  static inline test::etcd_cluster* mutual_ = nullptr;       // TLS, client certificates required
  static inline std::string unavailable_;
};

TEST_F(etcd_tls_test, a_store_over_tls_reads_writes_compares_and_watches) {
  etcd_store s(tls_spec(*server_only_, false));
  exercise(s);
}

TEST_F(etcd_tls_test, a_store_with_a_client_certificate_works_where_etcd_requires_one) {
  etcd_store s(tls_spec(*mutual_, true));
  exercise(s);
}

TEST_F(etcd_tls_test, without_a_client_certificate_etcd_that_requires_one_refuses_at_start) {
  const auto why = refusal_of(tls_spec(*mutual_, false));
  EXPECT_NE(why, "<connected>");
  EXPECT_NE(why.find(mutual_->endpoints()[0]), std::string::npos) << why;
}

TEST_F(etcd_tls_test, a_certificate_from_another_ca_is_refused_clearly) {
  test::test_ca other;
  auto spec = tls_spec(*server_only_, false);
  spec.tls->ca_file = other.ca_file();
  const auto why = refusal_of(spec);
  EXPECT_NE(why.find("certificate verify failed"), std::string::npos) << why;
  EXPECT_NE(why.find(server_only_->endpoints()[0]), std::string::npos) << why;
}

TEST_F(etcd_tls_test, a_certificate_that_does_not_name_the_endpoint_is_refused) {
  // The same member and CA, reached by a name its certificate does not carry.
  const auto port = server_only_->endpoints()[0].substr(server_only_->endpoints()[0].rfind(':') + 1);
  auto spec = tls_spec(*server_only_, false);
  spec.endpoints = spec_for({"localhost:" + port}).endpoints;
  const auto why = refusal_of(spec);
  EXPECT_NE(why.find("certificate verify failed"), std::string::npos) << why;
}

TEST_F(etcd_tls_test, tls_files_that_cannot_be_used_are_named_by_their_key) {
  auto no_ca = tls_spec(*server_only_, false);
  no_ca.tls->ca_file = ca_->dir().string() + "/absent.crt";
  EXPECT_NE(refusal_of(no_ca).find("tls.ca_file: cannot read"), std::string::npos) << refusal_of(no_ca);
  auto no_key = tls_spec(*mutual_, true);
  no_key.tls->key_file = ca_->dir().string() + "/absent.key";
  EXPECT_NE(refusal_of(no_key).find("tls.key_file: cannot read"), std::string::npos) << refusal_of(no_key);
  auto not_its_key = tls_spec(*mutual_, true);
  not_its_key.tls->key_file = ca_->dir().string() + "/member.key";
  EXPECT_NE(refusal_of(not_its_key).find("tls.key_file"), std::string::npos) << refusal_of(not_its_key);
  auto not_a_ca = tls_spec(*server_only_, false);
  not_a_ca.tls->ca_file = client_->key_file;
  EXPECT_NE(refusal_of(not_a_ca).find("tls.ca_file"), std::string::npos) << refusal_of(not_a_ca);
}

TEST_F(etcd_tls_test, plain_http_to_a_tls_member_is_refused_not_hung) {
  auto spec = spec_for(server_only_->endpoints());
  spec.request_timeout = 2s;
  EXPECT_NE(refusal_of(spec), "<connected>");
}

// ---- auth ---------------------------------------------------------------------------------

// etcdctl reads a password from stdin as one word.
const char* k_password = "correct-horse-battery";

class etcd_auth_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing;
    if (!have_etcd(missing)) {
      if (test::container_tests_required()) FAIL() << missing << " (CI=true: these tests must run)";
      GTEST_SKIP() << missing;
    }
    test::etcd_security auth;
    auth.root_password = k_password;
    etcd_ = std::make_unique<test::etcd_cluster>(1, auth);
  }
  routing::etcd_spec auth_spec(std::string password = k_password) const {
    auto spec = spec_for(etcd_->endpoints());
    spec.username = "root";
    spec.password_env = "ETCD_PASSWORD";
    spec.password = std::move(password);
    return spec;
  }
  // etcd forgets every token of root: a password change (to the same one) invalidates
  // them and moves the auth revision on, so older tokens are refused either way.
  void invalidate_tokens() const { etcd_->etcdctl({"user", "passwd", "root", "--interactive=false"}, k_password); }

  std::unique_ptr<test::etcd_cluster> etcd_;
};

TEST_F(etcd_auth_test, without_credentials_etcd_with_auth_refuses) {
  // The control: auth really is on, so the tests below can tell.
  const auto why = refusal_of(spec_for(etcd_->endpoints()));
  EXPECT_NE(why, "<connected>");
}

TEST_F(etcd_auth_test, the_right_password_reads_writes_compares_and_watches) {
  etcd_store s(auth_spec());
  exercise(s);
}

TEST_F(etcd_auth_test, a_wrong_password_fails_at_start_and_says_so) {
  const auto why = refusal_of(auth_spec("wrong"));
  EXPECT_NE(why.find("authentication as root failed"), std::string::npos) << why;
  EXPECT_NE(why.find(etcd_->endpoints()[0]), std::string::npos) << why;
}

TEST_F(etcd_auth_test, a_token_etcd_no_longer_takes_is_renewed_and_the_request_goes_through) {
  auto spec = auth_spec();
  etcd_connection c(spec, spec.request_timeout);
  const auto first = c.token(false);
  ASSERT_FALSE(first.empty());
  c.post("/v3/kv/put", {{"key", "YQ=="}, {"value", "MQ=="}}, false);
  invalidate_tokens();
  // A write: refused for its token, so not applied, so sent again after a new one.
  auto answer = c.post("/v3/kv/put", {{"key", "YQ=="}, {"value", "Mg=="}, {"prev_kv", true}}, false);
  EXPECT_EQ(answer["prev_kv"].value("value", ""), "MQ==");  // applied once, on top of the first
  EXPECT_NE(c.token(false), first);

  // The same through a store, whose first token is invalidated while it is in use.
  etcd_store s(spec);
  auto t1 = s.txn({}, {put("/k", "1")});
  invalidate_tokens();
  auto t2 = s.txn({compare{"/k", t1.at}}, {put("/k", "2")});
  EXPECT_TRUE(t2.succeeded);
  EXPECT_EQ(s.get("/k")->value, "2");
}

TEST_F(etcd_auth_test, a_watch_whose_stream_returns_after_its_token_was_dropped_renews_it) {
  etcd_store s(auth_spec());
  recorder seen;
  auto w = s.watch("/apps/", s.current_revision(), seen.callback());
  auto t1 = s.txn({}, {put("/apps/a", "1")});
  ASSERT_TRUE(seen.saw(t1.at));
  // The token the stream was opened with is gone, and the stream breaks: it comes back
  // only if it authenticates again.
  invalidate_tokens();
  etcd_->kill(0);
  etcd_->restart(0);
  auto t2 = s.txn({}, {put("/apps/a", "2")});
  EXPECT_TRUE(test::wait_until([&] { return seen.saw(t2.at); }, 20s));
}

}  // namespace
}  // namespace ignite::cluster
