#pragma once
// Readiness is the moment a pod accepts a TCP connection on its port. The probe tries
// to connect every millisecond at first — a held request should reach a pod within a
// few milliseconds of it listening — and slows down for pods that take long, so a pod
// that never listens costs little.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace ignite::coldstart {

class readiness_probe : public std::enable_shared_from_this<readiness_probe> {
 public:
  // `on_listening` runs once, on `ctx`, when a connection to `target` succeeds.
  readiness_probe(boost::asio::io_context& ctx, boost::asio::ip::tcp::endpoint target,
                  std::function<void()> on_listening);

  void start();
  // Stops probing; on_listening is not called after this returns (same thread).
  void cancel();

  // The interval after `elapsed` of probing.
  static std::chrono::milliseconds interval(std::chrono::steady_clock::duration elapsed) noexcept;

 private:
  void attempt();

  boost::asio::io_context& ctx_;
  boost::asio::ip::tcp::endpoint target_;
  std::function<void()> on_listening_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point started_;
  bool cancelled_ = false;
};

}  // namespace ignite::coldstart
