#include "cluster/etcd_dial.hpp"

#include <string>

#include <boost/asio/ip/tcp.hpp>

namespace ignite::cluster {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

beast::error_code dial(net::io_context& ioc, std::optional<beast::tcp_stream>& stream, const common::host_port& member,
                       std::chrono::milliseconds timeout) {
  stream.reset();
  beast::error_code ec;
  tcp::resolver resolver(ioc);
  tcp::resolver::results_type results;
  resolver.async_resolve(member.host, std::to_string(member.port),
                         [&](beast::error_code e, tcp::resolver::results_type r) {
                           ec = e;
                           results = std::move(r);
                         });
  ioc.restart();
  ioc.run();
  if (ec) return ec;
  stream.emplace(ioc);
  stream->expires_after(timeout);
  stream->async_connect(results, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  ioc.restart();
  ioc.run();
  if (!ec) stream->socket().set_option(tcp::no_delay(true), ec);
  if (ec) stream.reset();
  return ec;
}

}  // namespace ignite::cluster
