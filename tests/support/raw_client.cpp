#include "support/raw_client.hpp"

#include <system_error>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

namespace ignite::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

bool close_result::closed() const {
  return ec == net::error::eof || ec == net::error::connection_reset || ec == http::error::end_of_stream;
}

namespace {}  // namespace

raw_client::raw_client(std::uint16_t port, std::chrono::milliseconds cap) : raw_client("127.0.0.1", port, cap) {}

raw_client::raw_client(const std::string& address, std::uint16_t port, std::chrono::milliseconds cap)
    : stream_(ioc_), cap_(cap) {
  if (const auto ec = open(address, port))
    throw std::system_error(ec, "raw_client: connect to " + address + ":" + std::to_string(port));
}

raw_client::raw_client(std::chrono::milliseconds cap) : stream_(ioc_), cap_(cap) {}

beast::error_code raw_client::open(const std::string& address, std::uint16_t port) {
  stream_.expires_after(cap_);
  stream_.async_connect(tcp::endpoint(net::ip::make_address(address), port),
                        [this](beast::error_code ec) { last_error_ = ec; });
  run();
  if (!last_error_) stream_.socket().set_option(tcp::no_delay(true), last_error_);
  return last_error_;
}

beast::error_code raw_client::probe(std::uint16_t port, std::chrono::milliseconds cap) {
  raw_client c(cap);
  return c.open("127.0.0.1", port);
}

void raw_client::run() {
  ioc_.restart();
  ioc_.run();  // returns once the single pending operation (or its timeout) completed
}

beast::error_code raw_client::send(std::string_view bytes) {
  stream_.expires_after(cap_);
  net::async_write(stream_, net::buffer(bytes.data(), bytes.size()),
                   [this](beast::error_code ec, std::size_t) { last_error_ = ec; });
  run();
  return last_error_;
}

raw_response to_raw_response(const http::response_parser<http::string_body>& parser) {
  const auto& msg = parser.get();
  raw_response r;
  r.status = msg.result_int();
  r.reason = std::string(msg.reason());
  r.version = msg.version();
  for (const auto& f : msg.base()) r.headers.add(std::string(f.name_string()), std::string(f.value()));
  r.body = msg.body();
  r.keep_alive = msg.keep_alive();
  r.chunked = parser.chunked();
  return r;
}

std::optional<raw_response> raw_client::read_response() {
  http::response_parser<http::string_body> parser;
  parser.header_limit(1u << 20);
  parser.body_limit(boost::none);
  stream_.expires_after(cap_);
  http::async_read(stream_, buffer_, parser, [this](beast::error_code ec, std::size_t) { last_error_ = ec; });
  run();
  if (last_error_) return std::nullopt;
  return to_raw_response(parser);
}

std::optional<std::string> raw_client::read_until(std::string_view needle) {
  const auto deadline = std::chrono::steady_clock::now() + cap_;
  for (;;) {
    const std::string have = beast::buffers_to_string(buffer_.data());
    if (const auto pos = have.find(needle); pos != std::string::npos) {
      buffer_.consume(pos + needle.size());
      return have.substr(0, pos + needle.size());
    }
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      last_error_ = beast::error::timeout;
      return std::nullopt;
    }
    stream_.expires_after(left);
    stream_.async_read_some(buffer_.prepare(4096), [this](beast::error_code ec, std::size_t n) {
      last_error_ = ec;
      buffer_.commit(n);
    });
    run();
    if (last_error_) return std::nullopt;
  }
}

close_result raw_client::read_until_closed() {
  const auto deadline = std::chrono::steady_clock::now() + cap_;
  close_result result;
  for (;;) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      last_error_ = beast::error::timeout;
      break;
    }
    stream_.expires_after(left);
    stream_.async_read_some(buffer_.prepare(4096), [this](beast::error_code ec, std::size_t n) {
      last_error_ = ec;
      buffer_.commit(n);
    });
    run();
    if (last_error_) break;
  }
  result.data = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  result.ec = last_error_;
  return result;
}

std::string raw_client::pending() const { return beast::buffers_to_string(buffer_.data()); }

void raw_client::close() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
}

}  // namespace ignite::test
