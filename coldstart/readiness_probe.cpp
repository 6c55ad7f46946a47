#include "coldstart/readiness_probe.hpp"

namespace ignite::coldstart {

namespace net = boost::asio;
using tcp = net::ip::tcp;

readiness_probe::readiness_probe(net::io_context& ctx, tcp::endpoint target, std::function<void()> on_listening)
    : ctx_(ctx), target_(target), on_listening_(std::move(on_listening)), socket_(ctx), timer_(ctx) {}

std::chrono::milliseconds readiness_probe::interval(std::chrono::steady_clock::duration elapsed) noexcept {
  using namespace std::chrono_literals;
  if (elapsed < 5s) return 1ms;
  if (elapsed < 60s) return 10ms;
  return 100ms;
}

void readiness_probe::start() {
  cancelled_ = false;
  started_ = std::chrono::steady_clock::now();
  attempt();
}

void readiness_probe::cancel() {
  cancelled_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  timer_.cancel();
}

void readiness_probe::attempt() {
  boost::system::error_code ec;
  socket_.close(ec);
  socket_.open(target_.protocol(), ec);
  socket_.async_connect(target_, [self = shared_from_this()](boost::system::error_code ec) {
    if (self->cancelled_) return;
    boost::system::error_code ignored;
    self->socket_.close(ignored);  // a probe only proves the port accepts; it sends nothing
    if (!ec) {
      self->cancelled_ = true;
      self->on_listening_();
      return;
    }
    self->timer_.expires_after(interval(std::chrono::steady_clock::now() - self->started_));
    self->timer_.async_wait([self](boost::system::error_code ec) {
      if (!ec && !self->cancelled_) self->attempt();
    });
  });
}

}  // namespace ignite::coldstart
