#pragma once
// JSON lines on stderr: one per request, plus lifecycle events. Request lines are
// appended to a per-worker buffer and written when it holds 64 KiB or 50 ms after its
// first line (like nginx's access_log buffer=…, flush=…): a busy worker makes one
// write(2) for hundreds of requests.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "proxy/io_types.hpp"

#include "proxy/proxy_error.hpp"

namespace ignite::proxy {

struct request_record {
  std::string_view execution_id;
  std::string_view app_id;   // empty: the request never matched an app
  std::string_view version;  // empty with app_id
  unsigned status = 0;
  std::chrono::microseconds duration{0};
  proxy_error error = proxy_error::none;
  bool cold_start = false;
};

class access_log {
 public:
  explicit access_log(boost::asio::io_context& ctx) : flush_timer_(ctx.get_executor()) {}
  ~access_log() { flush(); }

  // Worker thread only.
  void request(const request_record& r);
  void flush();

  // Any thread: a lifecycle line `{"time":…,"event":event,<fields>}`; `fields_json` is
  // either empty or `"key":value,…` already escaped.
  static void event(std::string_view event, std::string_view fields_json = {});

  // Appends `s` as the body of a JSON string (no quotes).
  static void append_escaped(std::string& out, std::string_view s);

 private:
  steady_timer flush_timer_;
  std::string buffer_;
};

}  // namespace ignite::proxy
