#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>

#include "serving_state.hpp"

namespace greeter {

// Serves one client connection until the client closes it, idles out or sends something
// unreadable: reads a request (headers, then body), answers it, and loops while the
// client keeps the connection alive. Nothing a client sends makes it throw.
// Every answer carries x-greeter-listening-at-us (state->listening_at_us),
// x-greeter-received-at-us (when that request's headers had arrived) and, when
// IGNITE_VERSION is set, x-greeter-version. The slow-answer and crash knobs of
// state->config act here.
boost::asio::awaitable<void> run_http_session(boost::asio::ip::tcp::socket socket,
                                              std::shared_ptr<serving_state> state);

}  // namespace greeter
