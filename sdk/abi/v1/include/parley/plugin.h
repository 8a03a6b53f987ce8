/*
 * Parley plugin SDK — the stable C ABI, version 1.
 *
 * This header is the only contract between parleyd and a plugin. It compiles
 * as C11 and as C++17. A plugin compiled against it keeps loading in every
 * parleyd 1.x without a rebuild.
 *
 * Shape (after Redis modules, Mosquitto plugins and libuv):
 *  - A plugin exports exactly three symbols: parley_plugin_abi,
 *    parley_plugin_init and parley_plugin_shutdown (PARLEY_PLUGIN_ABI and the
 *    C++ wrapper's PARLEY_PLUGIN emit them). Build with hidden visibility.
 *  - Every host function is looked up by name through get_api(). The inline
 *    parley_sdk_load() below fills a table local to the plugin; a function the
 *    host lacks stays NULL and parley_sdk_load() reports its name.
 *  - Handles (parley_plugin, parley_request, parley_config) are opaque.
 *    Anything kept past a callback is a 64-bit id (connection, timer, metric),
 *    never a pointer.
 *
 * Rules that hold for every function below unless its comment says otherwise:
 *  - THREAD: call it on the loop thread only. Every callback the host makes
 *    runs on the loop thread. Only functions marked "thread-safe" (log,
 *    post_to_loop, metric_add/metric_set/metric_observe) may be called from
 *    other threads.
 *  - OWNERSHIP: every pointer passed in either direction is borrowed for the
 *    duration of the call. The receiver copies what it keeps. Strings are
 *    NUL-terminated UTF-8.
 *  - ERRORS: functions returning int return 0 (PARLEY_OK) or a negative
 *    PARLEY_E* code from errors.h.
 *
 * Lifecycle (the same for connections, timers and deferred requests):
 * a thing is created, used, then ends exactly once; its id is never reused
 * within the process, so a stale id is harmless (calls return
 * PARLEY_ECLOSED / PARLEY_ENOENT).
 *
 * Startup: the host calls parley_plugin_init for every enabled plugin in
 * config order. init declares things (set_info, register_method,
 * export_service, subscribe, on_topic). When every plugin is initialised, the
 * host calls each plugin's on_all_loaded callback (see parley_plugin_info) in
 * dependency order — a plugin after every plugin that provides a service it
 * requires — which is where get_service lookups belong. Shutdown runs
 * parley_plugin_shutdown in the reverse of that order.
 *
 * Frozen once v1 ships: the entry symbols and get_api; each named function's
 * signature and meaning; enum, event and status numbers (append-only);
 * struct_size first in every struct; the borrow, id and thread rules; the
 * namespace rule; the reserved slots. A changed meaning is a new name
 * ("..._v2"); the old name stays.
 */
#ifndef PARLEY_PLUGIN_H
#define PARLEY_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PARLEY_ABI_MAJOR 1
#define PARLEY_ABI_MINOR 0

#if defined(_WIN32)
#define PARLEY_EXPORT __declspec(dllexport)
#else
#define PARLEY_EXPORT __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------- build --- */

/* The build signature: plugins and host must agree on it (release and
 * sanitizer builds do not mix). The host refuses a plugin whose signature
 * differs and says which. */
#if defined(__SANITIZE_ADDRESS__)
#define PARLEY_SIG_ASAN_ "asan"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PARLEY_SIG_ASAN_ "asan"
#endif
#endif
#ifndef PARLEY_SIG_ASAN_
#define PARLEY_SIG_ASAN_ "noasan"
#endif
#if defined(__SANITIZE_THREAD__)
#define PARLEY_SIG_TSAN_ "tsan"
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PARLEY_SIG_TSAN_ "tsan"
#endif
#endif
#ifndef PARLEY_SIG_TSAN_
#define PARLEY_SIG_TSAN_ "notsan"
#endif
#define PARLEY_BUILD_SIGNATURE                                                 \
  "parley-abi1;" PARLEY_SIG_ASAN_ ";" PARLEY_SIG_TSAN_

/* ---------------------------------------------------------------- types --- */

/* The host's handle for one loaded plugin. Valid from init to shutdown. */
typedef struct parley_plugin parley_plugin;
/* One request being answered. Borrowed by the handler; valid until the
 * request is finished (reply / reply_error), and past the handler's return
 * only if the handler called defer(). */
typedef struct parley_request parley_request;
/* A node of the plugin's `config:` subtree. Valid from init to shutdown. */
typedef struct parley_config parley_config;

typedef uint64_t parley_conn_id;   /* 0 = none; never reused in a process */
typedef uint64_t parley_timer_id;  /* 0 = none */
typedef uint64_t parley_metric_id; /* 0 = none */

typedef int (*parley_get_api_fn)(const char *name, void **fn_out);

/* Method flags. */
#define PARLEY_METHOD_PUBLIC 0x1u /* callable before authentication */

/* Capabilities a plugin declares in its info. */
#define PARLEY_CAP_AUTH 0x1u /* may call session_authenticate/session_clear */

/* Log levels. */
typedef enum parley_log_level {
  PARLEY_LOG_DEBUG = 0,
  PARLEY_LOG_INFO = 1,
  PARLEY_LOG_WARN = 2,
  PARLEY_LOG_ERROR = 3
} parley_log_level;

/* Kernel events for subscribe(): a bit mask; bits are append-only. */
#define PARLEY_EV_CONN_OPENED 0x1u
#define PARLEY_EV_CONN_CLOSED 0x2u
#define PARLEY_EV_AUTHENTICATED 0x4u
#define PARLEY_EV_DEAUTHENTICATED 0x8u
#define PARLEY_EV_ALL_V1 0xFu

/* The event passed to a subscriber. Borrowed for the callback's duration. */
typedef struct parley_event {
  uint32_t struct_size; /* sizeof as built by the host; check before reading */
  uint32_t type;        /* one PARLEY_EV_* bit */
  parley_conn_id conn_id;
  const char *user_id;   /* AUTHENTICATED/DEAUTHENTICATED/CLOSED: the user, or NULL */
  const char *peer;      /* "ip:port" (or a virtual transport's own string) */
  const char *transport; /* "tcp", "tls", or a virtual transport's name */
  void *reserved[8];
} parley_event;

/* Plugin identity, passed to set_info(). Copied by the host. */
typedef struct parley_plugin_info {
  uint32_t struct_size;
  const char *name;    /* also the method namespace: [a-z][a-z0-9_]{0,31} */
  const char *version; /* free text, e.g. "1.2.0" */
  const char *build_signature;    /* PARLEY_BUILD_SIGNATURE */
  const char *const *requires_services; /* NULL-terminated names, or NULL */
  const char *const *provides_services; /* NULL-terminated names, or NULL */
  uint32_t capabilities;          /* PARLEY_CAP_* */
  /* Called once on the loop thread after every plugin's init, in dependency
   * order. Return 0, or an error after set_error() to stop the start. */
  int (*on_all_loaded)(void *ud);
  void *on_all_loaded_ud;
  void *reserved[8];
} parley_plugin_info;

/* Callback shapes: the handle or id first, status where one exists, user
 * data last. */
typedef void (*parley_method_fn)(parley_request *req, const uint8_t *payload,
                                 size_t len, void *ud);
typedef void (*parley_event_fn)(const parley_event *ev, void *ud);
typedef void (*parley_topic_fn)(const char *topic, const uint8_t *bytes,
                                size_t len, void *ud);
typedef void (*parley_work_fn)(void *data);
typedef void (*parley_after_work_fn)(void *data, int status);
typedef void (*parley_loop_fn)(void *data);
typedef void (*parley_timer_fn)(parley_timer_id id, void *ud);
typedef void (*parley_text_fn)(const char *text, size_t len, void *ud);

/* Operations of a virtual connection, implemented by a transport plugin.
 * Copied by the host at conn_open_virtual(). */
typedef struct parley_virtual_ops {
  uint32_t struct_size;
  /* One outbound Envelope buffer (no size prefix), borrowed for the call.
   * Return the bytes the transport now holds unsent for this connection
   * (>= 0), or a negative error to end the connection. The kernel closes a
   * connection whose pending bytes pass limits.max_pending_bytes. */
  int64_t (*write)(void *ud, const uint8_t *bytes, size_t len);
  /* The kernel ended the connection (after sending any sys.closing through
   * write()). Called exactly once, unless the transport reported the
   * connection gone first with conn_virtual_gone(). ud may be freed here. */
  void (*close)(void *ud, uint16_t status, const char *message);
  void *reserved[8];
} parley_virtual_ops;

/* ---------------------------------------------------------- entry points --- */

/* Exported by the plugin. Given the ABI majors the host supports, return the
 * one the plugin speaks, or -1 if none. PARLEY_PLUGIN_ABI(1) writes it. */
typedef int32_t (*parley_plugin_abi_fn)(const uint32_t *host_majors, size_t n);
/* Exported by the plugin. Initialise: call parley_sdk_load(get_api, ...),
 * set_info(), register methods, export services. *state receives the
 * plugin's state pointer, handed back at shutdown. cfg is the plugin's
 * `config:` subtree (possibly empty). Return 0, or an error after set_error().
 */
typedef int (*parley_plugin_init_fn)(parley_plugin *self,
                                     parley_get_api_fn get_api,
                                     const parley_config *cfg, void **state);
/* Exported by the plugin. Free everything. Called in reverse load order,
 * after the host stopped the plugin's timers and drained its work. */
typedef void (*parley_plugin_shutdown_fn)(void *state);

#define PARLEY_PLUGIN_ABI(major)                                               \
  PARLEY_EXPORT int32_t parley_plugin_abi(const uint32_t *host_majors,         \
                                          size_t n) {                          \
    for (size_t i_ = 0; i_ < n; i_++)                                          \
      if (host_majors[i_] == (major))                                          \
        return (major);                                                        \
    return -1;                                                                 \
  }

/* ------------------------------------------------------------ the API ---- */

/* Each member is resolved from get_api() by the name in the X-macro below.
 * The table lives in the plugin, so new names only grow the plugin's copy. */
#define PARLEY_API_V1(XX)                                                      \
  /* Identity. Call first in init. Copies info. ENAMESPACE for a bad name,    \
   * EABI for a signature the host refuses. */                                \
  XX(int, set_info, (parley_plugin * self, const parley_plugin_info *info))    \
  /* Sets the plugin's error message (copied), reported by the host when a    \
   * call into the plugin returns an error (init, on_all_loaded). */          \
  XX(void, set_error, (parley_plugin * self, const char *message))             \
  /* The plugin's name as set by set_info; valid until shutdown. */           \
  XX(const char *, plugin_name, (const parley_plugin *self))                   \
  /* The kernel's data_dir (absolute); valid until shutdown. */               \
  XX(const char *, data_dir, (void))                                           \
                                                                               \
  /* Methods. name is "<plugin name>.<verb>"; ENAMESPACE outside the plugin's \
   * namespace, EEXIST for a duplicate. Only during init. fn runs on the loop \
   * for each Request; it must finish the request exactly once: reply(),     \
   * reply_error(), or defer() and finish later. */                           \
  XX(int, register_method,                                                     \
     (parley_plugin * self, const char *name, parley_method_fn fn,            \
      uint32_t flags, void *ud))                                               \
                                                                               \
  /* Requests. The caller's connection, its user id (NULL if the connection   \
   * is not authenticated; valid until the request is finished), and the     \
   * method name (valid likewise). */                                         \
  XX(parley_conn_id, request_conn, (const parley_request *req))                \
  XX(const char *, request_user, (const parley_request *req))                  \
  XX(const char *, request_method, (const parley_request *req))                \
  /* Keep the request past the handler's return. ESTATE if already finished. \
   */                                                                          \
  XX(int, defer, (parley_request * req))                                       \
  /* Finish with status Ok and a payload (borrowed; may be NULL/0 for an      \
   * empty one). Ends the handle. If the connection is gone the reply is      \
   * dropped silently and 0 is returned. ESTATE if already finished. */       \
  XX(int, reply, (parley_request * req, const uint8_t *bytes, size_t len))     \
  /* Finish with a non-Ok status and a readable message (borrowed). */        \
  XX(int, reply_error,                                                         \
     (parley_request * req, uint16_t status, const char *message))             \
                                                                               \
  /* Connections. Returned strings are valid until the current callback       \
   * returns; copy them to keep them. NULL for an unknown connection (and     \
   * conn_user: for an unauthenticated one). */                               \
  XX(const char *, conn_user, (parley_conn_id conn))                           \
  XX(const char *, conn_peer, (parley_conn_id conn))                           \
  XX(const char *, conn_transport, (parley_conn_id conn))                      \
  /* Bind conn to user_id (copied). Needs PARLEY_CAP_AUTH, else EPERM.        \
   * Fires PARLEY_EV_AUTHENTICATED. Re-authenticating replaces the user. */   \
  XX(int, session_authenticate,                                                \
     (parley_plugin * self, parley_conn_id conn, const char *user_id))         \
  /* Unbind conn (PARLEY_CAP_AUTH). Fires PARLEY_EV_DEAUTHENTICATED. */       \
  XX(int, session_clear, (parley_plugin * self, parley_conn_id conn))          \
  /* Send sys.closing(status, message) and close. ECLOSED if already gone. */ \
  XX(int, conn_close,                                                          \
     (parley_conn_id conn, uint16_t status, const char *message))              \
                                                                               \
  /* Delivery. method is the event's name; bytes its payload (borrowed). The  \
   * Envelope is encoded once and shared by every recipient connection.       \
   * Return the number of connections it was queued to (>= 0). */             \
  XX(int64_t, send_event,                                                      \
     (parley_conn_id conn, const char *method, const uint8_t *bytes,          \
      size_t len))                                                             \
  XX(int64_t, send_event_to_user,                                              \
     (const char *user_id, const char *method, const uint8_t *bytes,          \
      size_t len, parley_conn_id except_conn))                                 \
  /* The same, to every connection of each of n users, one encoding. */       \
  XX(int64_t, send_event_to_users,                                             \
     (const char *const *user_ids, size_t n, const char *method,              \
      const uint8_t *bytes, size_t len, parley_conn_id except_conn))           \
                                                                               \
  /* Kernel events. mask is PARLEY_EV_* bits; ENOTSUP for an unknown bit.     \
   * Returns a subscription id (> 0) or an error. */                          \
  XX(int64_t, subscribe,                                                       \
     (parley_plugin * self, uint32_t mask, parley_event_fn cb, void *ud))      \
  XX(int, unsubscribe, (parley_plugin * self, int64_t subscription))           \
                                                                               \
  /* Plugin bus. Delivery is asynchronous: every on_topic callback for the    \
   * topic runs later on the loop, in publish order, with the bytes copied    \
   * once by the host. */                                                      \
  XX(int, publish,                                                             \
     (parley_plugin * self, const char *topic, const uint8_t *bytes,          \
      size_t len))                                                             \
  XX(int, on_topic,                                                            \
     (parley_plugin * self, const char *topic, parley_topic_fn cb, void *ud))  \
                                                                               \
  /* Services. vtable must stay valid until the exporter's shutdown and       \
   * start with uint32_t struct_size. EEXIST for a (name, version) already    \
   * exported. get_service returns NULL when absent; call it from             \
   * on_all_loaded or later. */                                                \
  XX(int, export_service,                                                      \
     (parley_plugin * self, const char *name, uint32_t version,               \
      const void *vtable))                                                     \
  XX(const void *, get_service, (const char *name, uint32_t version))          \
                                                                               \
  /* Work. work_cb runs on the worker pool and may touch only data;           \
   * after_cb runs on the loop with status 0, or PARLEY_ECANCELED when the    \
   * host is shutting down and work_cb never ran. after_cb always runs. */    \
  XX(int, queue_work,                                                          \
     (parley_plugin * self, parley_work_fn work_cb,                           \
      parley_after_work_fn after_cb, void *data))                              \
  /* Thread-safe: run cb(data) on the loop thread soon. EUNAVAIL once the     \
   * loop is stopping (cb then never runs; the caller keeps data). */         \
  XX(int, post_to_loop, (parley_loop_fn cb, void *data))                       \
                                                                               \
  /* Timers. Fires after ms, then every repeat_ms if non-zero. Returns an     \
   * id (> 0) or 0 on error. A one-shot timer ends after firing. */           \
  XX(parley_timer_id, timer_start,                                             \
     (parley_plugin * self, uint64_t ms, uint64_t repeat_ms,                  \
      parley_timer_fn cb, void *ud))                                           \
  XX(int, timer_stop, (parley_timer_id id))                                    \
                                                                               \
  /* Config. path is dot-separated inside the plugin's config subtree, list   \
   * items by index ("limits.0.max"). A missing key yields def and 0; a       \
   * present key of the wrong type or out of range yields ECONFIG and sets    \
   * the plugin's error to a message naming the full key path and line.      \
   * Strings returned are valid until shutdown. */                            \
  XX(int, config_get_string,                                                   \
     (const parley_config *cfg, const char *path, const char *def,            \
      const char **out))                                                       \
  XX(int, config_get_int,                                                      \
     (const parley_config *cfg, const char *path, int64_t def, int64_t min,   \
      int64_t max, int64_t *out))                                              \
  XX(int, config_get_bool,                                                     \
     (const parley_config *cfg, const char *path, int def, int *out))         \
  XX(int, config_get_double,                                                   \
     (const parley_config *cfg, const char *path, double def, double *out))   \
  /* Number of items of a list (0 if missing); ECONFIG if not a list. */      \
  XX(int, config_list_size,                                                    \
     (const parley_config *cfg, const char *path, size_t *out))               \
  /* Declare the keys the plugin accepts at the subtree's top level (dotted   \
   * paths allowed for nested maps). ECONFIG naming the first unknown key. */ \
  XX(int, config_declare_keys,                                                 \
     (const parley_config *cfg, const char *const *keys, size_t n))           \
                                                                               \
  /* Logging: thread-safe; printf-style; tagged with the plugin's name. */    \
  XX(void, log,                                                                \
     (const parley_plugin *self, int level, const char *fmt, ...))             \
  XX(void, vlog,                                                               \
     (const parley_plugin *self, int level, const char *fmt, va_list ap))      \
                                                                               \
  /* Metrics. Registration on the loop during init; name is prefixed with     \
   * "parley_<plugin>_"; help is copied. Updates are thread-safe. Histograms  \
   * take values in seconds. Returns an id (> 0) or 0 on error. */            \
  XX(parley_metric_id, metric_counter,                                         \
     (parley_plugin * self, const char *name, const char *help))               \
  XX(parley_metric_id, metric_gauge,                                           \
     (parley_plugin * self, const char *name, const char *help))               \
  XX(parley_metric_id, metric_histogram,                                       \
     (parley_plugin * self, const char *name, const char *help))               \
  XX(void, metric_add, (parley_metric_id id, double delta))                    \
  XX(void, metric_set, (parley_metric_id id, double value))                    \
  XX(void, metric_observe, (parley_metric_id id, double value))                \
  /* Render every kernel and plugin metric in Prometheus text exposition      \
   * format; cb receives the text (borrowed) before this returns. */          \
  XX(void, metrics_render, (parley_text_fn cb, void *ud))                      \
                                                                               \
  /* Transports. The kernel's uv_loop_t* (libuv 1.x), for plugins that own    \
   * sockets. */                                                               \
  XX(void *, loop, (void))                                                     \
  /* Kernel limits a transport must enforce the same way (bytes). */          \
  XX(uint64_t, limit_max_frame_bytes, (void))                                  \
  XX(uint64_t, limit_max_pending_bytes, (void))                                \
  /* Create a connection whose bytes the plugin carries. peer and transport   \
   * are copied ("websocket"). Fires PARLEY_EV_CONN_OPENED. Returns the id    \
   * or 0 when the kernel refuses (max_connections, shutting down). */        \
  XX(parley_conn_id, conn_open_virtual,                                        \
     (parley_plugin * self, const parley_virtual_ops *ops, void *ud,          \
      const char *peer, const char *transport))                                \
  /* Feed one inbound Envelope buffer (no size prefix, borrowed) to a         \
   * virtual connection: it is verified and dispatched as a native frame     \
   * would be. ECLOSED if the connection has ended. */                        \
  XX(int, conn_feed,                                                           \
     (parley_conn_id conn, const uint8_t *bytes, size_t len))                  \
  /* The transport lost the peer: end the connection without calling         \
   * ops->close. */                                                            \
  XX(int, conn_virtual_gone, (parley_conn_id conn))                           \
                                                                               \
  /* The plugin's current error message: the last one set by set_error(), a  \
   * failing config getter or a refused registration; "" when none. Valid    \
   * until the next call that sets it. (Lets a wrapper surface the host's    \
   * message, e.g. as an exception.) */                                        \
  XX(const char *, get_error, (const parley_plugin *self))

/* The plugin-local table of host functions. */
typedef struct parley_api {
#define PARLEY_API_MEMBER_(ret, name, args) ret(*name) args;
  PARLEY_API_V1(PARLEY_API_MEMBER_)
#undef PARLEY_API_MEMBER_
} parley_api;

/* Fill *api by name from get_api. Returns 0 when every function resolved;
 * otherwise PARLEY_ENOTSUP, the missing functions stay NULL and *missing (if
 * not NULL) points at the first missing name (a static string). */
static inline int parley_sdk_load(parley_get_api_fn get_api, parley_api *api,
                                  const char **missing) {
  int rc = 0;
  if (missing)
    *missing = NULL;
#define PARLEY_API_LOAD_(ret, name, args)                                      \
  {                                                                            \
    void *fn_ = NULL;                                                          \
    if (get_api(#name, &fn_) != 0 || fn_ == NULL) {                            \
      if (missing && !*missing)                                                \
        *missing = #name;                                                      \
      rc = PARLEY_ENOTSUP;                                                     \
      api->name = NULL;                                                        \
    } else {                                                                   \
      *(void **)(&api->name) = fn_;                                            \
    }                                                                          \
  }
  PARLEY_API_V1(PARLEY_API_LOAD_)
#undef PARLEY_API_LOAD_
  return rc;
}

#ifdef __cplusplus
}
#endif

#endif /* PARLEY_PLUGIN_H */
