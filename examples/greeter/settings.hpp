#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace greeter {

// Everything the greeter takes from its environment. A pod is configured the way the
// platform configures it (PORT, IGNITE_*), plus knobs that fake slow or broken starts
// (and slow or crashing pods) for cold-start demos and tests:
//   GREETER_START_DELAY_MS=<ms>       boot this long before listening
//   GREETER_EXIT_BEFORE_LISTEN=<code> exit with <code> instead of listening
//   GREETER_NEVER_LISTEN=1            keep running without ever listening
//   GREETER_RESPONSE_DELAY_MS=<ms>    hold every answer this long after its request has
//                                     been read, so requests in flight at once (and the
//                                     pods a proxy scales out to) can be observed
//   GREETER_EXIT_AFTER_REQUESTS=<n>   after writing the n-th answer, end at once with
//                                     status 70, as a crash would: connections still open
//                                     are cut, requests in flight are never answered
// Every answer carries x-greeter-version (IGNITE_VERSION) when that is set, so a client
// can tell which version served it.
struct settings {
  std::string host = "127.0.0.1";                    // HOST: an IP, e.g. 0.0.0.0 in a container
  std::uint16_t port = 8080;                         // PORT
  std::chrono::milliseconds start_delay{0};          // GREETER_START_DELAY_MS
  std::optional<int> exit_before_listen;             // GREETER_EXIT_BEFORE_LISTEN=<code>
  bool never_listen = false;                         // GREETER_NEVER_LISTEN=1
  std::chrono::milliseconds response_delay{0};       // GREETER_RESPONSE_DELAY_MS
  std::optional<std::uint64_t> exit_after_requests;  // GREETER_EXIT_AFTER_REQUESTS=<n>
  std::string app_id;                                // IGNITE_APP_ID, only reported
  std::string version;                               // IGNITE_VERSION, reported and echoed

  // Reads the variables above. Throws std::invalid_argument naming the variable when
  // a value does not parse, so a misconfigured pod fails before it listens.
  static settings from_environment();
};

}  // namespace greeter
