#include "proxy/server.hpp"

#include <sys/resource.h>
#include <sys/socket.h>

#include <csignal>
#include <thread>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include "proxy/access_log.hpp"
#include "proxy/route_snapshot.hpp"

namespace ignite::proxy {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

tcp::endpoint parse_listen(const std::string& address) {
  auto colon = address.rfind(':');
  auto host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {net::ip::make_address(host), static_cast<unsigned short>(std::stoul(address.substr(colon + 1)))};
}

// One acceptor per worker on the same port: the kernel spreads new connections over
// them (SO_REUSEPORT), so workers never share an accept queue or a lock.
tcp::acceptor open_acceptor(net::io_context& ctx, const tcp::endpoint& at) {
  tcp::acceptor acceptor(ctx);
  acceptor.open(at.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  int one = 1;
  if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    throw std::system_error(errno, std::generic_category(), "SO_REUSEPORT");
  acceptor.bind(at);
  acceptor.listen(net::socket_base::max_listen_connections);
  return acceptor;
}

// max_connections is useless if the process runs out of descriptors first.
void raise_descriptor_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  access_log::append_escaped(out, s);
  return out + "\"";
}

}  // namespace

server::server(std::filesystem::path config_path, routing::config cfg)
    : config_path_(std::move(config_path)), config_(std::move(cfg)) {
  raise_descriptor_limit();
  std::signal(SIGPIPE, SIG_IGN);
  auto snapshot = std::make_shared<const route_snapshot>(config_, pools_);
  unsigned threads = config_.threads ? config_.threads : std::max(1u, std::thread::hardware_concurrency());
  shared_.on_worker_drained = [this] {
    net::post(ctx_, [this] {
      if (draining_ && shared_.connections.load() == 0) finish();
    });
  };
  auto at = parse_listen(config_.listen.http);
  for (unsigned i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<worker>(shared_, snapshot));
    acceptors_.push_back(open_acceptor(workers_.back()->context(), at));
    at = acceptors_.back().local_endpoint();  // port 0: the rest join the port the first got
  }
}

server::~server() {
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
}

int server::run() {
  auto bound = acceptors_.front().local_endpoint();
  for (std::size_t i = 0; i < workers_.size(); ++i) workers_[i]->start(std::move(acceptors_[i]));
  acceptors_.clear();
  signals_.add(SIGHUP);
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  wait_for_signal();
  access_log::event("listening", "\"listener\":\"http\",\"address\":" +
                                     json_string(bound.address().to_string() + ":" + std::to_string(bound.port())) +
                                     ",\"threads\":" + std::to_string(workers_.size()));
  ctx_.run();
  for (auto& w : workers_) w->join();
  access_log::event("stopped");
  return 0;
}

void server::wait_for_signal() {
  signals_.async_wait([this](boost::system::error_code ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) reload();
    else begin_drain();
    if (!finished_) wait_for_signal();
  });
}

void server::reload() {
  try {
    auto cfg = routing::load_config_file(config_path_);
    if (cfg.listen.http != config_.listen.http || cfg.threads != config_.threads)
      access_log::event("reload_warning", "\"message\":\"listen and threads take effect on restart\"");
    auto snapshot = std::make_shared<const route_snapshot>(cfg, pools_);
    for (auto& w : workers_) w->publish(snapshot);
    config_ = std::move(cfg);
    pools_.prune();
    access_log::event("reloaded", "\"apps\":" + std::to_string(config_.apps.size()));
  } catch (const std::exception& e) {
    access_log::event("reload_failed", "\"error\":" + json_string(e.what()));
  }
}

void server::begin_drain() {
  if (draining_) return;
  draining_ = true;
  access_log::event("draining", "\"connections\":" + std::to_string(shared_.connections.load()));
  for (auto& w : workers_) w->begin_drain();
  drain_timer_.expires_after(config_.limits.drain_timeout);
  drain_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || finished_) return;
    access_log::event("drain_timeout", "\"connections\":" + std::to_string(shared_.connections.load()));
    finish();
  });
  if (shared_.connections.load() == 0) net::post(ctx_, [this] { finish(); });
}

void server::finish() {
  if (finished_) return;
  finished_ = true;
  drain_timer_.cancel();
  signals_.cancel();
  for (auto& w : workers_) w->stop();
}

}  // namespace ignite::proxy
