#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>

#include "serving_state.hpp"

namespace greeter {

// Accepts connections on a listening acceptor until it is closed, and runs each in its
// own run_http_session coroutine on the acceptor's executor (the greeter is single
// threaded, so sessions share nothing that needs a lock).
// Every session shares `state`.
boost::asio::awaitable<void> accept_connections(boost::asio::ip::tcp::acceptor acceptor,
                                                std::shared_ptr<serving_state> state);

}  // namespace greeter
