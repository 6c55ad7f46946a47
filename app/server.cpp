#include "app/server.hpp"

#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstring>
#include <latch>
#include <thread>
#include <unordered_map>
#include <utility>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "app/events.hpp"
#include "cluster/etcd_store.hpp"
#include "common/log.hpp"
#include "metrics/scrape.hpp"
#include "proxy/route_snapshot.hpp"
#include "routing/sqlite_store.hpp"

namespace ignite::app {

using namespace ignite::proxy;

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// The listening socket of `field` ("listen.http"), bound before anything else starts.
// One socket per listener, shared by the workers: with SO_REUSEPORT a second instance
// of the proxy could bind the same port and silently take half the traffic; without it,
// a second instance fails as any server does.
tcp_acceptor open_listener(net::io_context& ctx, const char* field, const common::host_port& address) {
  tcp_acceptor acceptor(ctx.get_executor());
  try {
    tcp::endpoint at(net::ip::make_address(address.host), address.port);
    acceptor.open(at.protocol());
    acceptor.set_option(tcp_acceptor::reuse_address(true));  // TIME_WAIT only, not a live owner
    acceptor.bind(at);
    acceptor.listen(net::socket_base::max_listen_connections);
  } catch (const boost::system::system_error& e) {
    auto why = e.code().message();
    if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    throw startup_error(std::string(field) + " " + address.to_string() + ": " + why);
  }
  return acceptor;
}

// Another acceptor on the same listening socket, for another worker's event loop.
tcp_acceptor share_listener(net::io_context& ctx, tcp_acceptor& listener) {
  tcp_acceptor acceptor(ctx.get_executor());
  int fd = ::dup(listener.native_handle());
  if (fd < 0) throw startup_error(std::string("cannot share the listening socket: ") + std::strerror(errno));
  acceptor.assign(listener.local_endpoint().protocol(), fd);
  return acceptor;
}

// max_connections is useless if the process runs out of descriptors first.
void raise_descriptor_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

std::string json_string(std::string_view s) {
  std::string out;
  common::append_json_string(out, s);
  return out;
}

}  // namespace

server::server(std::filesystem::path config_path, routing::config cfg)
    : config_path_(std::move(config_path)),
      config_(std::move(cfg)),
      counters_(std::make_unique<proxy::counter_registry>(
          (config_.threads ? config_.threads : std::max(1u, std::thread::hardware_concurrency())) + 1)),
      process_provider_(supervisor_ctx_, log_pod_output),
      pools_({&static_provider_, &process_provider_, nullptr}, clock_,
             [this](const coldstart::pod_spec& spec, const coldstart::pod_note& note) {
               log_pod_note(spec, note);
               counters_->on_pod_note(spec, note);
             }) {
  raise_descriptor_limit();
  std::signal(SIGPIPE, SIG_IGN);
  // What can fail comes first, before any thread or pod exists: a start that fails
  // leaves nothing behind and says why in one line.
  routing::check_commands(config_);
  auto listener = open_listener(ctx_, "listen.http", config_.listen.http);
  try {
    access_sink_ = std::make_unique<access_log_sink>(config_.log.access_file, config_.log.access_stderr);
  } catch (const std::system_error& e) {
    throw startup_error("log.access_file " + config_.log.access_file + ": " + e.code().message());
  }
  shared_.access_sink = access_sink_.get();
  std::optional<tcp_acceptor> https_listener;
  std::shared_ptr<const proxy::certificate_set> certificates;
  if (config_.listen.https) {
    https_listener.emplace(open_listener(ctx_, "listen.https", *config_.listen.https));
    ticket_keys_ = std::make_shared<proxy::session_ticket_keys>(config_.tls.ticket_key_rotation);
    try {
      certificates = std::make_shared<const proxy::certificate_set>(config_.tls.certificates, ticket_keys_);
    } catch (const proxy::tls_error& e) {
      throw startup_error(e.what());
    }
  }
  admin_acceptor_.emplace(open_listener(ctx_, "listen.admin", config_.listen.admin));
  try {
    if (config_.state.etcd)
      store_ = std::make_unique<cluster::etcd_store>(*config_.state.etcd);
    else
      store_ = std::make_unique<routing::sqlite_store>(config_.state_file);
  } catch (const std::exception& e) {
    throw startup_error(std::string(config_.state.etcd ? "state.etcd: " : "state_file: ") + e.what());
  }
  std::filesystem::path key_file = config_.secrets_key_file;
  if (key_file.empty()) key_file = std::filesystem::path(config_.state_file).parent_path() / "secrets.key";
  std::optional<admin::secret_box> box;
  try {
    box.emplace(admin::secret_box::from_key_file(key_file));
  } catch (const admin::crypto_error& e) {
    throw startup_error(std::string("secrets_key_file: ") + e.what());
  }
  admin::control_plane::options plane_options;
  plane_options.domain = config_.domain;
  plane_options.http_port = listener.local_endpoint().port();
  if (const char* token = std::getenv(config_.admin_token_env.c_str())) plane_options.operator_token = token;
  plane_ = std::make_unique<admin::control_plane>(*store_, *box, plane_options);
  images_ = std::make_unique<image_service>(supervisor_ctx_, log_pod_output, config_, *store_, *plane_);
  pools_.set_image_provider(&images_->provider());
  if (config_.state.etcd) {
    // Process and image pods go through the cluster: one start per cold version across
    // the nodes, and every node's ready pods in every node's pools.
    try {
      auto bound = listener.local_endpoint();
      shared_pods_ = std::make_unique<cluster::shared_provider>(
          *config_.state.etcd, bound.address().to_string() + ":" + std::to_string(bound.port()));
    } catch (const std::exception& e) {
      throw startup_error(std::string("state.etcd: ") + e.what());
    }
    shared_pods_->set_local(&process_provider_, &images_->provider());
    pools_.set_command_provider(shared_pods_.get());
    pools_.set_image_provider(shared_pods_.get());
  }
  plane_->set_image_checker(
      [this](const routing::version_spec& v, const std::optional<admin::registry_credentials>& c) {
        return images_->check(v, c);
      });
  // The config file's image versions are pinned to digests (and checked) before they serve.
  images_->pin(config_);
  images_->set_file_config(config_);
  plane_->set_file_config(config_);
  auto routes = merged(config_);

  images_->start(config_);
  tick_pools();  // pending work first, so the supervisor's run() does not return at once
  supervisor_.start([this] { supervisor_ctx_.run(); });
  auto snapshot = build_snapshot(routes);
  current_snapshot_ = snapshot;
  const auto threads = static_cast<unsigned>(counters_->writers() - 1);  // the admin thread counts last
  shared_.on_worker_drained = [this] {
    net::post(ctx_, [this] {
      if (draining_ && shared_.connections.load() == 0) finish();
    });
  };
  for (unsigned i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<worker>(shared_, snapshot, i));
    acceptors_.push_back(share_listener(workers_.back()->context(), listener));
    if (https_listener) {
      workers_.back()->set_certificates(certificates);
      https_acceptors_.push_back(share_listener(workers_.back()->context(), *https_listener));
    }
  }
  for (auto& w : workers_) shared_.workers.push_back(w.get());
  admin_ = std::make_unique<admin::admin_server>(*plane_, snapshot, [this]() -> std::string {
    if (draining_) return "draining";
    if (!ready_) return "starting";
    if (auto why = store_->unavailable(); !why.empty()) return "the state store cannot be used: " + why;
    return {};
  });
  admin_->set_access_log(access_sink_.get());
  admin_->set_counter_index(threads);
  admin_->set_metrics({std::string(metrics::k_content_type), [this] { return render_metrics(); }});
}

server::~server() {
  watch_.reset();
  if (admin_) admin_->stop();
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
  shared_.workers.clear();
  workers_.clear();
}

std::shared_ptr<const route_snapshot> server::build_snapshot(const routing::config& cfg) {
  pools_.begin();
  counters_->begin();
  auto snapshot = std::make_shared<const route_snapshot>(cfg, pools_, counters_.get());
  return snapshot;
}

routing::config server::merged(const routing::config& file_cfg) const {
  routing::config out = file_cfg;
  std::unordered_map<std::string, std::string> labels;
  for (const auto& a : file_cfg.apps) labels.emplace(a.label(), a.id());
  for (auto& a : plane_->api_apps()) {
    auto [it, fresh] = labels.emplace(a.label(), a.id());
    if (!fresh)
      throw routing::config_error(
          "apps", "host label \"" + a.label() + "\" of " + it->second + " is taken by the API's app " + a.id());
    out.apps.push_back(std::move(a));
  }
  return out;
}

void server::rebuild(const routing::config& file_cfg) {
  std::lock_guard lock(rebuild_mutex_);
  auto snapshot = build_snapshot(merged(file_cfg));
  // Every worker takes it before this returns: once a publish is answered, new requests
  // go to the new version.
  std::latch applied(static_cast<std::ptrdiff_t>(workers_.size()));
  for (auto& w : workers_) w->publish(snapshot, [&applied] { applied.count_down(); });
  admin_->publish(snapshot);
  applied.wait();
  retired_snapshots_.push_back(std::exchange(current_snapshot_, std::move(snapshot)));
  // Old versions' pools retire: requests in flight finish there, then their pods stop.
  pools_.commit();
  // Versions no longer routed to leave /metrics.
  counters_->commit();
}

// Idle scale-down, reserved capacity, forgetting retired pools and snapshots, ten times a
// second.
void server::tick_pools() {
  tick_timer_.expires_after(std::chrono::milliseconds(100));
  tick_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    pools_.tick();
    {
      std::lock_guard lock(rebuild_mutex_);
      std::erase_if(retired_snapshots_, [](const auto& s) { return s.use_count() == 1; });
    }
    tick_pools();
  });
}

int server::run() {
  auto bound = acceptors_.front().local_endpoint();
  std::optional<tcp::endpoint> https_bound;
  if (!https_acceptors_.empty()) https_bound = https_acceptors_.front().local_endpoint();
  auto admin_bound = admin_acceptor_->local_endpoint();
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    std::optional<tcp_acceptor> https;
    if (i < https_acceptors_.size()) https.emplace(std::move(https_acceptors_[i]));
    workers_[i]->start(std::move(acceptors_[i]), std::move(https));
  }
  acceptors_.clear();
  https_acceptors_.clear();
  admin_->start(share_listener(admin_->context(), *admin_acceptor_));
  admin_acceptor_->close();  // the admin thread has its own descriptor of the socket
  pools_.commit();           // reserved pods start now
  counters_->commit();
  // From here, what the API commits reaches the routes: on the committing thread, after
  // the commit, before the API answers.
  watch_ =
      store_->watch("/", store_->current_revision(),
                    [this](const std::vector<routing::event>& events, routing::revision) { on_committed(events); });
  signals_.add(SIGHUP);
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGUSR1);
  wait_for_signal();
  ready_ = true;
  common::log_event("listening", "\"listener\":\"http\",\"address\":" +
                                     json_string(bound.address().to_string() + ":" + std::to_string(bound.port())) +
                                     ",\"threads\":" + std::to_string(workers_.size()));
  if (https_bound)
    common::log_event("listening",
                      "\"listener\":\"https\",\"address\":" +
                          json_string(https_bound->address().to_string() + ":" + std::to_string(https_bound->port())));
  common::log_event("listening",
                    "\"listener\":\"admin\",\"address\":" +
                        json_string(admin_bound.address().to_string() + ":" + std::to_string(admin_bound.port())));
  ctx_.run();
  for (auto& w : workers_) w->join();
  // Every pod this proxy started is stopped (SIGTERM, then SIGKILL after the grace)
  // before the process exits.
  pools_.stop_all();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pools_.all_stopped() && std::chrono::steady_clock::now() < give_up) {
    boost::asio::steady_timer pause(ctx_, std::chrono::milliseconds(5));
    pause.wait();
  }
  common::log_event("stopped");
  return 0;
}

// What the API committed: if it touches apps or versions, the routes are rebuilt, on the
// committing (admin) thread, before the API answers.
void server::on_committed(const std::vector<routing::event>& events) {
  bool routes = std::any_of(events.begin(), events.end(), [](const routing::event& e) {
    return e.kv.key.starts_with("/apps/") || e.kv.key.starts_with("/versions/");
  });
  if (!routes) return;
  plane_->changed(events);
  try {
    std::lock_guard lock(config_mutex_);
    rebuild(config_);
  } catch (const std::exception& e) {
    common::log_event("routes_failed", "\"error\":" + json_string(e.what()));
  }
}

void server::wait_for_signal() {
  signals_.async_wait([this](boost::system::error_code ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP)
      reload();
    else if (signo == SIGUSR1)
      reopen_access_log();
    else
      begin_drain();
    if (!finished_) wait_for_signal();
  });
}

void server::reload() {
  try {
    auto cfg = routing::load_config_file(config_path_);
    images_->pin(cfg);  // an unchanged image version finds its pin: the same digest
    routing::check_versions_unchanged(config_, cfg);
    routing::check_commands(cfg);
    // New certificates are loaded whole before anything changes: a broken file is refused
    // here and the old certificates keep serving.
    std::shared_ptr<const proxy::certificate_set> certificates;
    if (config_.listen.https) {
      try {
        certificates = std::make_shared<const proxy::certificate_set>(cfg.tls.certificates, ticket_keys_);
      } catch (const proxy::tls_error& e) {
        throw routing::config_error("tls.certificates", e.what());
      }
    }
    if (cfg.listen.http != config_.listen.http || cfg.listen.https != config_.listen.https ||
        cfg.listen.admin != config_.listen.admin || cfg.threads != config_.threads ||
        cfg.state_file != config_.state_file || cfg.log.access_file != config_.log.access_file ||
        cfg.log.access_stderr != config_.log.access_stderr)
      common::log_event("reload_warning", "\"message\":\"listen, threads, state_file and log take effect on restart\"");
    std::lock_guard lock(config_mutex_);
    rebuild(cfg);  // refuses a file app whose label an API app has taken
    plane_->set_file_config(cfg);
    images_->set_file_config(cfg);
    // Connections already up keep the certificate they were made with.
    if (certificates)
      for (auto& w : workers_) w->set_certificates(certificates);
    config_ = std::move(cfg);
    reloads_succeeded_.fetch_add(1, std::memory_order_relaxed);
    common::log_event("reloaded", "\"apps\":" + std::to_string(config_.apps.size()));
  } catch (const std::exception& e) {
    reloads_failed_.fetch_add(1, std::memory_order_relaxed);
    common::log_event("reload_failed", "\"error\":" + json_string(e.what()));
  }
}

// logrotate renamed the file (or will remove it): lines from now on go to a new file of
// the configured name; what workers had buffered goes to whichever is open when they
// flush, so no line is lost either way.
void server::reopen_access_log() {
  if (config_.log.access_file.empty()) return;
  auto why = access_sink_->reopen();
  if (why.empty())
    common::log_event("access_log_reopened", "\"file\":" + json_string(config_.log.access_file));
  else
    common::log_event("access_log_reopen_failed",
                      "\"file\":" + json_string(config_.log.access_file) + ",\"error\":" + json_string(why));
}

std::string server::render_metrics() const {
  metrics::scrape s;
  for (const auto& w : workers_) s.workers.push_back(&w->stats());
  s.versions = counters_->all();
  // Gauges only for apps routed to now: a removed app's pods may still be stopping, but
  // its series are gone.
  std::unordered_map<std::string_view, bool> routed;
  const auto snapshot = admin_->snapshot();  // the admin thread's own copy
  for (const auto& a : snapshot->table().apps()) routed.emplace(a->id, true);
  for (const auto& pool : pools_.pools()) {
    const auto& spec = pool->spec();
    if (!routed.contains(spec.app_id)) continue;
    auto st = pool->stats();
    s.pools.push_back({spec.app_id, spec.version, st.waiting, st.pods - st.ready, st.ready, st.stopping});
  }
  const auto tls = shared_.tls_connections.load(std::memory_order_relaxed);
  s.connections.emplace_back("http", shared_.connections.load(std::memory_order_relaxed) - tls);
  if (config_.listen.https) s.connections.emplace_back("https", tls);
  s.connections.emplace_back("admin", admin_->connections());
  s.reloads_succeeded = reloads_succeeded_.load(std::memory_order_relaxed);
  s.reloads_failed = reloads_failed_.load(std::memory_order_relaxed);
  return metrics::render(s);
}

void server::begin_drain() {
  if (draining_) return;
  draining_ = true;
  common::log_event("draining", "\"connections\":" + std::to_string(shared_.connections.load()));
  for (auto& w : workers_) w->begin_drain();
  drain_timer_.expires_after(config_.limits.drain_timeout);
  drain_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || finished_) return;
    common::log_event("drain_timeout", "\"connections\":" + std::to_string(shared_.connections.load()));
    finish();
  });
  if (shared_.connections.load() == 0) net::post(ctx_, [this] { finish(); });
}

void server::finish() {
  if (finished_) return;
  finished_ = true;
  drain_timer_.cancel();
  signals_.cancel();
  // The control plane stops first: a change committed now would wait for workers that
  // are no longer there to take its routes.
  watch_.reset();
  admin_->stop();
  for (auto& w : workers_) w->stop();
}

}  // namespace ignite::app
