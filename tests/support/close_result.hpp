#pragma once

#include <string>

#include <boost/beast/core/error.hpp>

namespace ignite::test {

// How a connection ended while raw_client read it to the end.
struct close_result {
  std::string data;             // everything received before the end
  boost::beast::error_code ec;  // eof, connection_reset, or timeout when it did not end

  // The server closed (orderly or by reset) within the cap.
  bool closed() const;
};

}  // namespace ignite::test
