#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string_view>

namespace greeter {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// The app itself, with no sockets in sight: POST / with {"name":"ada"} answers
// {"greeting":"Hello, ada!"}; a missing name (or an empty body) greets the world.
// Other methods get 405, other paths 404, a body that is not a JSON object 400.
// The response is complete (Content-Length set) and keeps the request's keep-alive.
response make_greeting(const request& req);

// A JSON error answer, {"error": message}, ready to write.
response make_error(http::status status, std::string_view message, unsigned version, bool keep_alive);

}  // namespace greeter
