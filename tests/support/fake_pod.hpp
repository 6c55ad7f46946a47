#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "support/pod_reply.hpp"
#include "support/recorded_request.hpp"

namespace ignite::test {

// An HTTP/1.1 server on 127.0.0.1:<kernel-chosen port> standing in for an app's pod.
// It runs in the test process: one thread accepts, one thread per connection reads
// requests with Beast's sync parser, records each complete one, and answers as the
// test scripted (see pod_reply). By default it answers 200 with its name as the body.
// The destructor stops it: no thread or socket outlives the object.
class fake_pod {
 public:
  using handler = std::function<pod_reply(const recorded_request&)>;

  explicit fake_pod(std::string name = "pod");
  ~fake_pod();
  fake_pod(const fake_pod&) = delete;
  fake_pod& operator=(const fake_pod&) = delete;

  std::uint16_t port() const { return port_; }
  // "127.0.0.1:<port>", as a config's endpoints list wants it.
  std::string endpoint() const;
  const std::string& name() const { return name_; }

  // The same answer for every following request.
  void reply_with(pod_reply reply);
  // Decide per request; runs on the connection's thread, after the request is recorded.
  void set_handler(handler h);

  std::vector<recorded_request> requests() const;
  std::size_t request_count() const;
  std::size_t connection_count() const;  // connections accepted so far
  // Connections on which at least one complete request arrived: what upstream reuse is
  // measured by, since a proxy may also open connections only to check that the pod listens.
  std::size_t connections_with_requests() const;
  // Whether accepted connection number `index` (recorded_request::connection) is closed,
  // by either side.
  bool connection_closed(std::size_t index) const;

  // Blocks until at least `n` requests were received or `cap` passed.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds cap) const;

  // Closes the listener and every connection, releases held answers, joins all threads.
  void stop();

 private:
  struct connection;

  void accept_loop();
  void serve(std::shared_ptr<connection> conn);
  // Carries out `reply`; returns whether the connection stays open for another request.
  bool answer(connection& conn, const pod_reply& reply, bool request_keep_alive);
  // Waits for a scripted gate; returns false if the pod is stopping.
  bool wait_gate(const std::shared_ptr<gate>& g);
  void close_connection(connection& conn, bool reset);

  const std::string name_;
  boost::asio::io_context ioc_;  // only owns the sockets; every operation is synchronous
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool stopping_ = false;
  handler handler_;
  std::vector<recorded_request> requests_;
  std::vector<std::shared_ptr<connection>> connections_;
  std::vector<std::thread> connection_threads_;
  std::set<std::shared_ptr<gate>> gates_;

  std::thread accept_thread_;
};

}  // namespace ignite::test
