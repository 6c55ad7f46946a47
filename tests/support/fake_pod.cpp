#include "support/fake_pod.hpp"

#include <sys/socket.h>

#include <cstdio>

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

namespace ignite::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

// A scripted hold never blocks a test for longer than this, even if the test forgets
// to open its gate.
constexpr std::chrono::seconds k_gate_cap{10};

std::string chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return std::string(size) + std::string(data) + "\r\n";
}

bool has_header(const pod_reply& reply, std::string_view name) {
  for (const auto& [n, v] : reply.headers)
    if (iequals(n, name)) return true;
  return false;
}

}  // namespace

struct fake_pod::connection {
  explicit connection(net::io_context& ioc, std::size_t i) : socket(ioc), index(i) {}
  tcp::socket socket;
  std::size_t index;
  bool closed = false;  // guarded by fake_pod::mutex_; the fd is never touched once set
};

fake_pod::fake_pod(std::string name) : name_(std::move(name)), acceptor_(ioc_) {
  acceptor_.open(tcp::v4());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind({net::ip::make_address_v4("127.0.0.1"), 0});
  acceptor_.listen(net::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
  reply_with(pod_reply::text(name_));
  accept_thread_ = std::thread([this] { accept_loop(); });
}

fake_pod::~fake_pod() { stop(); }

std::string fake_pod::endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

void fake_pod::reply_with(pod_reply reply) {
  set_handler([reply = std::move(reply)](const recorded_request&) { return reply; });
}

void fake_pod::set_handler(handler h) {
  std::lock_guard lock(mutex_);
  handler_ = std::move(h);
}

std::vector<recorded_request> fake_pod::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t fake_pod::request_count() const {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

std::size_t fake_pod::connection_count() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

std::size_t fake_pod::connections_with_requests() const {
  std::lock_guard lock(mutex_);
  std::set<std::size_t> used;
  for (const auto& r : requests_) used.insert(r.connection);
  return used.size();
}

bool fake_pod::connection_closed(std::size_t index) const {
  std::lock_guard lock(mutex_);
  return index < connections_.size() && connections_[index]->closed;
}

bool fake_pod::wait_for_requests(std::size_t n, std::chrono::milliseconds cap) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, cap, [&] { return requests_.size() >= n; });
}

void fake_pod::stop() {
  std::set<std::shared_ptr<gate>> gates;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    // shutdown() wakes the threads blocked in accept() and read() on these sockets;
    // closing them is left to their own threads so no fd is reused under a blocked call.
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    for (auto& conn : connections_)
      if (!conn->closed) ::shutdown(conn->socket.native_handle(), SHUT_RDWR);
    gates.swap(gates_);
  }
  changed_.notify_all();
  // Held answers are released so their threads can notice the shut-down socket and end.
  for (auto& g : gates) g->open();
  accept_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    threads.swap(connection_threads_);
  }
  for (auto& t : threads) t.join();
  beast::error_code ec;
  acceptor_.close(ec);
}

void fake_pod::accept_loop() {
  for (;;) {
    std::shared_ptr<connection> conn;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      conn = std::make_shared<connection>(ioc_, connections_.size());
    }
    beast::error_code ec;
    acceptor_.accept(conn->socket, ec);
    std::lock_guard lock(mutex_);
    if (ec || stopping_) {
      if (!ec) conn->socket.close(ec);
      return;
    }
    connections_.push_back(conn);
    connection_threads_.emplace_back([this, conn] { serve(conn); });
    changed_.notify_all();
  }
}

void fake_pod::serve(std::shared_ptr<connection> conn) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(1u << 20);
    parser.body_limit(boost::none);  // the proxy enforces the body limit, not the pod
    beast::error_code ec;
    http::read(conn->socket, buffer, parser, ec);
    if (ec) break;  // end of stream, reset or stop(): nothing more to serve on this connection

    const auto& msg = parser.get();
    recorded_request rec;
    rec.connection = conn->index;
    rec.method = std::string(msg.method_string());
    rec.target = std::string(msg.target());
    rec.version = msg.version();
    for (const auto& f : msg.base()) rec.headers.add(std::string(f.name_string()), std::string(f.value()));
    rec.body = msg.body();
    rec.chunked = parser.chunked();

    handler h;
    {
      std::lock_guard lock(mutex_);
      rec.index = requests_.size();
      requests_.push_back(rec);
      h = handler_;
    }
    changed_.notify_all();

    if (!answer(*conn, h(rec), msg.keep_alive())) return;
  }
  close_connection(*conn, false);
}

bool fake_pod::wait_gate(const std::shared_ptr<gate>& g) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    gates_.insert(g);  // so stop() can release it
  }
  g->wait(k_gate_cap);
  std::lock_guard lock(mutex_);
  return !stopping_;
}

bool fake_pod::answer(connection& conn, const pod_reply& reply, bool request_keep_alive) {
  if (reply.hold && !wait_gate(reply.hold)) {
    close_connection(conn, false);
    return false;
  }
  if (reply.delay.count() > 0) {
    std::unique_lock lock(mutex_);
    // A stop() cuts the delay short.
    if (changed_.wait_for(lock, reply.delay, [this] { return stopping_; })) {
      lock.unlock();
      close_connection(conn, false);
      return false;
    }
  }

  beast::error_code ec;
  switch (reply.what) {
    case pod_reply::action::reset:
      close_connection(conn, true);
      return false;
    case pod_reply::action::close:
      close_connection(conn, false);
      return false;
    case pod_reply::action::garbage:
      net::write(conn.socket, net::buffer(reply.garbage), ec);
      close_connection(conn, false);
      return false;
    case pod_reply::action::respond:
      break;
  }

  std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                     std::string(http::obsolete_reason(static_cast<http::status>(reply.status))) + "\r\n";
  for (const auto& [n, v] : reply.headers) head += n + ": " + v + "\r\n";
  const bool streamed = !reply.chunks.empty();
  if (streamed && !has_header(reply, "Transfer-Encoding")) head += "Transfer-Encoding: chunked\r\n";
  if (!streamed && !has_header(reply, "Content-Length") && !has_header(reply, "Transfer-Encoding"))
    head += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
  if (reply.connection_close) head += "Connection: close\r\n";
  head += "\r\n";

  if (!streamed) {
    net::write(conn.socket, net::buffer(head + reply.body), ec);
  } else {
    net::write(conn.socket, net::buffer(head + chunk(reply.chunks.front())), ec);
    if (!ec && reply.after_first_chunk && !wait_gate(reply.after_first_chunk)) {
      close_connection(conn, false);
      return false;
    }
    std::string rest;
    for (std::size_t i = 1; i < reply.chunks.size(); ++i) rest += chunk(reply.chunks[i]);
    rest += "0\r\n\r\n";
    if (!ec) net::write(conn.socket, net::buffer(rest), ec);
  }

  if (ec || reply.connection_close || reply.close_after || !request_keep_alive) {
    close_connection(conn, false);
    return false;
  }
  return true;
}

void fake_pod::close_connection(connection& conn, bool reset) {
  std::lock_guard lock(mutex_);
  if (conn.closed) return;
  beast::error_code ec;
  if (reset) {
    // Linger 0 turns close() into a RST.
    conn.socket.set_option(net::socket_base::linger(true, 0), ec);
  } else {
    // FIN first so the peer sees an orderly end of stream.
    conn.socket.shutdown(tcp::socket::shutdown_send, ec);
  }
  conn.socket.close(ec);
  conn.closed = true;
  changed_.notify_all();
}

}  // namespace ignite::test
