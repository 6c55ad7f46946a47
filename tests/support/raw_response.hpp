#pragma once

#include <string>

#include "support/header_list.hpp"

namespace ignite::test {

// One HTTP response as raw_client parsed it.
struct raw_response {
  unsigned status = 0;
  std::string reason;
  unsigned version = 11;
  header_list headers;
  std::string body;        // de-chunked
  bool keep_alive = true;  // per the version and Connection header
  bool chunked = false;
};

}  // namespace ignite::test
