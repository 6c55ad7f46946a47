#include "admin/admin_server.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "admin/admin_session.hpp"
#include "common/log.hpp"

namespace ignite::admin {

namespace net = boost::asio;

namespace {
constexpr int k_nice = 10;
}  // namespace

admin_server::admin_server(control_plane& plane, std::shared_ptr<const proxy::route_snapshot> snapshot, readiness ready,
                           admin_limits limits)
    : plane_(plane), snapshot_(std::move(snapshot)), ready_(std::move(ready)), limits_(limits) {}

admin_server::~admin_server() { stop(); }

void admin_server::start(proxy::tcp_acceptor acceptor) {
  acceptor_ = std::make_unique<proxy::tcp_acceptor>(std::move(acceptor));
  net::co_spawn(ctx_, accept_loop(), net::detached);
  net::co_spawn(ctx_, upstream_.sweep(), net::detached);
  thread_ = std::thread([this] {
    // The control plane is background work next to the data plane: a route rebuild over
    // many apps must not take a core from the workers on a small machine.
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), k_nice);
    for (;;) {
      try {
        ctx_.run();
        break;
      } catch (const std::exception& e) {
        std::string fields = "\"what\":";
        common::append_json_string(fields, e.what());
        common::log_event("admin_fault", fields);
      }
    }
  });
}

void admin_server::stop() {
  if (!thread_.joinable()) return;
  net::post(ctx_, [this] {
    stopping_ = true;
    boost::system::error_code ignored;
    if (acceptor_) acceptor_->close(ignored);
    auto sessions = sessions_;
    for (auto* s : sessions) s->close();
    upstream_.close_all();
  });
  thread_.join();
}

void admin_server::publish(std::shared_ptr<const proxy::route_snapshot> snapshot) {
  // A change made through the API is published from the admin thread itself: the next
  // request on it (an invoke right after a publish) must see it.
  if (ctx_.get_executor().running_in_this_thread()) {
    snapshot_ = std::move(snapshot);
    return;
  }
  net::post(ctx_, [this, snapshot = std::move(snapshot)]() mutable { snapshot_ = std::move(snapshot); });
}

void admin_server::attach(admin_session* s) {
  sessions_.push_back(s);
  connections_.store(sessions_.size(), std::memory_order_relaxed);
}

void admin_server::detach(admin_session* s) {
  std::erase(sessions_, s);
  connections_.store(sessions_.size(), std::memory_order_relaxed);
}

void admin_server::write_access_log(std::string_view lines) {
  if (access_sink_)
    access_sink_->write(lines);
  else
    common::log_write(lines);
}

net::awaitable<void> admin_server::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_->async_accept(net::as_tuple(net::use_awaitable));
    if (stopping_ || ec == net::error::operation_aborted) co_return;
    if (ec) continue;
    // Its own cap: a flood of admin connections cannot take descriptors from the data plane.
    if (sessions_.size() >= limits_.max_connections) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    std::make_shared<admin_session>(*this, std::move(socket))->start();
  }
}

}  // namespace ignite::admin
