#pragma once

#include <cstddef>
#include <string>

#include "support/header_list.hpp"

namespace ignite::test {

// One complete request as a fake pod received it.
struct recorded_request {
  std::size_t index = 0;       // 0-based order of arrival at this pod
  std::size_t connection = 0;  // 0-based index of the accepted connection it came on
  std::string method;
  std::string target;
  unsigned version = 11;  // 10 or 11
  header_list headers;    // exactly as received, duplicates kept
  std::string body;       // de-chunked if it came chunked
  bool chunked = false;   // framed with Transfer-Encoding: chunked
};

}  // namespace ignite::test
