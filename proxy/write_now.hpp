#pragma once
// A write that does not wait. An answer or a request usually fits the socket's send
// buffer whole, so sending it at once needs no asynchronous operation: no coroutine
// frame for one, and no timer for how long it may take. Only what the socket does not
// take goes to async_write.

#include <cstddef>
#include <span>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>

namespace ignite::proxy {

// Sends what `socket` takes of `buffers` now, in one sendmsg; `buffers` is left holding
// the rest (empty when all went). The socket must be non-blocking
// (socket.non_blocking(true)); EAGAIN is not an error: the rest waits for async_write.
// Returns the bytes sent; `ec` is a real failure (the peer reset, ...).
template <class Socket>
std::size_t write_now(Socket& socket, std::span<boost::asio::const_buffer>& buffers, boost::system::error_code& ec) {
  const auto sent = socket.write_some(buffers, ec);
  if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) ec = {};
  auto n = sent;
  while (!buffers.empty() && n >= buffers.front().size()) {
    n -= buffers.front().size();
    buffers = buffers.subspan(1);
  }
  if (!buffers.empty()) buffers.front() += n;
  return sent;
}

}  // namespace ignite::proxy
