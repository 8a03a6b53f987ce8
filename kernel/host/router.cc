#include "router.h"

#include <algorithm>

#include "host.h"
#include "log.h"

namespace parley::kernel::host {
namespace {

std::string label(const std::string& plugin, const std::string& method) {
  return "plugin=\"" + plugin + "\",method=\"" + method + "\"";
}

}  // namespace

Router::Router(Host& host) : host_(host), deadline_timer_(new uv_timer_t) {
  uv_timer_init(host_.core.loop(), deadline_timer_);
  deadline_timer_->data = this;
  // Deadlines never keep the loop alive on their own.
  uv_unref(reinterpret_cast<uv_handle_t*>(deadline_timer_));
  auto& m = host_.metrics;
  m_conns_open_ = m.add(Metrics::Kind::Gauge, "parley_connections_open",
                        "Connections currently open (all transports).");
  m_conns_total_ = m.add(Metrics::Kind::Counter, "parley_connections_total",
                         "Connections opened since start.");
  m_unimplemented_ = m.add(Metrics::Kind::Counter, "parley_requests_unimplemented_total",
                           "Requests for a method no plugin registered.");
  m_unauthenticated_ = m.add(Metrics::Kind::Counter, "parley_requests_unauthenticated_total",
                             "Requests refused because the session was not authenticated.");
}

Router::~Router() { close_handles(); }

void Router::close_handles() {
  if (!deadline_timer_) return;
  uv_timer_stop(deadline_timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(deadline_timer_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  deadline_timer_ = nullptr;
}

int Router::register_method(parley_plugin* plugin, const char* name, parley_method_fn fn,
                            uint32_t flags, void* ud) {
  if (!plugin || !name || !fn) return PARLEY_EINVAL;
  if (plugin->phase != parley_plugin::Phase::Init || !plugin->info_set) {
    plugin->error = std::string("register_method ") + name +
                    ": only during init, after set_info";
    return PARLEY_ESTATE;
  }
  std::string n = name;
  std::string prefix = plugin->name + ".";
  bool verb_ok = n.size() > prefix.size() && n.compare(0, prefix.size(), prefix) == 0 &&
                 n.find_first_of(" \t\r\n") == std::string::npos;
  if (!verb_ok) {
    plugin->refusal = plugin->error = "method '" + n + "' is outside the plugin's namespace '" +
                                      plugin->name + ".'";
    return PARLEY_ENAMESPACE;
  }
  if (methods_.count(n)) {
    plugin->refusal = plugin->error = "method '" + n + "' is registered twice";
    return PARLEY_EEXIST;
  }
  auto e = std::make_unique<MethodEntry>();
  e->name = n;
  e->plugin = plugin;
  e->fn = fn;
  e->flags = flags;
  e->ud = ud;
  auto& m = host_.metrics;
  std::string l = label(plugin->name, n);
  e->calls_metric = m.add(Metrics::Kind::Counter, "parley_plugin_requests_total",
                          "Requests dispatched to a plugin method.", l);
  e->errors_metric = m.add(Metrics::Kind::Counter, "parley_plugin_request_errors_total",
                           "Requests a plugin method answered with a non-Ok status.", l);
  e->latency_metric = m.add(Metrics::Kind::Histogram, "parley_plugin_request_duration_seconds",
                            "Time from dispatch to the plugin's answer.", l);
  methods_.emplace(n, std::move(e));
  return 0;
}

namespace {
// The Response already echoes the whole method name: an error message quoting
// a huge one must not double the reply's size.
std::string brief_method(std::string_view method) {
  constexpr size_t kMax = 64;
  if (method.size() <= kMax) return std::string(method);
  return std::string(method.substr(0, kMax)) + "...";
}
}  // namespace

void Router::on_request(const ConnInfo& conn, uint64_t request_id, std::string_view method,
                        std::span<const uint8_t> payload) {
  auto it = methods_.find(method);
  if (it == methods_.end()) {
    host_.metrics.add_value(m_unimplemented_, 1);
    host_.core.respond(conn.id, request_id, method, PARLEY_STATUS_UNIMPLEMENTED,
                       "unknown method " + brief_method(method), {});
    return;
  }
  if (!it->second->plugin->live()) {  // its plugin is shutting down
    host_.core.respond(conn.id, request_id, method, PARLEY_STATUS_UNAVAILABLE,
                       "plugin " + it->second->plugin->display_name() + " is shutting down", {});
    return;
  }
  MethodEntry* e = it->second.get();
  if (!(e->flags & PARLEY_METHOD_PUBLIC) && conn.user_id.empty()) {
    host_.metrics.add_value(m_unauthenticated_, 1);
    host_.core.respond(conn.id, request_id, method, PARLEY_STATUS_UNAUTHENTICATED,
                       std::string(method) + " needs an authenticated session", {});
    return;
  }
  auto owned = std::make_unique<parley_request>();
  parley_request* req = owned.get();
  req->seq = next_seq_++;
  req->conn = conn.id;
  req->request_id = request_id;
  req->method = std::string(method);
  req->user = conn.user_id;
  req->plugin = e->plugin;
  req->entry = e;
  req->started = std::chrono::steady_clock::now();
  live_.emplace(req, std::move(owned));
  host_.metrics.add_value(e->calls_metric, 1);

  PluginRef keep = host_.ref(e->plugin);  // the handler runs plugin code
  e->fn(req, payload.data(), payload.size(), e->ud);
  req->in_handler = false;

  if (req->finished) {
    release(req);
  } else if (req->deferred) {
    if (!req->responded) arm_deadline(req);
  } else {
    log::logf(log::Level::Error, e->plugin->display_name(), conn.id,
              "handler for %s returned without answering", req->method.c_str());
    respond(req, PARLEY_STATUS_INTERNAL,
            "plugin " + e->plugin->display_name() + " did not answer " + req->method, {});
    release(req);
  }
}

int Router::defer(parley_request* req) {
  if (!valid(req) || req->finished || req->deferred || !req->in_handler) return PARLEY_ESTATE;
  req->deferred = true;
  return 0;
}

int Router::finish(parley_request* req, uint16_t status, const char* error,
                   const uint8_t* bytes, size_t len) {
  if (!valid(req) || req->finished) return PARLEY_ESTATE;
  if (!bytes && len) return PARLEY_EINVAL;
  req->finished = true;
  if (!req->responded) {
    respond(req, status, error ? error : "", std::span<const uint8_t>(bytes, len));
  }
  disarm_deadline(req);
  if (!req->in_handler) release(req);
  return 0;
}

void Router::respond(parley_request* req, uint16_t status, std::string_view error,
                     std::span<const uint8_t> payload) {
  req->responded = true;
  if (MethodEntry* e = req->entry) {
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - req->started).count();
    host_.metrics.observe(e->latency_metric, secs);
    if (status != PARLEY_STATUS_OK) host_.metrics.add_value(e->errors_metric, 1);
  }
  // False when the connection is gone: the reply is dropped silently.
  host_.core.respond(req->conn, req->request_id, req->method, status, error, payload);
}

void Router::release(parley_request* req) {
  disarm_deadline(req);
  live_.erase(req);
}

void Router::drop_requests(const parley_plugin* plugin) {
  std::vector<parley_request*> mine;
  for (auto& [ptr, owned] : live_)
    if (ptr->plugin == plugin) mine.push_back(ptr);
  for (parley_request* req : mine) {
    if (!req->responded) respond(req, PARLEY_STATUS_UNAVAILABLE, "server shutting down", {});
    release(req);
  }
}

uint64_t Router::now_ms() const { return uv_now(host_.core.loop()); }

void Router::arm_deadline(parley_request* req) {
  uint64_t timeout = req->plugin->request_timeout_ms;
  req->deadline_ms = now_ms() + timeout;
  deadlines_.emplace(req->deadline_ms, req);
  reschedule();
}

void Router::disarm_deadline(parley_request* req) {
  if (req->deadline_ms == 0) return;
  deadlines_.erase({req->deadline_ms, req});
  req->deadline_ms = 0;
  reschedule();
}

void Router::reschedule() {
  if (!deadline_timer_) return;
  if (deadlines_.empty()) {
    uv_timer_stop(deadline_timer_);
    return;
  }
  uint64_t due = deadlines_.begin()->first;
  uint64_t now = now_ms();
  uv_timer_start(deadline_timer_, &Router::on_deadline_timer, due > now ? due - now : 0, 0);
}

void Router::on_deadline_timer(uv_timer_t* t) {
  static_cast<Router*>(t->data)->expire_deadlines();
}

void Router::expire_deadlines() {
  uint64_t now = now_ms();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    parley_request* req = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    req->deadline_ms = 0;
    if (req->responded) continue;
    const std::string& name = req->plugin->display_name();
    uint64_t ms = req->plugin->request_timeout_ms;
    log::logf(log::Level::Warn, name, req->conn, "plugin %s did not answer %s in %llu ms",
              name.c_str(), req->method.c_str(), static_cast<unsigned long long>(ms));
    // The handle stays valid: the plugin must still finish it (its answer is
    // then dropped).
    respond(req, PARLEY_STATUS_INTERNAL,
            "plugin " + name + " did not answer in " + std::to_string(ms) + " ms", {});
  }
  reschedule();
}

void Router::on_conn_opened(const ConnInfo& conn) {
  host_.metrics.add_value(m_conns_open_, 1);
  host_.metrics.add_value(m_conns_total_, 1);
  host_.events.fire(PARLEY_EV_CONN_OPENED, conn.id, conn.user_id, conn.peer, conn.transport);
}

void Router::on_conn_closed(const ConnInfo& conn) {
  host_.metrics.add_value(m_conns_open_, -1);
  host_.delivery.drop(conn.id, conn.user_id);
  // Deferred requests of this connection need no deadline any more: their
  // answers will be dropped.
  for (auto& [ptr, owned] : live_) {
    if (ptr->conn == conn.id && !ptr->responded) {
      ptr->responded = true;
      disarm_deadline(ptr);
    }
  }
  host_.events.fire(PARLEY_EV_CONN_CLOSED, conn.id, conn.user_id, conn.peer, conn.transport);
}

std::vector<Dispatcher::PluginDesc> Router::plugins() const {
  std::vector<PluginDesc> out;
  for (const auto& p : host_.plugins)
    if (p->live()) out.push_back(PluginDesc{p->name, p->version});
  return out;
}

std::vector<std::string> Router::methods() const {
  std::vector<std::string> out;
  for (const auto& [name, e] : methods_)
    if (e->plugin->live()) out.push_back(name);
  return out;  // std::map: already sorted
}

}  // namespace parley::kernel::host
