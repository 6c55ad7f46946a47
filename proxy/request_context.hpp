#pragma once
// Everything one request carries through its phases (Pingora's per-request context):
// what was read, where it is routed, how it ended. It lives in a block recycled per
// worker, not in a coroutine frame. Header fields of the request and of the pod's answer
// come from `arena`, which starts inside the context: a typical request needs no heap
// allocation for its headers.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>

#include "common/ulid.hpp"
#include "proxy/header_rewriter.hpp"
#include "proxy/request_error.hpp"
#include "proxy/request_head_check.hpp"
#include "proxy/route_snapshot.hpp"
#include "proxy/upstream_exchange.hpp"
#include "routing/host.hpp"
#include "routing/route_table.hpp"

namespace ignite::proxy {

struct request_context {
  using clock = std::chrono::steady_clock;

  static constexpr std::size_t k_arena_bytes = 2048;
  alignas(std::max_align_t) std::byte arena_bytes[k_arena_bytes];
  std::pmr::monotonic_buffer_resource arena{arena_bytes, k_arena_bytes};

  clock::time_point start = clock::now();
  std::shared_ptr<const route_snapshot> snapshot;  // the routes this request started with
  common::ulid id;

  // read_head, check_head
  std::size_t head_size = 0;
  head_facts facts;
  request_head head;            // views into head_bytes
  std::string_view head_bytes;  // the head, copied into the arena: the read buffer moves
  bool head_checked = false;    // head and facts hold a head that passed the checks
  // route
  routing::request_target target;
  std::string_view host;  // as the client wrote it (absolute-form target first)
  const routing::app_route* app = nullptr;
  const routing::version_route* version = nullptr;
  // read_body
  std::string body;  // de-chunked
  bool body_done = false;
  bool body_too_slow = false;  // the 408 came from client_body_min_rate, not a stalled read
  std::uint64_t bytes_in = 0;  // head and body as received
  // forward
  std::optional<upstream_exchange> upstream;
  clock::time_point upstream_start;  // the request was sent to the pod; epoch: it never was
  bool response_started = false;     // bytes of the answer went to the client
  std::string_view cut_cause;        // static text: why an answer that began was cut off
  std::uint64_t bytes_out = 0;
  // finish
  request_error error;
  unsigned status = 0;
  bool keep_alive = false;
  bool cold_start = false;

  // relay_response's buffers, here rather than in its coroutine frame: Asio recycles
  // frames only up to about 1 KiB, and larger ones cost an allocation per request.
  struct relay_buffers {
    std::array<boost::asio::const_buffer, 2 + 3 * upstream_exchange::k_max_pieces> out;
    std::array<std::array<char, 18>, upstream_exchange::k_max_pieces> chunk_heads;
    upstream_exchange::body_piece piece;
  } relay;
};

}  // namespace ignite::proxy
