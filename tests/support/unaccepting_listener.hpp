#pragma once

#include <cstdint>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace ignite::test {

// A loopback listener that never accepts, its one-slot backlog already taken by a
// connection of its own: further connects to it neither succeed nor get refused, they
// hang (the kernel drops their SYNs). Stands in for a pod host that does not answer.
class unaccepting_listener {
 public:
  unaccepting_listener();

  std::uint16_t port() const { return port_; }
  // "127.0.0.1:<port>"
  std::string endpoint() const;

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::socket filler_;
  std::uint16_t port_ = 0;
};

}  // namespace ignite::test
