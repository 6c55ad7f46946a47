#include "support/unaccepting_listener.hpp"

namespace ignite::test {

namespace net = boost::asio;
using tcp = net::ip::tcp;

unaccepting_listener::unaccepting_listener() : acceptor_(ioc_), filler_(ioc_) {
  acceptor_.open(tcp::v4());
  acceptor_.bind({net::ip::make_address_v4("127.0.0.1"), 0});
  acceptor_.listen(0);  // Linux keeps backlog + 1 = one connection waiting
  port_ = acceptor_.local_endpoint().port();
  // Completes at once (the kernel accepts it into the queue) and fills the queue.
  filler_.connect(acceptor_.local_endpoint());
}

std::string unaccepting_listener::endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

}  // namespace ignite::test
