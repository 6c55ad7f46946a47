#pragma once
// Opening a connection to one etcd member, blocking on a private io_context.

#include <chrono>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "common/host_port.hpp"

namespace ignite::cluster {

// Resolves and connects `stream` (emplaced on `ioc`) to `member` within `timeout`, running
// `ioc` until done; the caller owns `ioc` and runs nothing else on it meanwhile. On
// failure `stream` is empty and the error says why.
boost::beast::error_code dial(boost::asio::io_context& ioc, std::optional<boost::beast::tcp_stream>& stream,
                              const common::host_port& member, std::chrono::milliseconds timeout);

}  // namespace ignite::cluster
