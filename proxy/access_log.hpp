#pragma once
// One JSON line per request (common/log.hpp writes lifecycle events). Lines are appended
// to a per-worker buffer and written when it holds 64 KiB or 50 ms after its first line
// (like nginx's access_log buffer=…, flush=…): a busy worker makes one write(2) for
// hundreds of requests.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "proxy/access_log_sink.hpp"
#include "proxy/io_types.hpp"
#include "proxy/request_error.hpp"

namespace ignite::proxy {

// What one request line says. Never a header value but traceparent's trace id, never a
// body, a token or a secret.
struct request_record {
  std::string_view execution_id;
  std::string_view app_id;   // empty: the request never matched an app
  std::string_view version;  // empty with app_id
  std::string_view method;   // empty: the head was never parsed
  unsigned status = 0;
  std::chrono::microseconds duration{0};
  // Request sent to the pod to the end of its answer; negative: it never reached a pod.
  std::chrono::microseconds upstream_duration{-1};
  std::uint64_t bytes_in = 0;    // from the client: head and body as received
  std::uint64_t bytes_out = 0;   // to the client: head and body as sent
  std::string_view client;       // the client's IP address
  std::string_view tls_version;  // "TLSv1.3"; empty over plain HTTP
  std::string_view trace_id;     // of a valid traceparent the client sent

  proxy_error error = proxy_error::none;
  error_source source = error_source::proxy;
  std::string_view error_detail;  // what the public answer leaves out; log only
  bool cut = false;               // the answer had begun when the error came: cut off
  // With cut: request_timeout, pod_failed, client_closed, client_send_timeout, shutdown.
  std::string_view cut_cause;
  bool cold_start = false;
  bool invoke = false;  // came through the control API's invoke, not the public listener
};

class access_log {
 public:
  // `sink` null: lines go to stderr.
  explicit access_log(boost::asio::io_context& ctx, access_log_sink* sink = nullptr)
      : flush_timer_(ctx.get_executor()), sink_(sink) {}
  ~access_log() { flush(); }

  // Worker thread only.
  void request(const request_record& r);
  void flush();

  // The line for `r`, appended to `out` (exposed for tests).
  static void format(const request_record& r, std::string& out);

 private:
  steady_timer flush_timer_;
  access_log_sink* sink_;
  std::string buffer_;
};

}  // namespace ignite::proxy
