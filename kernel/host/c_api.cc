// Every function of plugin.h's PARLEY_API_V1 table. Each is a thin shim: it
// validates arguments, finds the host and forwards to the component that
// owns the behaviour (router, events, bus, services, timers, work, config,
// metrics). The X-macro declarations below make the compiler check every
// signature against plugin.h.
#include "c_api.h"

#include <cstdarg>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config.h"
#include "config_view.h"
#include "host.h"
#include "log.h"

namespace parley::kernel::host {
namespace {

#define PARLEY_HOST_DECLARE_(ret, name, args) ret api_##name args;
PARLEY_API_V1(PARLEY_HOST_DECLARE_)
#undef PARLEY_HOST_DECLARE_

Host* H() { return Host::current(); }

bool valid_plugin_name(std::string_view n) {
  if (n.empty() || n.size() > 32 || !(n[0] >= 'a' && n[0] <= 'z')) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

// ------------------------------------------------------------- identity ---

int api_set_info(parley_plugin* self, const parley_plugin_info* info) {
  if (!self || !info || !info->name || info->struct_size < offsetof(parley_plugin_info, reserved))
    return PARLEY_EINVAL;
  if (self->info_set || self->phase != parley_plugin::Phase::Init) return PARLEY_ESTATE;
  std::string name = info->name;
  if (!valid_plugin_name(name) || name == "sys") {
    self->refusal = self->error = "set_info: invalid plugin name '" + name +
                                  "' (expected [a-z][a-z0-9_]{0,31}, not 'sys')";
    return PARLEY_ENAMESPACE;
  }
  if (name != self->key) {
    self->refusal = self->error =
        "set_info: plugin name '" + name + "' differs from its config key '" + self->key + "'";
    return PARLEY_ENAMESPACE;
  }
  std::string sig = info->build_signature ? info->build_signature : "";
  if (sig != PARLEY_BUILD_SIGNATURE) {
    self->refusal = self->error = "wrong build signature: the plugin was built as '" + sig +
                                  "', this parleyd is '" PARLEY_BUILD_SIGNATURE "'";
    return PARLEY_EABI;
  }
  self->name = name;
  self->version = info->version ? info->version : "";
  self->build_signature = sig;
  for (auto* list : {info->requires_services, info->provides_services}) {
    auto& out = list == info->requires_services ? self->requires_services : self->provides_services;
    for (const char* const* p = list; p && *p; ++p) out.emplace_back(*p);
  }
  self->capabilities = info->capabilities;
  self->on_all_loaded = info->on_all_loaded;
  self->on_all_loaded_ud = info->on_all_loaded_ud;
  self->info_set = true;
  return 0;
}

void api_set_error(parley_plugin* self, const char* message) {
  if (self) self->error = message ? message : "";
}

const char* api_get_error(const parley_plugin* self) { return self ? self->error.c_str() : ""; }

const char* api_plugin_name(const parley_plugin* self) {
  return self ? self->display_name().c_str() : nullptr;
}

const char* api_data_dir(void) { return H() ? H()->config.data_dir.c_str() : nullptr; }

// -------------------------------------------------------------- methods ---

int api_register_method(parley_plugin* self, const char* name, parley_method_fn fn,
                        uint32_t flags, void* ud) {
  if (!H()) return PARLEY_EUNAVAIL;
  return H()->router.register_method(self, name, fn, flags, ud);
}

// ------------------------------------------------------------- requests ---

parley_conn_id api_request_conn(const parley_request* req) {
  return H() && H()->router.valid(req) ? req->conn : 0;
}
const char* api_request_user(const parley_request* req) {
  if (!H() || !H()->router.valid(req) || req->user.empty()) return nullptr;
  return req->user.c_str();
}
const char* api_request_method(const parley_request* req) {
  return H() && H()->router.valid(req) ? req->method.c_str() : nullptr;
}
int api_defer(parley_request* req) { return H() ? H()->router.defer(req) : PARLEY_EUNAVAIL; }
int api_reply(parley_request* req, const uint8_t* bytes, size_t len) {
  return H() ? H()->router.finish(req, PARLEY_STATUS_OK, nullptr, bytes, len) : PARLEY_EUNAVAIL;
}
int api_reply_error(parley_request* req, uint16_t status, const char* message) {
  if (!H()) return PARLEY_EUNAVAIL;
  if (status == PARLEY_STATUS_OK) return PARLEY_EINVAL;
  return H()->router.finish(req, status, message ? message : "", nullptr, 0);
}

// ---------------------------------------------------------- connections ---

const ConnInfo* find_conn(parley_conn_id conn) { return H() ? H()->core.find(conn) : nullptr; }

const char* api_conn_user(parley_conn_id conn) {
  const ConnInfo* c = find_conn(conn);
  return c && !c->user_id.empty() ? c->user_id.c_str() : nullptr;
}
const char* api_conn_peer(parley_conn_id conn) {
  const ConnInfo* c = find_conn(conn);
  return c ? c->peer.c_str() : nullptr;
}
const char* api_conn_transport(parley_conn_id conn) {
  const ConnInfo* c = find_conn(conn);
  return c ? c->transport.c_str() : nullptr;
}

int api_session_authenticate(parley_plugin* self, parley_conn_id conn, const char* user_id) {
  if (!H()) return PARLEY_EUNAVAIL;
  if (!self || !user_id || !*user_id) return PARLEY_EINVAL;
  if (!(self->capabilities & PARLEY_CAP_AUTH)) return PARLEY_EPERM;
  const ConnInfo* c = find_conn(conn);
  if (!c) return PARLEY_ECLOSED;
  std::string peer = c->peer, transport = c->transport;
  int rc = H()->delivery.bind(conn, c->user_id, user_id);
  if (rc != 0) return rc;
  H()->events.fire(PARLEY_EV_AUTHENTICATED, conn, user_id, peer, transport);
  return 0;
}

int api_session_clear(parley_plugin* self, parley_conn_id conn) {
  if (!H()) return PARLEY_EUNAVAIL;
  if (!self) return PARLEY_EINVAL;
  if (!(self->capabilities & PARLEY_CAP_AUTH)) return PARLEY_EPERM;
  const ConnInfo* c = find_conn(conn);
  if (!c) return PARLEY_ECLOSED;
  std::string previous = c->user_id, peer = c->peer, transport = c->transport;
  int rc = H()->delivery.bind(conn, previous, "");
  if (rc != 0) return rc;
  if (!previous.empty())
    H()->events.fire(PARLEY_EV_DEAUTHENTICATED, conn, previous, peer, transport);
  return 0;
}

int api_conn_close(parley_conn_id conn, uint16_t status, const char* message) {
  if (!H()) return PARLEY_EUNAVAIL;
  return H()->core.close(conn, status, message ? message : "");
}

// ------------------------------------------------------------- delivery ---

int64_t api_send_event(parley_conn_id conn, const char* method, const uint8_t* bytes,
                       size_t len) {
  if (!H()) return PARLEY_EUNAVAIL;
  if (!method || !*method || (!bytes && len)) return PARLEY_EINVAL;
  auto frame = encode_event(method, std::span<const uint8_t>(bytes, len));
  return H()->core.queue(conn, frame) ? 1 : 0;
}

int64_t api_send_event_to_user(const char* user_id, const char* method, const uint8_t* bytes,
                               size_t len, parley_conn_id except_conn) {
  if (!H()) return PARLEY_EUNAVAIL;
  if (!user_id || !*user_id || !method || !*method || (!bytes && len)) return PARLEY_EINVAL;
  auto frame = encode_event(method, std::span<const uint8_t>(bytes, len));
  return static_cast<int64_t>(H()->core.queue_to_user(user_id, frame, except_conn));
}

int64_t api_send_event_to_users(const char* const* user_ids, size_t n, const char* method,
                                const uint8_t* bytes, size_t len, parley_conn_id except_conn) {
  if (!H()) return PARLEY_EUNAVAIL;
  if ((!user_ids && n) || !method || !*method || (!bytes && len)) return PARLEY_EINVAL;
  if (n == 0) return 0;
  auto frame = encode_event(method, std::span<const uint8_t>(bytes, len));  // encoded once
  return H()->delivery.to_users(user_ids, n, frame, except_conn);
}

// --------------------------------------------------------------- events ---

int64_t api_subscribe(parley_plugin* self, uint32_t mask, parley_event_fn cb, void* ud) {
  return H() ? H()->events.subscribe(self, mask, cb, ud) : int64_t{PARLEY_EUNAVAIL};
}
int api_unsubscribe(parley_plugin* self, int64_t subscription) {
  return H() ? H()->events.unsubscribe(self, subscription) : PARLEY_EUNAVAIL;
}

// ------------------------------------------------------------------ bus ---

int api_publish(parley_plugin* self, const char* topic, const uint8_t* bytes, size_t len) {
  if (!H()) return PARLEY_EUNAVAIL;
  // Also during shutdown, for plugins not yet shut down (a dependent's
  // shutdown may still publish).
  if (!self || !self->live()) return PARLEY_EUNAVAIL;
  return H()->bus.publish(self, topic, bytes, len);
}
int api_on_topic(parley_plugin* self, const char* topic, parley_topic_fn cb, void* ud) {
  return H() ? H()->bus.on_topic(self, topic, cb, ud) : PARLEY_EUNAVAIL;
}

// ------------------------------------------------------------- services ---

int api_export_service(parley_plugin* self, const char* name, uint32_t version,
                       const void* vtable) {
  if (!H()) return PARLEY_EUNAVAIL;
  int rc = H()->services.export_service(self, name, version, vtable);
  if (rc == PARLEY_EEXIST && self)
    self->error = std::string("service '") + name + "' version " + std::to_string(version) +
                  " is already exported";
  return rc;
}
const void* api_get_service(const char* name, uint32_t version) {
  return H() ? H()->services.get(name, version) : nullptr;
}

// ---------------------------------------------------------------- work ---

int api_queue_work(parley_plugin* self, parley_work_fn work_cb, parley_after_work_fn after_cb,
                   void* data) {
  if (!H()) return PARLEY_EUNAVAIL;
  // Allowed during shutdown for plugins not yet shut down: a dependent's
  // shutdown may still use a provider's service, which queues work.
  return H()->work.queue(H()->ref(self), work_cb, after_cb, data);
}

int api_post_to_loop(parley_loop_fn cb, void* data) {
  Host* h = H();
  if (!h) return PARLEY_EUNAVAIL;
  if (!cb) return PARLEY_EINVAL;
  return h->queue.post([cb, data] { cb(data); }) ? 0 : PARLEY_EUNAVAIL;
}

// --------------------------------------------------------------- timers ---

parley_timer_id api_timer_start(parley_plugin* self, uint64_t ms, uint64_t repeat_ms,
                                parley_timer_fn cb, void* ud) {
  if (!H()) return 0;
  return H()->timers.start(H()->ref(self), ms, repeat_ms, cb, ud);
}
int api_timer_stop(parley_timer_id id) { return H() ? H()->timers.stop(id) : PARLEY_EUNAVAIL; }

// --------------------------------------------------------------- config ---

int api_config_get_string(const parley_config* cfg, const char* path, const char* def,
                          const char** out) {
  return config_get_string(cfg, path, def, out);
}
int api_config_get_int(const parley_config* cfg, const char* path, int64_t def, int64_t min,
                       int64_t max, int64_t* out) {
  return config_get_int(cfg, path, def, min, max, out);
}
int api_config_get_bool(const parley_config* cfg, const char* path, int def, int* out) {
  return config_get_bool(cfg, path, def, out);
}
int api_config_get_double(const parley_config* cfg, const char* path, double def, double* out) {
  return config_get_double(cfg, path, def, out);
}
int api_config_list_size(const parley_config* cfg, const char* path, size_t* out) {
  return config_list_size(cfg, path, out);
}
int api_config_declare_keys(const parley_config* cfg, const char* const* keys, size_t n) {
  return config_declare_keys(cfg, keys, n);
}

// -------------------------------------------------------------- logging ---

void api_vlog(const parley_plugin* self, int level, const char* fmt, va_list ap) {
  if (!fmt) return;
  if (level < PARLEY_LOG_DEBUG) level = PARLEY_LOG_DEBUG;
  if (level > PARLEY_LOG_ERROR) level = PARLEY_LOG_ERROR;
  auto lvl = static_cast<log::Level>(level);
  if (!log::enabled(lvl)) return;
  // The name is read-only after set_info, so reading it here from another
  // thread is safe.
  log::vlogf(lvl, self ? std::string_view(self->display_name()) : std::string_view("plugin"), 0,
             fmt, ap);
}

void api_log(const parley_plugin* self, int level, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  api_vlog(self, level, fmt, ap);
  va_end(ap);
}

// -------------------------------------------------------------- metrics ---

parley_metric_id register_metric(parley_plugin* self, Metrics::Kind kind, const char* name,
                                 const char* help) {
  if (!H() || !self || !name) return 0;
  return H()->metrics.add(kind, "parley_" + self->display_name() + "_" + name, help ? help : "");
}
parley_metric_id api_metric_counter(parley_plugin* self, const char* name, const char* help) {
  return register_metric(self, Metrics::Kind::Counter, name, help);
}
parley_metric_id api_metric_gauge(parley_plugin* self, const char* name, const char* help) {
  return register_metric(self, Metrics::Kind::Gauge, name, help);
}
parley_metric_id api_metric_histogram(parley_plugin* self, const char* name, const char* help) {
  return register_metric(self, Metrics::Kind::Histogram, name, help);
}
void api_metric_add(parley_metric_id id, double delta) {
  if (Host* h = H()) h->metrics.add_value(id, delta);
}
void api_metric_set(parley_metric_id id, double value) {
  if (Host* h = H()) h->metrics.set_value(id, value);
}
void api_metric_observe(parley_metric_id id, double value) {
  if (Host* h = H()) h->metrics.observe(id, value);
}
void api_metrics_render(parley_text_fn cb, void* ud) {
  if (!cb) return;
  std::string text = H() ? H()->metrics.render() : std::string();
  cb(text.c_str(), text.size(), ud);
}

// ----------------------------------------------------------- transports ---

void* api_loop(void) { return H() ? H()->core.loop() : nullptr; }
uint64_t api_limit_max_frame_bytes(void) { return H() ? H()->core.limits().max_frame_bytes : 0; }
uint64_t api_limit_max_pending_bytes(void) {
  return H() ? H()->core.limits().max_pending_bytes : 0;
}

parley_conn_id api_conn_open_virtual(parley_plugin* self, const parley_virtual_ops* ops,
                                     void* ud, const char* peer, const char* transport) {
  if (!H() || H()->stopping || !self || !self->live()) return 0;
  if (!ops || ops->struct_size < offsetof(parley_virtual_ops, reserved) || !ops->write ||
      !ops->close || !transport || !*transport)
    return 0;
  parley_virtual_ops copy{};
  copy.struct_size = sizeof copy;
  copy.write = ops->write;
  copy.close = ops->close;
  parley_conn_id id = H()->core.open_virtual(copy, ud, peer ? peer : "", transport);
  if (id) {
    // Forget ended ones now and then (amortised O(1) per open).
    if (self->virtual_conns.size() >= 64 && self->virtual_conns.size() % 64 == 0)
      std::erase_if(self->virtual_conns, [](uint64_t c) { return !H()->core.find(c); });
    self->virtual_conns.push_back(id);
  }
  return id;
}
int api_conn_feed(parley_conn_id conn, const uint8_t* bytes, size_t len) {
  if (!H()) return PARLEY_EUNAVAIL;
  if (!bytes && len) return PARLEY_EINVAL;
  return H()->core.feed(conn, std::span<const uint8_t>(bytes, len));
}
int api_conn_virtual_gone(parley_conn_id conn) {
  return H() ? H()->core.virtual_gone(conn) : PARLEY_EUNAVAIL;
}

const std::unordered_map<std::string_view, void*>& table() {
  static const std::unordered_map<std::string_view, void*> t = {
#define PARLEY_HOST_ENTRY_(ret, name, args) {#name, reinterpret_cast<void*>(&api_##name)},
      PARLEY_API_V1(PARLEY_HOST_ENTRY_)
#undef PARLEY_HOST_ENTRY_
  };
  return t;
}

}  // namespace

int get_api(const char* name, void** fn_out) {
  if (!fn_out) return PARLEY_EINVAL;
  *fn_out = nullptr;
  if (!name) return PARLEY_EINVAL;
  auto it = table().find(name);
  if (it == table().end()) return PARLEY_ENOTSUP;
  *fn_out = it->second;
  return 0;
}

}  // namespace parley::kernel::host
