// tls_cold_start: cold starts over TLS, one per app, timed from the TCP connect to the
// last byte of the answer. Each run opens a TLS connection with the app's name as SNI,
// waits `delay_ms` after the handshake (what a real client spends before its request
// arrives: a round trip, then the upload), then sends one POST / and reads the answer.
//
//   tls_cold_start PORT HOST_PATTERN FIRST LAST DELAY_MS
//
// HOST_PATTERN has one %d, replaced by FIRST..LAST: each run goes to another (cold) app.
// Prints one line per run, "<ms> <x-ignite-cold-start>", then "median <ms>".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "tls_cold_start: %s\n", why.c_str());
  ERR_print_errors_fp(stderr);
  std::exit(1);
}

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(static_cast<std::uint16_t>(port));
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) die("connect failed");
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// One run: milliseconds from connect to the answer's last byte, and its cold-start header.
std::pair<double, std::string> run(SSL_CTX* ctx, int port, const std::string& host, int delay_ms) {
  const auto t0 = clock_type::now();
  int fd = connect_to(port);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, host.c_str());
  if (SSL_connect(ssl) != 1) die("handshake with " + host + " failed");
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  const std::string body = R"({"name":"ada"})";
  const std::string request =
      "POST / HTTP/1.1\r\nHost: " + host +
      "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;
  if (SSL_write(ssl, request.data(), static_cast<int>(request.size())) <= 0) die("write failed");
  std::string answer;
  char buf[4096];
  for (;;) {
    int n = SSL_read(ssl, buf, sizeof buf);
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
  }
  const auto t1 = clock_type::now();
  SSL_free(ssl);
  ::close(fd);
  if (answer.rfind("HTTP/1.1 200", 0) != 0) die("not a 200 from " + host + ": " + answer.substr(0, 200));
  std::string cold = "?";
  if (auto at = answer.find("x-ignite-cold-start: "); at != std::string::npos)
    cold = answer.substr(at + 21, answer.find("\r\n", at) - at - 21);
  return {std::chrono::duration<double, std::milli>(t1 - t0).count(), cold};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: tls_cold_start PORT HOST_PATTERN FIRST LAST DELAY_MS\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string pattern = argv[2];
  const int first = std::atoi(argv[3]), last = std::atoi(argv[4]), delay_ms = std::atoi(argv[5]);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);  // a bench: the proxy's test certificate
  std::vector<double> times;
  for (int i = first; i <= last; ++i) {
    char host[256];
    std::snprintf(host, sizeof host, pattern.c_str(), i);
    auto [ms, cold] = run(ctx, port, host, delay_ms);
    std::printf("%.1f %s\n", ms, cold.c_str());
    times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  std::printf("median %.1f\n", times[times.size() / 2]);
  SSL_CTX_free(ctx);
  return 0;
}
