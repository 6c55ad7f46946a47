#include "unit/proxy/worker_harness.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <future>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "proxy/client_stream.hpp"
#include "proxy/http_session.hpp"
#include "support/wait_until.hpp"

namespace ignite::proxy::testing {

namespace net = boost::asio;
using tcp = net::ip::tcp;

worker_harness::worker_harness(const std::string& endpoint, nlohmann::json limits)
    : supervisor_work_(
          std::make_unique<net::executor_work_guard<net::io_context::executor_type>>(supervisor_ctx_.get_executor())),
      pools_({&static_provider_, nullptr, nullptr}, clock_) {
  supervisor_ = std::thread([this] { supervisor_ctx_.run(); });
  nlohmann::json doc = {
      {"domain", "ignite.dodil.cloud"},
      {"listen", {{"http", "127.0.0.1:0"}}},
      {"threads", 1},
      {"limits", std::move(limits)},
      {"apps",
       {{{"org", "acme-corp"}, {"name", "greeter"}, {"versions", {{{"version", 1}, {"endpoints", {endpoint}}}}}}}}};
  config_ = routing::parse_config(doc);
  pools_.begin();
  snapshot_ = std::make_shared<const route_snapshot>(config_, pools_);
  pools_.commit();
  worker_ = std::make_unique<proxy::worker>(shared_, snapshot_);
  tcp_acceptor acceptor(worker_->context().get_executor());
  tcp::endpoint at(net::ip::make_address("127.0.0.1"), 0);
  acceptor.open(at.protocol());
  acceptor.bind(at);
  acceptor.listen();
  port_ = acceptor.local_endpoint().port();
  worker_->start(std::move(acceptor));
  auto pools = pools_.pools();
  if (!test::wait_until([&] { return pools.at(0)->stats().ready == 1; }, std::chrono::seconds(5)))
    throw std::runtime_error("the pod at " + endpoint + " never became ready");
}

worker_harness::~worker_harness() {
  if (tls_acceptor_)
    on_worker_thread([this] {
      boost::system::error_code ignored;
      tls_acceptor_->close(ignored);
    });
  worker_->stop();
  worker_->join();
  worker_.reset();
  pools_.stop_all();
  supervisor_work_.reset();
  test::wait_until([&] { return pools_.all_stopped(); }, std::chrono::seconds(5));
  supervisor_ctx_.stop();
  supervisor_.join();
}

void worker_harness::on_worker_thread(std::function<void()> fn) {
  std::promise<void> done;
  net::post(worker_->context(), [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

std::uint16_t worker_harness::listen_tls(net::ssl::context& tls) {
  auto acceptor = tls_acceptor_ = std::make_shared<tcp_acceptor>(worker_->context().get_executor());
  tcp::endpoint at(net::ip::make_address("127.0.0.1"), 0);
  acceptor->open(at.protocol());
  acceptor->bind(at);
  acceptor->listen();
  const auto port = acceptor->local_endpoint().port();
  auto* w = worker_.get();
  auto* shared = &shared_;
  net::co_spawn(
      worker_->context(),
      [acceptor, w, shared, &tls]() -> net::awaitable<void> {
        constexpr auto use = net::as_tuple(net::use_awaitable);
        for (;;) {
          auto [ec, socket] = co_await acceptor->async_accept(use);
          if (ec) co_return;
          // The session runs the handshake itself, as the worker's HTTPS listener has it.
          shared->connections.fetch_add(1);
          std::make_shared<http_session<tls_stream>>(*w, tls_stream(std::move(socket), tls))->start();
        }
      },
      net::detached);
  return port;
}

test_certificate make_certificate(const std::string& name) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert, subject);
  X509_sign(cert, key, EVP_sha256());
  auto pem = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return out;
  };
  test_certificate out;
  out.cert_pem = pem([&](BIO* b) { PEM_write_bio_X509(b, cert); });
  out.key_pem = pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace ignite::proxy::testing
