#pragma once
// The control API's HTTP client: one HTTP/1.1 request per call, on a new connection,
// with `Authorization: Bearer <token>`. Synchronous for its caller; inside, Beast's
// async operations on a private io_context, so every step has a real timeout.

#include <chrono>
#include <string>
#include <string_view>

#include "cli/endpoint.hpp"

namespace ignite::cli {

enum class http_method { get, post, put, del };

struct api_request {
  http_method method = http_method::get;
  std::string target;  // "/v1/apps/acme-corp:greeter", already percent-encoded
  bool has_body = false;
  std::string body;                  // sent as application/json when has_body
  std::chrono::seconds timeout{60};  // for sending the request and reading the whole answer
};

struct api_response {
  unsigned status = 0;
  std::string reason;
  std::string body;
  std::string execution_id;  // x-ignite-execution-id, if the answer has one
  bool proxy_error = false;  // x-ignite-error: proxy (the proxy made the answer, not the app)
};

class api_client {
 public:
  api_client(endpoint where, std::string token) : where_(std::move(where)), token_(std::move(token)) {}

  // Sends `request` and reads the whole answer, whatever its status. Throws failure
  // (exit 1) if the endpoint cannot be reached, does not answer in time, or answers
  // something that is not HTTP (or over the header or body limits); the message names
  // the endpoint and never contains the token or the request body.
  api_response send(const api_request& request) const;

  const endpoint& where() const { return where_; }

 private:
  endpoint where_;
  std::string token_;
};

}  // namespace ignite::cli
