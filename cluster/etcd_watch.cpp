#include "cluster/etcd_watch.hpp"

#include <map>
#include <optional>
#include <unordered_set>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

#include "cluster/etcd_codec.hpp"
#include "cluster/etcd_connection.hpp"
#include "cluster/etcd_dial.hpp"
#include "common/log.hpp"

namespace ignite::cluster {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct etcd_watch::state {
  std::vector<common::host_port> endpoints;
  std::chrono::milliseconds timeout;
  std::unique_ptr<net::ssl::context> tls;  // null: plain http
  std::string key, range_end, strip;
  routing::state_store::watch_callback on_change;

  net::io_context ioc;
  std::optional<etcd_stream> stream;  // watch thread only
  std::size_t current = 0;
  // Watch thread only: the range reads of a (re-)list, and the auth token of the stream.
  std::optional<etcd_connection> reads;
  bool renew_token = false;  // the last stream was refused for its token

  // The keys of the range (without `strip`) and their mod_revision as of `delivered`:
  // what a re-list compares with. Watch thread only.
  std::map<std::string, routing::revision> known;
  bool listed = false;  // `known` was read at `after`

  std::mutex mutex;  // held while a callback runs; guards stopping and delivered's waiters
  std::condition_variable changed;
  bool stopping = false;
  routing::revision delivered = 0;
  std::atomic<std::thread::id> thread;  // the watch thread's id, set as it starts

  void run_io() {
    ioc.restart();
    ioc.run();
  }
  void loop();
  void list_known();
  void stream_once();
  void relist(routing::revision from, routing::revision compacted);
  void deliver(std::vector<routing::event>& events, routing::revision rev);
  bool stopped() {
    std::lock_guard lock(mutex);
    return stopping;
  }
};

etcd_watch::etcd_watch(const routing::etcd_spec& spec, std::chrono::milliseconds timeout, std::string key,
                       std::string range_end, std::string strip, routing::revision after,
                       routing::state_store::watch_callback on_change)
    : state_(std::make_shared<state>()) {
  state_->endpoints = spec.endpoints;
  state_->timeout = timeout;
  state_->tls = etcd_tls_context(spec);
  state_->key = std::move(key);
  state_->range_end = std::move(range_end);
  state_->strip = std::move(strip);
  state_->on_change = std::move(on_change);
  state_->delivered = after;
  state_->reads.emplace(spec, timeout);
  thread_ = std::thread([s = state_] {
    s->thread = std::this_thread::get_id();
    s->loop();
  });
}

etcd_watch::~etcd_watch() {
  {
    // Waits for a callback running on the watch thread, unless this is that callback.
    std::unique_lock lock(state_->mutex, std::defer_lock);
    if (std::this_thread::get_id() != thread_.get_id()) lock.lock();
    state_->stopping = true;
    state_->changed.notify_all();
  }
  net::post(state_->ioc, [s = state_] {
    if (s->stream) s->stream->tcp().socket().close();
  });
  if (std::this_thread::get_id() == thread_.get_id())
    thread_.detach();  // the thread ends after this callback returns; it owns the state
  else
    thread_.join();
}

void etcd_watch::wait_delivered(state& s, const std::string& etcd_key, routing::revision at,
                                std::chrono::milliseconds cap) {
  if (etcd_key < s.key || (s.range_end != std::string(1, '\0') && etcd_key >= s.range_end)) return;
  if (s.thread.load() == std::this_thread::get_id()) return;  // a callback's own write: it holds the mutex
  std::unique_lock lock(s.mutex);
  s.changed.wait_for(lock, cap, [&] { return s.stopping || s.delivered >= at; });
}

void etcd_watch::state::loop() {
  auto backoff = std::chrono::milliseconds(50);
  while (!stopped()) {
    try {
      if (!listed) list_known();
      stream_once();
      // Back from a re-list (or stopping): watch again at once, on the same member.
      backoff = std::chrono::milliseconds(50);
      stream.reset();
      continue;
    } catch (const std::exception& e) {
      if (stopped()) break;
      std::string fields = "\"error\":";
      common::append_json_string(fields, e.what());
      common::log_event("state_watch_error", fields);
    }
    stream.reset();
    current = (current + 1) % endpoints.size();
    std::unique_lock lock(mutex);
    changed.wait_for(lock, backoff, [&] { return stopping; });
    backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
  }
}

// The keys of the range at `after`, before the first event, so that a re-list knows
// what was there. Only keys and revisions: the values are not needed to compare.
void etcd_watch::state::list_known() {
  routing::revision at;
  {
    std::lock_guard lock(mutex);
    at = delivered;
  }
  // Revisions start at 1: nothing existed at 0 (and etcd would read 0 as "now").
  if (at > 0) {
    nlohmann::json body = {{"key", base64_encode(key)},
                           {"range_end", base64_encode(range_end)},
                           {"keys_only", true},
                           {"revision", std::to_string(at)}};
    try {
      auto answer = reads->post("/v3/kv/range", body, true);
      for (const auto& kv : answer.value("kvs", nlohmann::json::array())) {
        auto k = kv_from(kv, strip);
        known[std::move(k.key)] = k.mod_revision;
      }
    } catch (const routing::state_error& e) {
      // Compacted already: nothing to compare with, so a re-list will put every key.
      if (std::string_view(e.what()).find("compacted") == std::string_view::npos) throw;
      std::string fields = "\"revision\":" + std::to_string(at) + ",\"error\":";
      common::append_json_string(fields, e.what());
      common::log_event("state_watch_unlisted", fields);
    }
  }
  listed = true;
}

// One watch stream: connect, ask from the revision after the last delivered, read events
// until the stream breaks.
void etcd_watch::state::stream_once() {
  // The token rides on the stream's request; a refused one is renewed before the next.
  const auto token = reads->token(std::exchange(renew_token, false));
  const auto& ep = endpoints[current];
  if (auto why = dial(ioc, stream, ep, timeout, tls.get()); !why.empty())
    throw std::runtime_error(ep.to_string() + ": " + why);
  beast::error_code ec;
  if (stopped()) return;

  routing::revision from;
  {
    std::lock_guard lock(mutex);
    from = delivered + 1;
  }
  nlohmann::json create = {{"create_request",
                            {{"key", base64_encode(key)},
                             {"range_end", base64_encode(range_end)},
                             {"start_revision", std::to_string(from)}}}};
  http::request<http::string_body> req{http::verb::post, "/v3/watch", 11};
  req.set(http::field::host, ep.to_string());
  req.set(http::field::content_type, "application/json");
  if (!token.empty()) req.set(http::field::authorization, token);
  req.body() = create.dump();
  req.prepare_payload();
  stream->tcp().expires_after(timeout);
  stream->visit([&](auto& s) { http::async_write(s, req, [&](beast::error_code e, std::size_t) { ec = e; }); });
  run_io();
  if (ec) throw std::runtime_error(ep.to_string() + ": " + ec.message());

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  stream->tcp().expires_never();  // a watch is quiet for as long as nothing changes
  std::size_t scanned = 0;
  for (;;) {
    stream->visit(
        [&](auto& s) { http::async_read_some(s, buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; }); });
    run_io();
    if (ec) throw std::runtime_error(ep.to_string() + ": " + ec.message());
    if (parser.is_header_done() && parser.get().result() != http::status::ok) {
      renew_token = parser.get().result() == http::status::unauthorized;
      throw std::runtime_error(ep.to_string() + ": watch refused with " + std::to_string(parser.get().result_int()));
    }
    auto& body = parser.get().body();
    // One JSON object per line.
    std::size_t start = 0;
    for (auto nl = body.find('\n', scanned); nl != std::string::npos; nl = body.find('\n', start)) {
      auto message = nlohmann::json::parse(body.begin() + static_cast<std::ptrdiff_t>(start),
                                           body.begin() + static_cast<std::ptrdiff_t>(nl), nullptr, false);
      start = nl + 1;
      if (message.is_discarded() || !message.is_object()) continue;
      if (message.contains("error")) {
        const auto text = message["error"].dump();
        renew_token = text.find("auth") != std::string::npos;
        throw std::runtime_error(ep.to_string() + ": " + text);
      }
      const auto& result = message.value("result", nlohmann::json::object());
      if (auto compacted = int_field(result, "compact_revision"); compacted > 0) {
        // The revisions from `from` on are gone: what changed meanwhile comes from a read
        // of the range as it is now; then a new stream from after it.
        relist(from, compacted);
        return;
      }
      // etcd refuses a watch it does not permit by cancelling it at once: with auth, one
      // whose token it no longer takes ("invalid auth token", or "permission denied" for a
      // token older than a change of users or roles). A new token, then a new stream.
      if (result.value("canceled", false)) {
        renew_token = true;
        throw std::runtime_error(ep.to_string() + ": watch cancelled: " + result.value("cancel_reason", ""));
      }
      // Events of one revision are one txn: grouped into one callback.
      std::vector<routing::event> group;
      routing::revision group_rev = 0;
      for (const auto& e : result.value("events", nlohmann::json::array())) {
        routing::event ev;
        ev.what = e.value("type", "PUT") == "DELETE" ? routing::event::kind::erase : routing::event::kind::put;
        ev.kv = kv_from(e.value("kv", nlohmann::json::object()), strip);
        if (ev.what == routing::event::kind::erase) ev.kv.value.clear();
        if (!group.empty() && ev.kv.mod_revision != group_rev) deliver(group, group_rev);
        group_rev = ev.kv.mod_revision;
        group.push_back(std::move(ev));
      }
      if (!group.empty()) deliver(group, group_rev);
    }
    body.erase(0, start);
    scanned = body.size();
    if (stopped()) return;
  }
}

// One group at the current revision R that takes a consumer from `known` to the range
// at R: puts for new or changed keys, erases for keys that are gone.
void etcd_watch::state::relist(routing::revision from, routing::revision compacted) {
  auto answer =
      reads->post("/v3/kv/range", {{"key", base64_encode(key)}, {"range_end", base64_encode(range_end)}}, true);
  const routing::revision at = int_field(answer.value("header", nlohmann::json::object()), "revision");
  std::vector<routing::event> group;
  std::unordered_set<std::string> present;
  for (const auto& kv : answer.value("kvs", nlohmann::json::array())) {
    routing::event ev;
    ev.kv = kv_from(kv, strip);
    present.insert(ev.kv.key);
    auto it = known.find(ev.kv.key);
    if (it == known.end() || it->second != ev.kv.mod_revision) group.push_back(std::move(ev));
  }
  const std::size_t puts = group.size();
  for (const auto& [k, rev] : known) {
    if (present.contains(k)) continue;
    routing::event ev;
    ev.what = routing::event::kind::erase;
    ev.kv.key = k;
    ev.kv.mod_revision = at;  // when it went is gone with the compacted revisions
    group.push_back(std::move(ev));
  }
  common::log_event("state_watch_relisted",
                    "\"from\":" + std::to_string(from) + ",\"compact_revision\":" + std::to_string(compacted) +
                        ",\"revision\":" + std::to_string(at) + ",\"puts\":" + std::to_string(puts) +
                        ",\"erases\":" + std::to_string(group.size() - puts));
  deliver(group, at);
}

void etcd_watch::state::deliver(std::vector<routing::event>& events, routing::revision rev) {
  std::unique_lock lock(mutex);
  if (stopping) return;
  if (rev > delivered) {
    // A re-list that found nothing changed still moves `delivered` (txn() waits on it).
    if (!events.empty()) {
      try {
        on_change(events, rev);
      } catch (const std::exception& e) {
        std::string fields = "\"error\":";
        common::append_json_string(fields, e.what());
        common::log_event("state_watch_callback_failed", fields);
      }
    }
    // What a re-list compares with.
    for (auto& e : events) {
      if (e.what == routing::event::kind::put)
        known[e.kv.key] = e.kv.mod_revision;
      else
        known.erase(e.kv.key);
    }
    delivered = rev;
  }
  events.clear();
  changed.notify_all();
}

}  // namespace ignite::cluster
