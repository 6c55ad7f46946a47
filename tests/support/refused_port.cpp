#include "support/refused_port.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace ignite::test {

std::uint16_t refused_port() {
  namespace net = boost::asio;
  net::io_context ioc;
  // An acceptor that is bound but never listens: the port is allocated, then released
  // when the acceptor closes at the end of this scope.
  net::ip::tcp::acceptor acceptor(ioc);
  acceptor.open(net::ip::tcp::v4());
  acceptor.bind({net::ip::make_address_v4("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

}  // namespace ignite::test
