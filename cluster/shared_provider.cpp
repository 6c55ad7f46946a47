#include "cluster/shared_provider.hpp"

#include <algorithm>
#include <chrono>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "cluster/etcd_codec.hpp"
#include "common/log.hpp"
#include "common/ulid.hpp"
#include "routing/state_store.hpp"

namespace ignite::cluster {

using coldstart::endpoint;
using coldstart::pod_exit;
using coldstart::pod_id;
using nlohmann::json;

namespace {

constexpr std::string_view k_nodes = "/cluster/nodes/";
constexpr std::string_view k_pods = "/cluster/pods/";
constexpr std::string_view k_starts = "/cluster/starts/";
constexpr std::string_view k_users = "/cluster/users/";

// "a/b/c" → {"a","b","c"}.
std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> parts;
  for (;;) {
    auto slash = text.find('/');
    parts.push_back(text.substr(0, slash));
    if (slash == std::string_view::npos) return parts;
    text.remove_prefix(slash + 1);
  }
}

std::optional<endpoint> parse_endpoint(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(text.substr(0, colon), ec);
  if (ec) return std::nullopt;
  try {
    return endpoint(address, static_cast<std::uint16_t>(std::stoul(text.substr(colon + 1))));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string to_text(const endpoint& at) { return at.address().to_string() + ":" + std::to_string(at.port()); }

// The users key saying that `user` sends requests to the pod registered at `pod_key`.
std::string users_key(const std::string& pod_key, const std::string& user) {
  return std::string(k_users) + pod_key.substr(k_pods.size()) + "/" + user;
}

std::string fresh_node_name() {
  common::ulid_generator ids;
  const auto now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  return std::string(ids.next(static_cast<std::uint64_t>(now)).view());
}

void log_json(std::string_view event, const json& fields) {
  auto text = fields.dump();
  common::log_event(event, std::string_view(text).substr(1, text.size() - 2));
}

}  // namespace

shared_provider::shared_provider(const routing::etcd_spec& spec, std::string public_address)
    : spec_(spec),
      node_(spec.node_name.empty() ? fresh_node_name() : spec.node_name),
      public_address_(std::move(public_address)),
      connection_(spec, spec.request_timeout),
      lease_(spec, spec.request_timeout, spec.lease_ttl),
      work_(worker_.get_executor()) {
  put(std::string(k_nodes) + node_, json{{"node", node_}, {"address", public_address_}}.dump());
  // What the cluster has now, then every change after it.
  const auto key = spec_.prefix + "/cluster/";
  auto answer = connection_.post("/v3/kv/range",
                                 {{"key", base64_encode(key)}, {"range_end", base64_encode(prefix_end(key))}}, true);
  std::set<std::string> touched;
  std::vector<notice> notices;
  {
    std::lock_guard lock(mutex_);
    for (const auto& kv : answer.value("kvs", json::array())) {
      routing::event e;
      e.kv = kv_from(kv, spec_.prefix);
      apply_one(e, touched, notices);
    }
  }
  const auto at = int_field(answer.value("header", json::object()), "revision");
  {
    std::lock_guard lock(mutex_);
    seen_ = at;
  }
  watch_ = std::make_unique<etcd_watch>(
      spec_, spec_.request_timeout, key, prefix_end(key), spec_.prefix, at,
      [this](const std::vector<routing::event>& events, routing::revision at) { on_changes(events, at); });
  thread_ = std::thread([this] { worker_.run(); });
  lease_.keep_alive([this](std::int64_t) { boost::asio::post(worker_, [this] { reregister(0); }); });
  log_json("cluster_joined", {{"node", node_}, {"lease_ttl_ms", spec_.lease_ttl.count()}});
}

shared_provider::~shared_provider() {
  watch_.reset();
  lease_.stop();  // its renewals post to the worker, which stops next
  work_.reset();
  thread_.join();  // what the pools asked last (stops, releases) is done first
}

void shared_provider::set_local(coldstart::pod_provider* command, coldstart::pod_provider* image) {
  std::lock_guard lock(mutex_);
  command_ = command;
  image_ = image;
}

// ---- etcd writes (worker thread) ---------------------------------------------------------

void shared_provider::put(const std::string& key, const std::string& value) {
  try {
    connection_.post("/v3/kv/put",
                     {{"key", base64_encode(spec_.prefix + key)},
                      {"value", base64_encode(value)},
                      {"lease", std::to_string(lease_.id())}},
                     false);
  } catch (const std::exception& e) {
    log_json("cluster_write_failed", {{"key", key}, {"error", e.what()}});
  }
}

void shared_provider::erase(const std::string& key) {
  try {
    connection_.post("/v3/kv/deleterange", {{"key", base64_encode(spec_.prefix + key)}}, true);
  } catch (const std::exception& e) {
    log_json("cluster_write_failed", {{"key", key}, {"error", e.what()}});
  }
}

std::string shared_provider::pod_value(const endpoint& at) const {
  std::string address = spec_.advertise_host.empty() ? at.address().to_string() : spec_.advertise_host;
  return json{{"address", address + ":" + std::to_string(at.port())}, {"node", node_}}.dump();
}

// A lost lease took every key of this node: they are put again under the new one.
void shared_provider::reregister(std::int64_t) {
  put(std::string(k_nodes) + node_, json{{"node", node_}, {"address", public_address_}}.dump());
  std::vector<std::pair<std::string, std::string>> keys;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, t] : pods_) {
      if (t.state == phase::ready) keys.emplace_back(t.pod_key, pod_value(t.address));
      if (t.state == phase::remote) keys.emplace_back(users_key(t.pod_key, node_), "{}");
    }
  }
  for (const auto& [key, value] : keys) put(key, value);
}

// ---- the pools' side -----------------------------------------------------------------------

void shared_provider::start(pod_id id, const coldstart::pod_spec& spec, coldstart::pod_events& events) {
  std::string version = spec.app_id + "/" + spec.version;
  {
    std::lock_guard lock(mutex_);
    auto& t = pods_[id];
    t.events = &events;
    t.spec = spec;
    t.version = version;
    t.state = phase::waiting;
    t.local = spec.command.empty() ? image_ : command_;
  }
  boost::asio::post(worker_, [this, version = std::move(version)] { evaluate(version); });
}

void shared_provider::stop(pod_id id) {
  coldstart::pod_provider* local = nullptr;
  coldstart::pod_events* events = nullptr;
  std::string users;
  {
    std::lock_guard lock(mutex_);
    auto it = pods_.find(id);
    if (it == pods_.end()) return;
    auto& t = it->second;
    if (t.state == phase::starting || t.state == phase::ready) {
      t.claim_stopped = true;
      local = t.local;
    } else {
      if (t.state == phase::remote) users = users_key(t.pod_key, node_);
      events = t.events;
      pods_.erase(it);
    }
  }
  if (local) {
    local->stop(id);  // its exit comes through on_exit
    return;
  }
  // Not this node's pod: forgetting it is stopping it. The exit is reported from the
  // worker, as a provider reports it from its own thread.
  // The pool hears first: it may be waiting for this exit to finish a shutdown, and
  // etcd may be slow or gone.
  boost::asio::post(worker_, [this, id, events, users] {
    pod_exit how;
    how.cause = "released";
    events->on_exit(id, how);
    if (!users.empty()) erase(users);
  });
}

void shared_provider::probe(pod_id id) {
  coldstart::pod_provider* local = nullptr;
  coldstart::pod_events* events = nullptr;
  std::string users, node, version;
  {
    std::lock_guard lock(mutex_);
    auto it = pods_.find(id);
    if (it == pods_.end()) return;
    auto& t = it->second;
    if (t.state != phase::remote) {
      local = t.local;
    } else {
      // Another node's pod refused us: not adopted again until it registers anew (its
      // node may be dead while its lease still runs).
      suspects_.insert(t.pod_key);
      auto view = views_.find(t.version);
      if (view != views_.end())
        if (auto p = view->second.pods.find(t.pod_key); p != view->second.pods.end()) node = p->second.node;
      users = users_key(t.pod_key, node_);
      events = t.events;
      version = t.version;
      pods_.erase(it);
    }
  }
  if (local) {
    local->probe(id);
    return;
  }
  boost::asio::post(worker_, [this, id, events, users, node] {
    pod_exit how;
    how.cause = "on node " + node + " refused a connection";
    events->on_exit(id, how);
    erase(users);
  });
}

bool shared_provider::in_use_elsewhere(pod_id id) {
  std::lock_guard lock(mutex_);
  auto it = pods_.find(id);
  if (it == pods_.end() || it->second.state != phase::ready) return false;
  auto view = views_.find(it->second.version);
  if (view == views_.end()) return false;
  auto users = view->second.users.find(it->second.pod_key);
  return users != view->second.users.end() && !users->second.empty();
}

// ---- this node's providers' side -----------------------------------------------------------

void shared_provider::on_ready(pod_id id, const endpoint& at, bool) {
  coldstart::pod_events* events = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto it = pods_.find(id);
    if (it == pods_.end()) return;
    auto& t = it->second;
    t.state = phase::ready;
    t.address = at;
    t.pod_key = std::string(k_pods) + t.version + "/" + node_ + "/" + std::to_string(id);
    events = t.events;
  }
  events->on_ready(id, at, false);  // this node's held requests first
  boost::asio::post(worker_, [this, id] { register_ready(id); });
}

// The pod is registered and its claim dropped in one transaction: no node sees the
// start vanish before the pod appears.
void shared_provider::register_ready(pod_id id) {
  std::string key, value, claim;
  {
    std::lock_guard lock(mutex_);
    auto it = pods_.find(id);
    if (it == pods_.end() || it->second.state != phase::ready) return;
    key = it->second.pod_key;
    value = pod_value(it->second.address);
    claim = std::exchange(it->second.claim, {});
  }
  json success = json::array({{{"request_put",
                                {{"key", base64_encode(spec_.prefix + key)},
                                 {"value", base64_encode(value)},
                                 {"lease", std::to_string(lease_.id())}}}}});
  if (!claim.empty()) success.push_back({{"request_delete_range", {{"key", base64_encode(spec_.prefix + claim)}}}});
  try {
    connection_.post("/v3/kv/txn", {{"compare", json::array()}, {"success", success}}, false);
  } catch (const std::exception& e) {
    log_json("cluster_write_failed", {{"key", key}, {"error", e.what()}});
  }
}

void shared_provider::on_exit(pod_id id, const pod_exit& how) {
  coldstart::pod_events* events = nullptr;
  std::string claim, registered;
  bool failed = false;
  {
    std::lock_guard lock(mutex_);
    auto it = pods_.find(id);
    if (it == pods_.end()) return;
    auto& t = it->second;
    events = t.events;
    claim = t.claim;
    failed = t.state == phase::starting && !t.claim_stopped;
    if (t.state == phase::ready) registered = t.pod_key;
    pods_.erase(it);
  }
  if (!claim.empty() || !registered.empty())
    boost::asio::post(worker_, [this, claim, registered, failed, how] {
      if (!claim.empty()) {
        // The nodes waiting for this start fail fast with the same reason, then the
        // claim goes.
        if (failed)
          put(claim, json{{"node", node_},
                          {"failed", how.summary},
                          {"cause", how.cause},
                          {"ran", how.ran},
                          {"last_stderr", how.last_stderr}}
                         .dump());
        erase(claim);
      }
      if (!registered.empty()) erase(registered);
    });
  events->on_exit(id, how);
}

// ---- deciding (worker thread) --------------------------------------------------------------

void shared_provider::evaluate(const std::string& version) {
  std::vector<notice> notices;
  std::vector<std::string> users;
  std::vector<std::pair<pod_id, std::string>> claims;
  {
    std::lock_guard lock(mutex_);
    std::vector<pod_id> waiting;
    std::set<std::string> adopted;
    for (const auto& [id, t] : pods_) {
      if (t.version != version) continue;
      if (t.state == phase::waiting) waiting.push_back(id);
      if (t.state == phase::ready || t.state == phase::remote) adopted.insert(t.pod_key);
    }
    if (waiting.empty()) return;
    auto& view = views_[version];
    // 1. Ready pods this node does not use yet.
    std::size_t next = 0;
    for (const auto& [key, reg] : view.pods) {
      if (next == waiting.size()) break;
      if (adopted.contains(key) || suspects_.contains(key)) continue;
      auto& t = pods_[waiting[next++]];
      t.state = phase::remote;
      t.pod_key = key;
      t.address = reg.address;
      notices.push_back({t.events, waiting[next - 1], true, reg.address, {}});
      if (reg.node != node_) users.push_back(users_key(key, node_));
      log_json("cluster_pod_adopted",
               {{"app_version", version}, {"node", reg.node}, {"address", to_text(reg.address)}});
    }
    // 2. Starts in flight on other nodes: one waiting pod each, when one pod serves any
    // demand (container_concurrency 0). With a limit, each node starts the pods its own
    // demand needs, so that a cold start across the cluster starts as many as the
    // cluster's demand needs, not as many as one node's.
    const bool share_starts = next < waiting.size() && pods_[waiting[next]].spec.container_concurrency == 0;
    std::size_t foreign = 0;
    std::set<long> slots;
    for (const auto& [key, node] : view.claims) {
      foreign += share_starts && node != node_;
      try {
        slots.insert(std::stol(key.substr(key.rfind('/') + 1)));
      } catch (const std::exception&) {
      }
    }
    // 3. The rest claim new slots and start pods here.
    for (std::size_t i = next + foreign; i < waiting.size(); ++i) {
      long slot = 0;
      while (slots.contains(slot)) ++slot;
      slots.insert(slot);
      pods_[waiting[i]].state = phase::claiming;
      claims.emplace_back(waiting[i], std::string(k_starts) + version + "/" + std::to_string(slot));
    }
  }
  notify(notices);
  for (const auto& key : users) put(key, "{}");
  for (const auto& [id, key] : claims) claim(id, version, key);
}

void shared_provider::claim(pod_id id, const std::string& version, const std::string& key) {
  const auto full = base64_encode(spec_.prefix + key);
  bool won = false, reachable = true;
  std::int64_t existing_revision = 0;
  std::string existing_node;
  try {
    auto answer = connection_.post(
        "/v3/kv/txn",
        {{"compare",
          json::array({{{"key", full}, {"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", "0"}}})},
         {"success", json::array({{{"request_put",
                                    {{"key", full},
                                     {"value", base64_encode(json{{"node", node_}}.dump())},
                                     {"lease", std::to_string(lease_.id())}}}}})},
         {"failure", json::array({{{"request_range", {{"key", full}}}}})}},
        false);
    won = answer.value("succeeded", false);
    if (!won) {
      const auto& responses = answer.value("responses", json::array());
      if (!responses.empty()) {
        const auto& kvs = responses[0].value("response_range", json::object()).value("kvs", json::array());
        if (!kvs.empty()) {
          auto kv = kv_from(kvs[0], spec_.prefix);
          existing_revision = kv.mod_revision;
          auto value = json::parse(kv.value, nullptr, false);
          if (value.is_object()) existing_node = value.value("node", "");
        }
      }
    }
  } catch (const std::exception& e) {
    // Without etcd this node cannot agree with the others: it starts its own pod.
    reachable = false;
    log_json("cluster_claim_failed", {{"app_version", version}, {"error", e.what()}});
  }
  bool start = false;
  {
    std::lock_guard lock(mutex_);
    auto it = pods_.find(id);
    if (it == pods_.end() || it->second.state != phase::claiming) {
      // Stopped while claiming.
      if (won) boost::asio::post(worker_, [this, key] { erase(key); });
      return;
    }
    auto& t = it->second;
    if (won || !reachable) {
      t.state = phase::starting;
      if (won) {
        t.claim = key;
        views_[version].claims[key] = node_;
      }
      start = true;
    } else {
      t.state = phase::waiting;
      // Someone else holds the slot; unless the watch has already reported past it.
      if (existing_revision > seen_ && !existing_node.empty()) views_[version].claims[key] = existing_node;
    }
  }
  if (start) {
    log_json("cluster_start_claimed", {{"app_version", version}, {"slot", key.substr(key.rfind('/') + 1)}});
    start_local(id);
  } else {
    evaluate(version);
  }
}

void shared_provider::start_local(pod_id id) {
  coldstart::pod_provider* local = nullptr;
  coldstart::pod_spec spec;
  {
    std::lock_guard lock(mutex_);
    auto it = pods_.find(id);
    if (it == pods_.end()) return;
    local = it->second.local;
    spec = it->second.spec;
  }
  if (local) {
    local->start(id, spec, *this);
    return;
  }
  pod_exit how;
  how.cause = "could not start: this node cannot run the version's source";
  how.summary = "could not be started";
  how.ran = false;
  on_exit(id, how);
}

// ---- the watch's side ------------------------------------------------------------------------

void shared_provider::on_changes(const std::vector<routing::event>& events, routing::revision at) {
  std::set<std::string> touched;
  std::vector<notice> notices;
  {
    std::lock_guard lock(mutex_);
    for (const auto& e : events) apply_one(e, touched, notices);
    seen_ = std::max(seen_, at);  // a re-list after a compaction reports up to `at` at once
  }
  notify(notices);
  for (const auto& version : touched) boost::asio::post(worker_, [this, version] { evaluate(version); });
}

// A key someone wrote by hand with a value of the wrong shape (an address that is not a
// string) is skipped and logged: it must not stop the watch or the node.
void shared_provider::apply_one(const routing::event& e, std::set<std::string>& touched, std::vector<notice>& notices) {
  try {
    apply_change(e, touched, notices);
  } catch (const std::exception& error) {
    log_json("cluster_key_ignored", {{"key", e.kv.key}, {"error", error.what()}});
  }
}

void shared_provider::apply_change(const routing::event& e, std::set<std::string>& touched,
                                   std::vector<notice>& notices) {
  const std::string& key = e.kv.key;
  const bool put_event = e.what == routing::event::kind::put;
  if (key.starts_with(k_pods)) {
    auto parts = split(std::string_view(key).substr(k_pods.size()));
    if (parts.size() != 4) return;
    const std::string version = std::string(parts[0]) + "/" + std::string(parts[1]);
    auto& view = views_[version];
    suspects_.erase(key);
    touched.insert(version);
    if (put_event) {
      auto value = json::parse(e.kv.value, nullptr, false);
      if (!value.is_object()) return;
      auto at = parse_endpoint(value.value("address", ""));
      if (at) view.pods[key] = {*at, value.value("node", "")};
      return;
    }
    std::string node;
    if (auto p = view.pods.find(key); p != view.pods.end()) node = p->second.node;
    view.pods.erase(key);
    view.users.erase(key);
    // Pods this node adopted from there are gone (stopped, or their node left).
    pod_exit how;
    how.cause = "on node " + node + " stopped, or its node left the cluster";
    const bool adopted =
        end_tracked([&](const tracked& t) { return t.state == phase::remote && t.pod_key == key; }, how, notices);
    if (adopted) boost::asio::post(worker_, [this, users = users_key(key, node_)] { erase(users); });
    return;
  }
  if (key.starts_with(k_starts)) {
    auto parts = split(std::string_view(key).substr(k_starts.size()));
    if (parts.size() != 3) return;
    const std::string version = std::string(parts[0]) + "/" + std::string(parts[1]);
    auto& view = views_[version];
    touched.insert(version);
    if (!put_event) {
      view.claims.erase(key);
      return;
    }
    auto value = json::parse(e.kv.value, nullptr, false);
    if (!value.is_object()) return;
    const std::string node = value.value("node", "");
    if (!value.contains("failed")) {
      view.claims[key] = node;
      return;
    }
    view.claims.erase(key);
    if (node == node_) return;  // this node's pools heard it from the pod itself
    // Another node's start failed: the pods waiting here for that version fail with the
    // same reason, so their held requests fail fast too.
    pod_exit how;
    how.summary = value.value("failed", "");
    how.cause = value.value("cause", "") + " (on node " + node + ")";
    how.ran = value.value("ran", true);
    if (value.contains("last_stderr") && value["last_stderr"].is_array())
      for (const auto& line : value["last_stderr"])
        if (line.is_string()) how.last_stderr.push_back(line.get<std::string>());
    end_tracked([&](const tracked& t) { return t.version == version && t.state == phase::waiting; }, how, notices);
    return;
  }
  if (key.starts_with(k_users)) {
    auto parts = split(std::string_view(key).substr(k_users.size()));
    if (parts.size() != 5 || parts[4] == node_) return;
    const std::string version = std::string(parts[0]) + "/" + std::string(parts[1]);
    const std::string pod_key =
        std::string(k_pods) + version + "/" + std::string(parts[2]) + "/" + std::string(parts[3]);
    auto& users = views_[version].users[pod_key];
    if (put_event)
      users.insert(std::string(parts[4]));
    else
      users.erase(std::string(parts[4]));
  }
}

bool shared_provider::end_tracked(const std::function<bool(const tracked&)>& which, const pod_exit& how,
                                  std::vector<notice>& notices) {
  bool any = false;
  for (auto it = pods_.begin(); it != pods_.end();) {
    if (which(it->second)) {
      notices.push_back({it->second.events, it->first, false, {}, how});
      it = pods_.erase(it);
      any = true;
    } else {
      ++it;
    }
  }
  return any;
}

void shared_provider::notify(std::vector<notice>& notices) {
  for (auto& n : notices) {
    if (n.ready)
      n.events->on_ready(n.id, n.address, true);
    else
      n.events->on_exit(n.id, n.exit);
  }
}

}  // namespace ignite::cluster
