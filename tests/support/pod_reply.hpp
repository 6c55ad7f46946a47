#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "support/gate.hpp"

namespace ignite::test {

// What a fake pod does with one request it has read completely.
struct pod_reply {
  enum class action {
    respond,  // send an HTTP/1.1 answer built from the fields below
    reset,    // reset the connection (RST) without answering
    garbage,  // write `garbage` and close
    close,    // close the connection gracefully without answering
  };

  action what = action::respond;
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // Non-empty: answer with Transfer-Encoding: chunked, one HTTP chunk per element
  // (`body` is ignored). The header and the first chunk go out at once.
  std::vector<std::string> chunks;
  // Streaming: after the first chunk, wait for this gate before sending the rest.
  std::shared_ptr<gate> after_first_chunk;

  // Before sending anything, wait for this gate (capped, and opened when the pod stops).
  std::shared_ptr<gate> hold;
  // Then wait this long: a slow pod, not a synchronisation device.
  std::chrono::milliseconds delay{0};

  bool connection_close = false;  // answer with "Connection: close" and close afterwards
  bool close_after = false;       // close after the answer without announcing it

  std::string garbage = "THIS IS NOT HTTP AT ALL\r\n\r\n";

  static pod_reply text(std::string body, unsigned status = 200) {
    pod_reply r;
    r.status = status;
    r.body = std::move(body);
    r.headers.emplace_back("Content-Type", "text/plain");
    return r;
  }
  static pod_reply of(action what) {
    pod_reply r;
    r.what = what;
    return r;
  }
};

}  // namespace ignite::test
