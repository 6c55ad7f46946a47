#pragma once
// One event-loop thread: its own io_context, its own acceptor (a descriptor of the
// listener's one socket), its own sessions, upstream pool, id generator and log buffer. Nothing
// here is touched by another thread except through post(), so the request path takes
// no locks.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/ulid.hpp"
#include "proxy/access_log.hpp"
#include "proxy/access_log_sink.hpp"
#include "proxy/block_recycler.hpp"
#include "proxy/certificate_set.hpp"
#include "proxy/io_types.hpp"
#include "proxy/parking_lot.hpp"
#include "proxy/request_error.hpp"
#include "proxy/route_snapshot.hpp"
#include "proxy/upstream_pool.hpp"
#include "proxy/version_counters.hpp"

namespace ignite::proxy {

class session_base;

// Counters written by one worker, read by anyone (relaxed; summed over workers).
struct worker_stats {
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> connections_rejected{0};       // over max_connections: a fast 503
  std::atomic<std::uint64_t> connections_evicted{0};        // idle, closed by the overload manager
  std::atomic<std::uint64_t> overload_episodes{0};          // times the overload manager switched on
  std::atomic<std::uint64_t> underscore_fields_dropped{0};  // header fields with '_' in the name
  std::atomic<std::uint64_t> body_min_rate_timeouts{0};     // 408s for a body under client_body_min_rate
  std::atomic<std::uint64_t> send_timeouts{0};              // answers cut: the client read none for a while
  std::atomic<bool> overload_active{false};                 // this worker's overload manager is on
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> faults{0};  // exceptions caught at the session or loop boundary
  // By error kind; a 408 counted in body_min_rate_timeouts is not counted here again.
  std::array<std::atomic<std::uint64_t>, k_proxy_error_count> errors{};
  // Requests that matched no app, by version_counters' code slot: never labelled by the
  // host they named.
  std::array<std::atomic<std::uint64_t>, version_counters::k_code_slots> unmatched{};
  std::atomic<std::uint64_t> tls_handshakes{0};
  std::array<std::atomic<std::uint64_t>, 6> tls_handshake_failures{};  // by tls_failure
  std::atomic<std::uint64_t> sni_prewarms{0};  // pods started because a ClientHello named the app
  // Client connections this worker serves now, waiting or busy, plain and TLS: what new
  // connections are spread by (worker::least_loaded).
  std::atomic<std::uint64_t> open_connections{0};

  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t by = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }
};

class worker;

// State shared by all workers of one server.
struct shared_state {
  std::atomic<std::size_t> connections{0};      // every client connection, plain and TLS
  std::atomic<std::size_t> tls_connections{0};  // of which TLS, for /metrics
  std::function<void()> on_worker_drained;      // called on a worker thread
  access_log_sink* access_sink = nullptr;       // null: request lines go to stderr
  // Every worker of the server, set before any starts: a connection accepted by one goes
  // to the least loaded (worker::least_loaded). Empty: each keeps what it accepts.
  std::vector<worker*> workers;
};

class worker {
 public:
  // `index` is this worker's slot in every version's counters (version_counters).
  worker(shared_state& shared, std::shared_ptr<const route_snapshot> snapshot, std::size_t index = 0);
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  boost::asio::io_context& context() noexcept { return ctx_; }

  // Starts the thread; the acceptors are open and listening, on this worker's context.
  // `https` (optional) serves TLS with the certificates set_certificates() gave.
  void start(tcp_acceptor http, std::optional<tcp_acceptor> https = std::nullopt);
  void join();

  // Any thread: posts the new snapshot; requests already running keep theirs. `applied`
  // (optional) runs on the worker thread once new requests use it.
  void publish(std::shared_ptr<const route_snapshot> snapshot, std::function<void()> applied = {});
  // Any thread: new TLS connections use `certificates`; connections already up keep
  // theirs. Call before start() if there is an HTTPS listener.
  void set_certificates(std::shared_ptr<const certificate_set> certificates);
  // Any thread: stop accepting, close idle connections, finish requests in flight.
  void begin_drain();
  // Any thread: close everything now; the thread ends once the cancelled work unwinds.
  void stop();

  // Worker thread only, for sessions.
  const std::shared_ptr<const route_snapshot>& snapshot() const noexcept { return snapshot_; }
  upstream_pool& upstream() noexcept { return upstream_; }
  block_recycler& context_blocks() noexcept { return context_blocks_; }
  common::ulid_generator& ids() noexcept { return ids_; }
  access_log& log() noexcept { return log_; }
  std::size_t index() const noexcept { return index_; }
  const std::shared_ptr<const certificate_set>& certificates() const noexcept { return certificates_; }
  // A TLS ClientHello named `server_name`: if it is an app's host and prewarm_on_sni is
  // on, its active version starts a pod unless one is up.
  void prewarm(std::string_view server_name);
  worker_stats& stats() noexcept { return stats_; }
  shared_state& shared() noexcept { return shared_; }
  bool draining() const noexcept { return draining_; }
  // Near max_connections: sessions wait less for request heads (deadlines.hpp).
  bool overloaded() const noexcept { return overloaded_; }
  void attach(session_base& s) noexcept;
  void detach(session_base& s) noexcept;
  // A session parks between requests (appended: the list stays oldest first) and
  // wakes (removed). unpark is a no-op for a session not in the list.
  void park(session_base& s) noexcept;
  void unpark(session_base& s) noexcept;
  // Plain-TCP connections waiting for a request (parking_lot.hpp).
  parking_lot& parking() noexcept { return parking_; }

  // Any thread.
  const worker_stats& stats() const noexcept { return stats_; }
  const upstream_pool::counters& upstream_stats() const noexcept { return upstream_.stats(); }

 private:
  template <class Stream>
  boost::asio::awaitable<void> accept_loop(tcp_acceptor& acceptor);
  // A new connection, on this worker: admitted (or refused), then served.
  template <class Stream>
  void take(tcp_socket socket);
  // Any thread: a connection another worker accepted, moved here by its descriptor.
  template <class Stream>
  void hand_over(int fd, boost::asio::ip::tcp protocol);
  // The worker, this one on a tie, with the fewest connections counting those handed
  // to it and not yet taken.
  worker& least_loaded() noexcept;
  std::uint64_t load() const noexcept {
    return stats_.open_connections.load(std::memory_order_relaxed) + incoming_.load(std::memory_order_relaxed);
  }
  void close_acceptors();
  void run();
  // The overload manager (Envoy's, in small), run per accepted connection: whether it
  // may be served. See worker.cpp.
  bool admit();
  void update_overload(std::size_t connections);
  void reject(tcp_socket& socket, bool answer_it);
  boost::asio::awaitable<void> linger(tcp_socket socket);

  shared_state& shared_;
  const std::size_t index_;
  // Only this worker's thread touches its sockets and timers (others post()), so the
  // reactor's per-operation locks are switched off; the scheduler stays locked for
  // those posts.
  boost::asio::io_context ctx_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::shared_ptr<const route_snapshot> snapshot_;
  std::unique_ptr<tcp_acceptor> acceptor_;
  std::unique_ptr<tcp_acceptor> tls_acceptor_;
  std::shared_ptr<const certificate_set> certificates_;
  upstream_pool upstream_{ctx_};
  parking_lot parking_{*this};
  block_recycler context_blocks_;
  common::ulid_generator ids_;
  access_log log_;
  worker_stats stats_;
  std::vector<session_base*> sessions_;  // index kept in the session for O(1) removal
  session_base* idle_head_ = nullptr;    // parked sessions, oldest first
  session_base* idle_tail_ = nullptr;
  bool draining_ = false;
  bool overloaded_ = false;
  std::size_t lingering_ = 0;               // refused connections waiting for their client to close
  std::atomic<std::uint64_t> incoming_{0};  // handed over by other workers, not yet taken
  std::thread thread_;
};

}  // namespace ignite::proxy
