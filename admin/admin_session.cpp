#include "admin/admin_session.hpp"

#include <algorithm>
#include <charconv>
#include <memory_resource>
#include <string_view>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "admin/admin_server.hpp"
#include "admin/api_input.hpp"
#include "common/json_depth.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "proxy/access_log.hpp"
#include "proxy/deadlines.hpp"
#include "proxy/header_rewriter.hpp"
#include "proxy/request_head_check.hpp"
#include "routing/host.hpp"

namespace ignite::admin {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using nlohmann::json;
using clock = std::chrono::steady_clock;

namespace {

constexpr auto k_use = net::as_tuple(net::use_awaitable);
constexpr std::size_t k_read_size = 4096;
// An invoke answer is collected whole (its execution_id is merged into a JSON object);
// bounded like a request body.
constexpr std::size_t k_max_invoke_answer_bytes = 64 << 20;

std::string_view view(const boost::beast::flat_buffer& b) {
  auto d = b.data();
  return {static_cast<const char*>(d.data()), d.size()};
}

admin_session::response json_response(unsigned status, const json& body) {
  admin_session::response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

admin_session::response error_response(unsigned status, std::string_view code, std::string_view message) {
  return json_response(status, {{"error", {{"code", code}, {"message", message}}}});
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      unsigned v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc{} && p == s.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string_view reason_of(unsigned status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 422:
      return "Unprocessable Entity";
    case 431:
      return "Request Header Fields Too Large";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "-";
  }
}

}  // namespace

struct admin_session::request {
  clock::time_point start = clock::now();
  std::string method;
  std::string path;
  std::vector<std::string> segments;  // path split on '/', percent-decoded
  std::string authorization;
  std::string content_type;
  std::string body;
  bool keep_alive = true;
  std::string who;  // for the log: "operator", "org:<org>", "-"
};

admin_session::admin_session(admin_server& server, proxy::tcp_socket socket)
    : server_(server), socket_(std::move(socket)), timer_(socket_.get_executor()) {
  boost::system::error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  auto peer = socket_.remote_endpoint(ec);
  if (!ec) client_ip_ = peer.address().to_string();
  server_.attach(this);
}

admin_session::~admin_session() { server_.detach(this); }

void admin_session::start() { net::co_spawn(socket_.get_executor(), run(shared_from_this()), net::detached); }

void admin_session::close() {
  closed_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  if (watched_) watched_->cancel(proxy::upstream_exchange::cancel_reason::client_gone);
  timer_.cancel();
}

void admin_session::set_deadline(clock::time_point deadline) {
  deadline_ = deadline;
  timed_out_ = false;
  timer_.expires_at(deadline);
  timer_.async_wait([self = shared_from_this(), generation = ++watch_generation_](boost::system::error_code ec) {
    if (!ec) self->on_watch(generation);
  });
}

void admin_session::on_watch(unsigned generation) {
  if (generation != watch_generation_ || closed_) return;
  timed_out_ = true;
  boost::system::error_code ignored;
  socket_.cancel(ignored);
  if (watched_) watched_->cancel(proxy::upstream_exchange::cancel_reason::timeout);
}

net::awaitable<void> admin_session::run(std::shared_ptr<admin_session> self) {
  for (bool first = true; !closed_; first = false) {
    response refusal;
    std::optional<request> r;
    try {
      r = co_await read_request(first, refusal);
    } catch (const std::exception& e) {
      refusal = error_response(400, "invalid_argument", "malformed request");
    }
    if (!r) {
      if (!refusal.body.empty()) co_await write(refusal, false);
      break;
    }
    response answer;
    try {
      answer = co_await handle(*r);
    } catch (const api_error& e) {
      answer = error_response(e.status(), e.code(), e.what());
    } catch (const routing::state_error& e) {
      // The store is unreachable (etcd down) or failing: the data plane serves on with
      // the routes it has; the API cannot answer for now.
      answer = error_response(503, "state_unavailable", std::string("the state store cannot be used: ") + e.what());
    } catch (const std::exception& e) {
      // The control API's own faults: answered, logged, never fatal.
      std::string fields = "\"what\":";
      common::append_json_string(fields, e.what());
      common::log_event("admin_fault", fields);
      answer = error_response(500, "internal", "the control API failed; see the proxy's log");
    }
    std::string fields = "\"method\":";
    common::append_json_string(fields, r->method);
    fields += ",\"path\":";
    common::append_json_string(fields, r->path);
    fields += ",\"status\":" + std::to_string(answer.status) + ",\"principal\":";
    common::append_json_string(fields, r->who);
    fields +=
        ",\"duration_ms\":" +
        std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - r->start).count() / 1000.0);
    common::log_event("admin_request", fields);
    if (!co_await write(answer, r->keep_alive) || !r->keep_alive) break;
  }
  close();
}

// A request: the head read raw and bounded, checked by the data plane's rules, then a
// Content-Length body (chunked bodies are refused here: nothing the API takes needs them).
net::awaitable<std::optional<admin_session::request>> admin_session::read_request(bool first, response& refusal) {
  const auto& limits = server_.limits();
  set_deadline(clock::now() + (first ? limits.header_timeout : limits.idle_timeout));
  std::size_t scanned = 0;
  std::size_t head_size = 0;
  while (!(head_size = proxy::find_head_end(view(buffer_), scanned))) {
    if (buffer_.size() >= limits.max_header_bytes) {
      refusal = error_response(431, "headers_too_large", "the request head is larger than 16 KiB");
      co_return std::nullopt;
    }
    auto [ec, n] = co_await socket_.async_read_some(
        buffer_.prepare(std::min(k_read_size, limits.max_header_bytes - buffer_.size())), k_use);
    buffer_.commit(n);
    if (ec) {
      if (timed_out_ && buffer_.size() > 0)
        refusal = error_response(408, "request_timeout", "the request head did not arrive in time");
      co_return std::nullopt;
    }
    if (buffer_.size() > 0) set_deadline(std::min(deadline_, clock::now() + limits.header_timeout));
  }
  auto facts = proxy::check_request_head(view(buffer_).substr(0, head_size));
  if (facts.error != proxy::proxy_error::none) {
    refusal = error_response(proxy::row_of(facts.error).status, proxy::row_of(facts.error).code, facts.why);
    co_return std::nullopt;
  }
  if (facts.chunked) {
    refusal = error_response(400, "invalid_argument", "send the body with a Content-Length, not chunked");
    co_return std::nullopt;
  }
  http::request_parser<http::empty_body> parser;
  parser.eager(false);
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(boost::none);  // the limits below are the only ones
  boost::system::error_code ec;
  parser.put(net::buffer(buffer_.data().data(), head_size), ec);
  if (ec || !parser.is_header_done()) {
    refusal = error_response(400, "invalid_argument", "malformed request");
    co_return std::nullopt;
  }
  buffer_.consume(head_size);
  const auto& head = parser.get();
  request r;
  r.method = std::string(head.method_string());
  auto target = std::string_view(head.target());
  auto query = target.find('?');
  r.path = std::string(target.substr(0, query));
  for (std::size_t at = 1; at <= r.path.size();) {
    auto slash = r.path.find('/', at);
    r.segments.push_back(percent_decode(std::string_view(r.path).substr(at, slash - at)));
    if (slash == std::string::npos) break;
    at = slash + 1;
  }
  r.authorization = std::string(head[http::field::authorization]);
  r.content_type = std::string(head[http::field::content_type]);
  r.keep_alive = !facts.http10 && head.keep_alive();
  // An invoke's payload may be as large as a public request's body.
  const bool invoke = r.segments.size() == 4 && r.segments[0] == "v1" && r.segments[3] == "invoke";
  const std::size_t max_body = invoke ? server_.snapshot()->limits().max_body_bytes : limits.max_body_bytes;
  const auto length = parser.content_length().value_or(0);
  if (length > max_body) {
    refusal = error_response(413, "payload_too_large",
                             "the body is larger than the limit of " + std::to_string(max_body) + " bytes");
    co_return std::nullopt;
  }
  while (buffer_.size() < length) {
    set_deadline(clock::now() + limits.header_timeout);
    auto [rec, n] = co_await socket_.async_read_some(buffer_.prepare(16384), k_use);
    buffer_.commit(n);
    if (rec) {
      if (timed_out_) refusal = error_response(408, "request_timeout", "the body did not arrive in time");
      co_return std::nullopt;
    }
  }
  r.body.assign(static_cast<const char*>(buffer_.data().data()), static_cast<std::size_t>(length));
  buffer_.consume(static_cast<std::size_t>(length));
  co_return r;
}

net::awaitable<admin_session::response> admin_session::handle(request& r) {
  const auto& s = r.segments;
  if (s.size() == 1 && (s[0] == "healthz" || s[0] == "readyz" || s[0] == "metrics")) {
    r.who = "-";
    if (r.method != "GET") {
      auto out = error_response(405, "method_not_allowed", "use GET");
      out.headers.emplace_back("Allow", "GET");
      co_return out;
    }
    if (s[0] == "healthz") co_return json_response(200, {{"status", "ok"}});
    if (s[0] == "metrics") {
      auto m = server_.metrics();
      if (!m) co_return error_response(404, "not_found", "no metrics are kept");
      // Rendered here, on the admin thread: a scrape never runs on a worker.
      response out;
      out.content_type = m->content_type;
      out.body = m->render();
      co_return out;
    }
    auto reason = server_.not_ready_reason();
    if (!reason.empty()) co_return json_response(503, {{"status", "not ready"}, {"reason", reason}});
    co_return json_response(200, {{"status", "ready"}});
  }
  if (s.empty() || s[0] != "v1") {
    r.who = "-";
    co_return error_response(404, "not_found", "no such endpoint; the control API is under /v1");
  }
  auto p = server_.plane().authenticate(r.authorization);
  if (!p) {
    r.who = "-";
    co_return error_response(401, "unauthorized", "a valid token is required: Authorization: Bearer <token>");
  }
  r.who = p->is_operator ? "operator" : "org:" + p->org;
  if (s.size() == 4 && s[1] == "apps" && s[3] == "invoke") {
    if (r.method != "POST") {
      auto out = error_response(405, "method_not_allowed", "use POST");
      out.headers.emplace_back("Allow", "POST");
      co_return out;
    }
    co_return co_await invoke(r, *p, s[2]);
  }
  co_return dispatch(r, *p);
}

// Every endpoint but invoke: synchronous calls into the control plane.
admin_session::response admin_session::dispatch(request& r, const principal& p) {
  auto& plane = server_.plane();
  const auto& s = r.segments;
  const auto& m = r.method;
  auto body = [&]() -> json { return parse_body(r.body); };
  auto answer = [](const api_answer& a) { return json_response(a.status, a.body); };
  auto wrong_method = [](const char* allowed) {
    auto r = error_response(405, "method_not_allowed", std::string("use ") + allowed);
    r.headers.emplace_back("Allow", allowed);
    return r;
  };
  // /v1/orgs/{org}/tokens[/{id}]
  if (s.size() >= 4 && s[1] == "orgs" && s[3] == "tokens") {
    if (s.size() == 4) {
      if (m == "POST") return answer(plane.create_token(p, s[2]));
      if (m == "GET") return answer(plane.list_tokens(p, s[2]));
      return wrong_method("GET, POST");
    }
    if (s.size() == 5) {
      if (m == "DELETE") return answer(plane.revoke_token(p, s[2], s[4]));
      return wrong_method("DELETE");
    }
  }
  if (s.size() >= 2 && s[1] == "apps") {
    if (s.size() == 2) {
      if (m == "POST") return answer(plane.create_app(p, body()));
      if (m == "GET") return answer(plane.list_apps(p));
      return wrong_method("GET, POST");
    }
    const auto& id = s[2];
    if (s.size() == 3) {
      if (m == "GET") return answer(plane.get_app(p, id));
      if (m == "DELETE") return answer(plane.delete_app(p, id));
      return wrong_method("GET, DELETE");
    }
    if (s.size() == 4 && s[3] == "draft")
      return m == "PUT" ? answer(plane.save_draft(p, id, body())) : wrong_method("PUT");
    if (s.size() == 5 && s[3] == "draft" && s[4] == "publish")
      return m == "POST" ? answer(plane.publish(p, id)) : wrong_method("POST");
    if (s.size() == 4 && s[3] == "versions")
      return m == "GET" ? answer(plane.list_versions(p, id)) : wrong_method("GET");
    if (s.size() == 6 && s[3] == "versions" && s[5] == "rollback")
      return m == "POST" ? answer(plane.rollback(p, id, s[4])) : wrong_method("POST");
    if (s.size() == 4 && s[3] == "scaling")
      return m == "PUT" ? answer(plane.set_scaling(p, id, body())) : wrong_method("PUT");
  }
  if (s.size() >= 2 && s[1] == "secrets") {
    if (s.size() == 2) {
      if (m == "POST") return answer(plane.create_secret(p, body()));
      if (m == "GET") return answer(plane.list_secrets(p));
      return wrong_method("GET, POST");
    }
    if (s.size() == 3) return m == "DELETE" ? answer(plane.delete_secret(p, s[2])) : wrong_method("DELETE");
  }
  return error_response(404, "not_found", "no such endpoint: " + r.path);
}

// POST /v1/apps/{id}/invoke: the payload takes the public request's path (the version's
// pool, a cold start if need be, the x-ignite-* headers) with x-ignite-source: invoke.
// A JSON-object answer gets "execution_id" merged in; any other answer is relayed as is.
net::awaitable<admin_session::response> admin_session::invoke(request& r, const principal& p, const std::string& id) {
  const auto app_id = server_.plane().visible_app(p, id);
  const auto snapshot = server_.snapshot();
  const auto& table = snapshot->table();
  const auto colon = app_id.find(':');
  const auto org = app_id.substr(0, colon);
  const auto name = app_id.substr(colon + 1);
  const auto* app = table.find(name + "-" + org);
  if (!app || !app->active)
    throw api_error(409, "conflict", "app " + app_id + " has no published version to invoke; publish a draft");
  const auto& limits = snapshot->limits();
  auto execution_id = server_.ids().next(static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count()));

  alignas(std::max_align_t) std::byte arena_bytes[2048];
  std::pmr::monotonic_buffer_resource arena(arena_bytes, sizeof arena_bytes);
  proxy::upstream_exchange up(server_.upstream(), *snapshot->pool(*app->active), limits, r.start, *this, &arena);
  watched_ = &up;
  struct unwatch {
    proxy::upstream_exchange*& w;
    ~unwatch() { w = nullptr; }
  } guard{watched_};

  clock::time_point upstream_start{};  // the request was sent to the pod
  // One request line, as the data plane writes them, with "source":"invoke".
  auto log = [&](unsigned status, const proxy::request_error& e) {
    proxy::request_record record;
    record.execution_id = execution_id.view();
    record.app_id = app->id;
    record.version = app->active->version_text;
    record.status = status;
    record.duration = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - r.start);
    record.error = e.kind;
    record.source = e.source;
    record.error_detail = e.detail.empty() ? std::string_view(e.message) : std::string_view(e.detail);
    record.cold_start = up.cold_start();
    record.invoke = true;
    record.method = "POST";
    record.client = client_ip_;
    record.bytes_in = r.body.size();
    if (upstream_start != clock::time_point{})
      record.upstream_duration = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - upstream_start);
    snapshot->counters(*app->active)->count(server_.counter_index(), status, record.duration, record.upstream_duration);
    std::string line;
    proxy::access_log::format(record, line);
    server_.write_access_log(line);
  };
  auto failed = [&](const proxy::request_error& e) {
    auto row = proxy::row_of(e.kind);
    log(row.status, e);
    // The caller is authenticated: the detail the public never sees is theirs to read.
    json error = {{"code", row.code}, {"message", e.public_message()}, {"execution_id", execution_id.view()}};
    if (!e.detail.empty()) error["detail"] = e.detail;
    auto out = json_response(row.status == 499 ? 502 : row.status, {{"error", error}});
    out.headers.emplace_back("x-ignite-error", "proxy");
    out.headers.emplace_back("x-ignite-execution-id", std::string(execution_id.view()));
    return out;
  };

  if (!up.try_connect_pooled())
    if (auto e = co_await up.connect()) co_return failed(e);
  http::fields fields;
  fields.set(http::field::content_type, r.content_type.empty() ? "application/json" : r.content_type);
  proxy::forward_facts facts;
  facts.execution_id = execution_id.view();
  facts.app_id = app->id;
  facts.org = app->spec.org;
  facts.app = app->spec.name;
  facts.version = app->active->version_text;
  facts.source = "invoke";
  facts.cold_start = up.cold_start();
  facts.deadline_unix_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count() +
      std::chrono::duration_cast<std::chrono::milliseconds>(proxy::deadlines::answer(r.start, limits) - clock::now())
          .count());
  const auto host = name + "-" + org + "." + table.domain();
  facts.host = host;
  facts.client_ip = client_ip_;
  facts.proto = "http";
  std::string head;
  proxy::write_upstream_head(fields, facts, r.body.size(), head);
  upstream_start = clock::now();
  if (auto e = co_await up.send_request(head, r.body)) co_return failed(e);
  if (auto e = co_await up.read_response_head()) co_return failed(e);
  std::string answer_body;
  proxy::upstream_exchange::body_piece piece;
  for (bool first = true;; first = false) {
    proxy::request_error e;
    if (first)
      e = up.take_body(piece);
    else
      e = co_await up.read_body(piece);
    if (e) co_return failed(e);
    for (std::size_t i = 0; i < piece.count; ++i) answer_body.append(piece.data[i]);
    if (answer_body.size() > k_max_invoke_answer_bytes)
      co_return failed(proxy::request_error::from_pod(proxy::proxy_error::upstream_error, false,
                                                      "the app's answer is larger than 64 MiB"));
    if (piece.done) break;
  }
  up.finish();

  const auto& res = up.response().get();
  response out;
  out.status = res.result_int();
  out.content_type = std::string(res[http::field::content_type]);
  // The app's own headers come along, as on the public path: not hop-by-hop ones, not
  // its framing (the answer is re-framed), never x-ignite-*.
  for (const auto& f : res) {
    std::string_view name = f.name_string();
    if (f.name() == http::field::content_type || f.name() == http::field::content_length ||
        proxy::is_hop_by_hop(name) || proxy::is_platform_header(name))
      continue;
    out.headers.emplace_back(std::string(name), std::string(f.value()));
  }
  if (common::istarts_with(out.content_type, "application/json")) {
    // dump() recurses: an answer nested deeper than an API body may be passes through
    // as the app wrote it, or the app could overflow this thread's stack.
    const bool deep = common::json_nests_deeper(answer_body, k_max_body_depth);
    auto parsed = deep ? json() : json::parse(answer_body, nullptr, false);
    if (parsed.is_object()) {
      parsed["execution_id"] = execution_id.view();
      answer_body = parsed.dump(-1, ' ', false, json::error_handler_t::replace);
    }
  }
  out.body = std::move(answer_body);
  out.headers.emplace_back("x-ignite-execution-id", std::string(execution_id.view()));
  out.headers.emplace_back("x-ignite-cold-start", up.cold_start() ? "true" : "false");
  log(out.status, {});
  co_return out;
}

net::awaitable<bool> admin_session::write(const response& r, bool keep_alive) {
  std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(reason_of(r.status)) + "\r\n";
  if (!r.content_type.empty()) head += "Content-Type: " + r.content_type + "\r\n";
  head += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  for (const auto& [name, value] : r.headers) head += name + ": " + value + "\r\n";
  if (!keep_alive) head += "Connection: close\r\n";
  head += "\r\n";
  set_deadline(proxy::deadlines::error_write(clock::now()));
  std::array<net::const_buffer, 2> out{net::buffer(head), net::buffer(r.body)};
  auto [ec, n] = co_await net::async_write(socket_, out, k_use);
  co_return !ec;
}

}  // namespace ignite::admin
