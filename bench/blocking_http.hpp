#pragma once
// Blocking HTTP/1.1 over plain sockets for the cluster benches (cluster_publish,
// cluster_pods): one request per connection, or a keep-alive connection that reads
// answers framed by Content-Length. Small on purpose: what they time is the nodes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace bench {

struct address {
  std::string host;
  int port = 0;
};

inline address parse(const std::string& s) {
  auto colon = s.rfind(':');
  return {s.substr(0, colon), std::atoi(s.c_str() + colon + 1)};
}

// A connected socket with TCP_NODELAY, or -1.
inline int dial(const address& to) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(to.port));
  ::inet_pton(AF_INET, to.host.c_str(), &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// One request on a new connection (Connection: close); the status, or 0.
inline int exchange(const address& to, const std::string& request, std::string* body = nullptr) {
  int fd = dial(to);
  if (fd < 0) return 0;
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  if (answer.size() < 12) return 0;
  if (body) *body = answer.substr(answer.find("\r\n\r\n") + 4);
  return std::atoi(answer.c_str() + 9);
}

inline std::string request(const std::string& method, const std::string& path, const std::string& host,
                           const std::string& token, const std::string& body, bool close = true) {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n";
  if (close) r += "Connection: close\r\n";
  if (!token.empty()) r += "Authorization: Bearer " + token + "\r\n";
  r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return r;
}

// A keep-alive connection: send a request, read one answer framed by Content-Length.
class keep_alive {
 public:
  explicit keep_alive(const address& to) : fd_(dial(to)) {}
  ~keep_alive() {
    if (fd_ >= 0) ::close(fd_);
  }
  keep_alive(const keep_alive&) = delete;
  keep_alive& operator=(const keep_alive&) = delete;

  // The status, or 0 if the connection failed.
  int exchange(const std::string& request) {
    if (fd_ < 0 || ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
      return 0;
    std::size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return 0;
    const auto head = buffer_.substr(0, head_end);
    std::size_t length = 0;
    for (const char* name : {"Content-Length: ", "content-length: "})
      if (auto at = head.find(name); at != std::string::npos)
        length = std::strtoul(head.c_str() + at + std::char_traits<char>::length(name), nullptr, 10);
    while (buffer_.size() < head_end + 4 + length)
      if (!fill()) return 0;
    const int status = std::atoi(buffer_.c_str() + 9);
    buffer_.erase(0, head_end + 4 + length);
    return status;
  }

 private:
  bool fill() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  int fd_;
  std::string buffer_;
};

}  // namespace bench
