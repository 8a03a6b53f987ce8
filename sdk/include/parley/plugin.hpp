// Parley plugin SDK — header-only C++17 wrapper over the C ABI (plugin.h).
//
// Everything here compiles into the plugin; nothing C++ crosses the boundary.
// A whole plugin:
//
//   #include <parley/plugin.hpp>
//   class Echo : public parley::Plugin {
//    public:
//     static constexpr const char* kName = "echo";
//     static constexpr const char* kVersion = "1.0.0";
//     void init(const parley::Config&) override {
//       method("echo.say", [](parley::Request& req, parley::span<const uint8_t> p) {
//         req.reply(p);
//       }, PARLEY_METHOD_PUBLIC);
//     }
//   };
//   PARLEY_PLUGIN(Echo)
//
// Optional class constants: `static constexpr const char* kRequires[] =
// {"storage", nullptr};`, `kProvides[]` likewise, and `static constexpr
// uint32_t kCapabilities = PARLEY_CAP_AUTH;`.
//
// Rules (the C ABI's, restated): everything runs on the loop thread except the
// `work` function of queue_work(), log*() and Metric updates (thread-safe), and
// parley::post_to_loop(). Borrowed data (string_view, span) is valid for the
// callback's duration; copy what you keep. Every trampoline catches every
// exception: a handler's becomes an Internal reply, init's / on_all_loaded's a
// start refusal carrying the message, any other callback's a log line — each
// tagged with the plugin's name by the host.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#if __cplusplus >= 202002L && __has_include(<span>)
#include <span>
#endif

#include "plugin.h"

// Everything below is internal to the plugin's .so: hidden visibility keeps
// each plugin's api table and statics its own even when loaded RTLD_LOCAL
// beside other plugins built from this same header.
#pragma GCC visibility push(hidden)

namespace parley {

// ------------------------------------------------------------------ span ---
#if __cplusplus >= 202002L && __has_include(<span>)
template <class T>
using span = std::span<T>;
#else
// The C++17 stand-in for std::span: a borrowed pointer + length.
template <class T>
class span {
 public:
  constexpr span() noexcept = default;
  constexpr span(T* data, size_t size) noexcept : data_(data), size_(size) {}
  template <class C, class = decltype(std::declval<C&>().data()),
            class = decltype(std::declval<C&>().size())>
  constexpr span(C& c) noexcept : data_(c.data()), size_(c.size()) {}
  template <class C, class = decltype(std::declval<const C&>().data())>
  constexpr span(const C& c) noexcept : data_(c.data()), size_(c.size()) {}
  constexpr T* data() const noexcept { return data_; }
  constexpr size_t size() const noexcept { return size_; }
  constexpr bool empty() const noexcept { return size_ == 0; }
  constexpr T* begin() const noexcept { return data_; }
  constexpr T* end() const noexcept { return data_ + size_; }
  constexpr T& operator[](size_t i) const noexcept { return data_[i]; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};
#endif

// ------------------------------------------------------------ the table ---
namespace detail {
inline parley_api& api_table() {
  static parley_api table{};
  return table;
}
}  // namespace detail

// The host functions as loaded by this plugin's init (one table per .so).
inline const parley_api& api() { return detail::api_table(); }

// Thrown by the wrapper when a host call fails; code is a PARLEY_E* value.
class Error : public std::runtime_error {
 public:
  Error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

// A config getter failed; what() is the host's message (key path and line).
class ConfigError : public std::runtime_error {
 public:
  using runtime_error::runtime_error;
};

// Thread-safe: runs fn on the loop thread soon. False once the loop is
// stopping (fn is then dropped without running).
inline bool post_to_loop(std::function<void()> fn) {
  auto* boxed = new std::function<void()>(std::move(fn));
  int rc = api().post_to_loop(
      [](void* data) {
        std::unique_ptr<std::function<void()>> f(static_cast<std::function<void()>*>(data));
        try {
          (*f)();
        } catch (...) {
          // No plugin handle here to tag the line; swallow rather than unwind
          // into the host.
        }
      },
      boxed);
  if (rc != 0) {
    delete boxed;
    return false;
  }
  return true;
}

// -------------------------------------------------------------- config ---
class Config {
 public:
  Config(const parley_config* cfg, parley_plugin* self) : cfg_(cfg), self_(self) {}

  std::string str(const char* path, const char* def) const {
    const char* out = nullptr;
    check(api().config_get_string(cfg_, path, def, &out));
    return out ? std::string(out) : std::string();
  }
  int64_t integer(const char* path, int64_t def, int64_t min = INT64_MIN,
                  int64_t max = INT64_MAX) const {
    int64_t out = def;
    check(api().config_get_int(cfg_, path, def, min, max, &out));
    return out;
  }
  bool boolean(const char* path, bool def) const {
    int out = def ? 1 : 0;
    check(api().config_get_bool(cfg_, path, def ? 1 : 0, &out));
    return out != 0;
  }
  double number(const char* path, double def) const {
    double out = def;
    check(api().config_get_double(cfg_, path, def, &out));
    return out;
  }
  // Items of a list at path (0 when missing).
  size_t list_size(const char* path) const {
    size_t out = 0;
    check(api().config_list_size(cfg_, path, &out));
    return out;
  }
  // Unknown top-level keys (or dotted nested ones) make this throw.
  void declare_keys(std::initializer_list<const char*> keys) const {
    std::vector<const char*> v(keys);
    check(api().config_declare_keys(cfg_, v.data(), v.size()));
  }
  const parley_config* raw() const { return cfg_; }

 private:
  void check(int rc) const {
    if (rc == 0) return;
    const char* msg = api().get_error ? api().get_error(self_) : nullptr;
    throw ConfigError(msg && *msg ? std::string(msg)
                                  : std::string("config: ") + parley_strerror(rc));
  }
  const parley_config* cfg_;
  parley_plugin* self_;
};

// ------------------------------------------------------------ requests ---
namespace detail {
// Shared by a Request and the Deferred copies made from it.
struct DeferredState {
  parley_request* req = nullptr;
  parley_conn_id conn = 0;
  std::string user;
  bool answered = false;
  ~DeferredState() {
    if (!answered && req)
      api().reply_error(req, PARLEY_STATUS_INTERNAL, "request dropped by plugin");
  }
};
inline const uint8_t* fbb_data(flatbuffers::FlatBufferBuilder& fbb) {
  return fbb.GetBufferPointer();
}
}  // namespace detail

// A request answered later, after the handler returned. Copyable: copies
// share one state; the first answer wins, later ones return false. When the
// last copy is destroyed unanswered the request gets Internal "request
// dropped by plugin". Use and destroy on the loop thread only.
class Deferred {
 public:
  Deferred() = default;
  parley_conn_id conn() const { return state_ ? state_->conn : 0; }
  const std::string& user() const {
    static const std::string empty;
    return state_ ? state_->user : empty;
  }
  bool answered() const { return !state_ || state_->answered; }

  bool reply(flatbuffers::FlatBufferBuilder& fbb) {
    return reply(span<const uint8_t>(detail::fbb_data(fbb), fbb.GetSize()));
  }
  bool reply(span<const uint8_t> bytes = {}) {
    if (answered()) return false;
    state_->answered = true;
    return api().reply(state_->req, bytes.data(), bytes.size()) == 0;
  }
  bool error(uint16_t status, std::string_view message) {
    if (answered()) return false;
    state_->answered = true;
    std::string m(message);
    return api().reply_error(state_->req, status, m.c_str()) == 0;
  }

 private:
  friend class Request;
  explicit Deferred(std::shared_ptr<detail::DeferredState> s) : state_(std::move(s)) {}
  std::shared_ptr<detail::DeferredState> state_;
};

// The handler's borrowed request. Answer exactly once: reply(), error(), or
// defer() and answer through the Deferred. Answering twice throws Error.
class Request {
 public:
  explicit Request(parley_request* req) : req_(req) {}
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  parley_conn_id conn() const { return api().request_conn(req_); }
  // Empty when the connection is not authenticated.
  std::string_view user() const {
    const char* u = api().request_user(req_);
    return u ? std::string_view(u) : std::string_view();
  }
  std::string_view method() const {
    const char* m = api().request_method(req_);
    return m ? std::string_view(m) : std::string_view();
  }

  // fbb must be Finish()ed (with the plugin's file identifier).
  void reply(flatbuffers::FlatBufferBuilder& fbb) {
    reply(span<const uint8_t>(detail::fbb_data(fbb), fbb.GetSize()));
  }
  void reply(span<const uint8_t> bytes = {}) {
    ensure_open("reply");
    done_ = true;
    check(api().reply(req_, bytes.data(), bytes.size()), "reply");
  }
  void error(uint16_t status, std::string_view message) {
    ensure_open("error");
    done_ = true;
    std::string m(message);
    check(api().reply_error(req_, status, m.c_str()), "reply_error");
  }
  Deferred defer() {
    ensure_open("defer");
    check(api().defer(req_), "defer");
    done_ = true;
    auto s = std::make_shared<detail::DeferredState>();
    s->req = req_;
    s->conn = conn();
    s->user = std::string(user());
    return Deferred(std::move(s));
  }
  // True once answered or deferred.
  bool finished() const { return done_; }
  parley_request* raw() const { return req_; }

 private:
  void ensure_open(const char* what) const {
    if (done_)
      throw Error(PARLEY_ESTATE, std::string(what) + ": request already answered or deferred");
  }
  static void check(int rc, const char* what) {
    if (rc != 0) throw Error(rc, std::string(what) + ": " + parley_strerror(rc));
  }
  parley_request* req_;
  bool done_ = false;
};

// The payload as a verified FlatBuffer root of type T carrying
// file_identifier, or nullptr (empty, wrong identifier, or malformed).
template <class T>
const T* verify_payload(span<const uint8_t> payload, const char* file_identifier) {
  if (payload.size() < 8) return nullptr;
  if (file_identifier && !flatbuffers::BufferHasIdentifier(payload.data(), file_identifier))
    return nullptr;
  flatbuffers::Verifier verifier(payload.data(), payload.size());
  if (!verifier.VerifyBuffer<T>(file_identifier)) return nullptr;
  return flatbuffers::GetRoot<T>(payload.data());
}

// ---------------------------------------------------- RAII registrations ---
namespace detail {
// A heap-held callback that may destroy its own owner while running: the
// owner marks it orphaned and the trampoline frees it on return.
template <class Fn>
struct Callback {
  Fn fn;
  parley_plugin* self = nullptr;
  int running = 0;
  bool orphaned = false;
  void release() {
    if (running)
      orphaned = true;
    else
      delete this;
  }
  template <class... A>
  void invoke(const char* what, A&&... args) {
    ++running;
    try {
      fn(std::forward<A>(args)...);
    } catch (const std::exception& e) {
      api().log(self, PARLEY_LOG_ERROR, "%s callback threw: %s", what, e.what());
    } catch (...) {
      api().log(self, PARLEY_LOG_ERROR, "%s callback threw a non-exception", what);
    }
    if (--running == 0 && orphaned) delete this;
  }
};
}  // namespace detail

// A running timer; stops on destruction. Move-only.
class Timer {
 public:
  Timer() = default;
  Timer(Timer&& o) noexcept : id_(std::exchange(o.id_, 0)), cb_(std::exchange(o.cb_, nullptr)) {}
  Timer& operator=(Timer&& o) noexcept {
    if (this != &o) {
      stop();
      id_ = std::exchange(o.id_, 0);
      cb_ = std::exchange(o.cb_, nullptr);
    }
    return *this;
  }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() { stop(); }

  parley_timer_id id() const { return id_; }
  explicit operator bool() const { return id_ != 0; }
  void stop() {
    if (id_) api().timer_stop(id_);  // ENOENT for a fired one-shot: harmless
    id_ = 0;
    if (cb_) cb_->release();
    cb_ = nullptr;
  }

 private:
  friend class Plugin;
  using Cb = detail::Callback<std::function<void()>>;
  Timer(parley_timer_id id, Cb* cb) : id_(id), cb_(cb) {}
  parley_timer_id id_ = 0;
  Cb* cb_ = nullptr;
};

// A kernel-event subscription; unsubscribes on destruction. Move-only.
class Subscription {
 public:
  Subscription() = default;
  Subscription(Subscription&& o) noexcept
      : self_(o.self_), id_(std::exchange(o.id_, 0)), cb_(std::exchange(o.cb_, nullptr)) {}
  Subscription& operator=(Subscription&& o) noexcept {
    if (this != &o) {
      reset();
      self_ = o.self_;
      id_ = std::exchange(o.id_, 0);
      cb_ = std::exchange(o.cb_, nullptr);
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { reset(); }

  explicit operator bool() const { return id_ != 0; }
  void reset() {
    if (id_) api().unsubscribe(self_, id_);
    id_ = 0;
    if (cb_) cb_->release();
    cb_ = nullptr;
  }

 private:
  friend class Plugin;
  using Cb = detail::Callback<std::function<void(const parley_event&)>>;
  Subscription(parley_plugin* self, int64_t id, Cb* cb) : self_(self), id_(id), cb_(cb) {}
  parley_plugin* self_ = nullptr;
  int64_t id_ = 0;
  Cb* cb_ = nullptr;
};

// A registered metric; updates are thread-safe. Histograms take seconds.
class Metric {
 public:
  Metric() = default;
  explicit Metric(parley_metric_id id) : id_(id) {}
  void add(double delta = 1) const { if (id_) api().metric_add(id_, delta); }
  void set(double value) const { if (id_) api().metric_set(id_, value); }
  void observe(double value) const { if (id_) api().metric_observe(id_, value); }
  parley_metric_id id() const { return id_; }

 private:
  parley_metric_id id_ = 0;
};

// --------------------------------------------------------------- plugin ---
namespace detail {
struct Access;
}

class Plugin {
 public:
  using Handler = std::function<void(Request&, span<const uint8_t> payload)>;

  Plugin() = default;
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;
  virtual ~Plugin() = default;

  // Register methods, export services, subscribe. Throw to refuse the start:
  // the host prints the plugin's name and the exception's message.
  virtual void init(const Config& cfg) = 0;
  // After every plugin's init, in dependency order: look services up here.
  // Throw to refuse the start.
  virtual void on_all_loaded() {}

  // Valid from init() on.
  parley_plugin* self() const { return self_; }
  std::string_view name() const {
    const char* n = api().plugin_name(self_);
    return n ? std::string_view(n) : std::string_view();
  }
  std::string data_dir() const {
    const char* d = api().data_dir();
    return d ? d : "";
  }

  // ---- methods (init only). Throws Error on ENAMESPACE / EEXIST.
  void method(const char* name, Handler h, uint32_t flags = 0) {
    auto entry = std::make_unique<MethodEntry>();
    entry->fn = std::move(h);
    entry->owner = this;
    int rc = api().register_method(self_, name, &method_trampoline, flags, entry.get());
    if (rc != 0)
      throw Error(rc, std::string("register_method ") + name + ": " + host_error(rc));
    methods_.push_back(std::move(entry));
  }

  // ---- kernel events
  Subscription subscribe(uint32_t mask, std::function<void(const parley_event&)> cb) {
    auto* c = new Subscription::Cb{std::move(cb), self_};
    int64_t id = api().subscribe(
        self_, mask,
        [](const parley_event* ev, void* ud) {
          static_cast<Subscription::Cb*>(ud)->invoke("event", *ev);
        },
        c);
    if (id <= 0) {
      delete c;
      throw Error(static_cast<int>(id), std::string("subscribe: ") + parley_strerror(static_cast<int>(id)));
    }
    return Subscription(self_, id, c);
  }

  // ---- bus. on_topic callbacks live as long as the plugin.
  void on_topic(const char* topic,
                std::function<void(std::string_view topic, span<const uint8_t>)> cb) {
    auto c = std::make_unique<TopicCb>(TopicCb{std::move(cb), self_});
    int rc = api().on_topic(
        self_, topic,
        [](const char* t, const uint8_t* b, size_t n, void* ud) {
          static_cast<TopicCb*>(ud)->invoke("topic", std::string_view(t),
                                            span<const uint8_t>(b, n));
        },
        c.get());
    if (rc != 0) throw Error(rc, std::string("on_topic ") + topic + ": " + parley_strerror(rc));
    topics_.push_back(std::move(c));
  }
  void publish(const char* topic, span<const uint8_t> bytes) {
    int rc = api().publish(self_, topic, bytes.data(), bytes.size());
    if (rc != 0) throw Error(rc, std::string("publish ") + topic + ": " + parley_strerror(rc));
  }
  void publish(const char* topic, flatbuffers::FlatBufferBuilder& fbb) {
    publish(topic, span<const uint8_t>(fbb.GetBufferPointer(), fbb.GetSize()));
  }

  // ---- timers: cb after ms, then every repeat_ms if non-zero.
  Timer timer(uint64_t ms, uint64_t repeat_ms, std::function<void()> cb) {
    auto* c = new Timer::Cb{std::move(cb), self_};
    parley_timer_id id = api().timer_start(
        self_, ms, repeat_ms,
        [](parley_timer_id, void* ud) { static_cast<Timer::Cb*>(ud)->invoke("timer"); }, c);
    if (id == 0) {
      delete c;
      throw Error(PARLEY_EUNAVAIL, "timer_start failed");
    }
    return Timer(id, c);
  }

  // ---- work: `work` runs on the worker pool (touch only its own captures);
  // `after` runs on the loop with 0, PARLEY_ECANCELED (shutdown; work never
  // ran) or PARLEY_EIO (work threw). Both are destroyed on the loop.
  void queue_work(std::function<void()> work, std::function<void(int status)> after) {
    struct Job {
      std::function<void()> work;
      std::function<void(int)> after;
      parley_plugin* self;
      bool threw = false;
    };
    auto* job = new Job{std::move(work), std::move(after), self_};
    int rc = api().queue_work(
        self_,
        [](void* d) {
          auto* j = static_cast<Job*>(d);
          try {
            j->work();
          } catch (const std::exception& e) {
            j->threw = true;
            api().log(j->self, PARLEY_LOG_ERROR, "work threw: %s", e.what());
          } catch (...) {
            j->threw = true;
            api().log(j->self, PARLEY_LOG_ERROR, "work threw a non-exception");
          }
        },
        [](void* d, int status) {
          std::unique_ptr<Job> j(static_cast<Job*>(d));
          if (status == 0 && j->threw) status = PARLEY_EIO;
          try {
            if (j->after) j->after(status);
          } catch (const std::exception& e) {
            api().log(j->self, PARLEY_LOG_ERROR, "after-work callback threw: %s", e.what());
          } catch (...) {
            api().log(j->self, PARLEY_LOG_ERROR, "after-work callback threw a non-exception");
          }
        },
        job);
    if (rc != 0) {
      delete job;
      throw Error(rc, std::string("queue_work: ") + parley_strerror(rc));
    }
  }

  // ---- services. vtable must outlive this plugin's shutdown.
  void export_service(const char* name, uint32_t version, const void* vtable) {
    int rc = api().export_service(self_, name, version, vtable);
    if (rc != 0)
      throw Error(rc, std::string("export_service ") + name + ": " + host_error(rc));
  }
  // nullptr when absent; call from on_all_loaded() or later.
  template <class T>
  const T* service(const char* name, uint32_t version) const {
    return static_cast<const T*>(api().get_service(name, version));
  }

  // ---- sessions and connections
  // Empty when unknown or not authenticated. Copied.
  std::string conn_user(parley_conn_id conn) const {
    const char* u = api().conn_user(conn);
    return u ? u : "";
  }
  std::string conn_peer(parley_conn_id conn) const {
    const char* p = api().conn_peer(conn);
    return p ? p : "";
  }
  std::string conn_transport(parley_conn_id conn) const {
    const char* t = api().conn_transport(conn);
    return t ? t : "";
  }
  // Needs kCapabilities & PARLEY_CAP_AUTH. Return 0 or PARLEY_E*.
  int session_authenticate(parley_conn_id conn, std::string_view user) {
    std::string u(user);
    return api().session_authenticate(self_, conn, u.c_str());
  }
  int session_clear(parley_conn_id conn) { return api().session_clear(self_, conn); }
  int close_conn(parley_conn_id conn, uint16_t status, std::string_view message) {
    std::string m(message);
    return api().conn_close(conn, status, m.c_str());
  }

  // ---- delivery: fbb Finish()ed; returns connections queued to.
  int64_t send_event(parley_conn_id conn, const char* method, flatbuffers::FlatBufferBuilder& fbb) {
    return api().send_event(conn, method, fbb.GetBufferPointer(), fbb.GetSize());
  }
  int64_t send_event(parley_conn_id conn, const char* method, span<const uint8_t> bytes) {
    return api().send_event(conn, method, bytes.data(), bytes.size());
  }
  int64_t send_event_to_user(std::string_view user, const char* method,
                             flatbuffers::FlatBufferBuilder& fbb, parley_conn_id except = 0) {
    std::string u(user);
    return api().send_event_to_user(u.c_str(), method, fbb.GetBufferPointer(), fbb.GetSize(),
                                    except);
  }
  int64_t send_event_to_users(const std::vector<std::string>& users, const char* method,
                              flatbuffers::FlatBufferBuilder& fbb, parley_conn_id except = 0) {
    std::vector<const char*> ids;
    ids.reserve(users.size());
    for (const auto& u : users) ids.push_back(u.c_str());
    return api().send_event_to_users(ids.data(), ids.size(), method, fbb.GetBufferPointer(),
                                     fbb.GetSize(), except);
  }

  // ---- metrics (register in init; name gets "parley_<plugin>_" prefixed)
  Metric counter(const char* name, const char* help) {
    return Metric(api().metric_counter(self_, name, help));
  }
  Metric gauge(const char* name, const char* help) {
    return Metric(api().metric_gauge(self_, name, help));
  }
  Metric histogram(const char* name, const char* help) {
    return Metric(api().metric_histogram(self_, name, help));
  }

  // ---- logging: thread-safe, printf-style, tagged with the plugin's name.
  __attribute__((format(printf, 3, 4))) void log(int level, const char* fmt, ...) const {
    va_list ap;
    va_start(ap, fmt);
    api().vlog(self_, level, fmt, ap);
    va_end(ap);
  }
  __attribute__((format(printf, 2, 3))) void debug(const char* fmt, ...) const {
    va_list ap;
    va_start(ap, fmt);
    api().vlog(self_, PARLEY_LOG_DEBUG, fmt, ap);
    va_end(ap);
  }
  __attribute__((format(printf, 2, 3))) void info(const char* fmt, ...) const {
    va_list ap;
    va_start(ap, fmt);
    api().vlog(self_, PARLEY_LOG_INFO, fmt, ap);
    va_end(ap);
  }
  __attribute__((format(printf, 2, 3))) void warn(const char* fmt, ...) const {
    va_list ap;
    va_start(ap, fmt);
    api().vlog(self_, PARLEY_LOG_WARN, fmt, ap);
    va_end(ap);
  }
  __attribute__((format(printf, 2, 3))) void error(const char* fmt, ...) const {
    va_list ap;
    va_start(ap, fmt);
    api().vlog(self_, PARLEY_LOG_ERROR, fmt, ap);
    va_end(ap);
  }

 private:
  friend struct detail::Access;
  struct MethodEntry {
    Handler fn;
    Plugin* owner;
  };
  using TopicCb =
      detail::Callback<std::function<void(std::string_view, span<const uint8_t>)>>;

  std::string host_error(int rc) const {
    const char* e = api().get_error ? api().get_error(self_) : nullptr;
    return e && *e ? std::string(e) : std::string(parley_strerror(rc));
  }

  static void method_trampoline(parley_request* req, const uint8_t* payload, size_t len,
                                void* ud) {
    auto* entry = static_cast<MethodEntry*>(ud);
    Request r(req);
    const char* what = nullptr;
    std::string msg;
    try {
      entry->fn(r, span<const uint8_t>(payload, len));
      return;
    } catch (const std::exception& e) {
      msg = e.what();
      what = msg.c_str();
    } catch (...) {
      what = "a non-exception was thrown";
    }
    api().log(entry->owner->self_, PARLEY_LOG_ERROR, "handler %s threw: %s",
              api().request_method(req), what);
    if (!r.finished()) api().reply_error(req, PARLEY_STATUS_INTERNAL, "internal error");
  }

  parley_plugin* self_ = nullptr;
  std::vector<std::unique_ptr<MethodEntry>> methods_;
  std::vector<std::unique_ptr<TopicCb>> topics_;
};

// ------------------------------------------------- PARLEY_PLUGIN support ---
namespace detail {

template <class T, class = void>
struct requires_of {
  static const char* const* get() { return nullptr; }
};
template <class T>
struct requires_of<T, std::void_t<decltype(T::kRequires)>> {
  static const char* const* get() { return T::kRequires; }
};
template <class T, class = void>
struct provides_of {
  static const char* const* get() { return nullptr; }
};
template <class T>
struct provides_of<T, std::void_t<decltype(T::kProvides)>> {
  static const char* const* get() { return T::kProvides; }
};
template <class T, class = void>
struct capabilities_of {
  static uint32_t get() { return 0; }
};
template <class T>
struct capabilities_of<T, std::void_t<decltype(T::kCapabilities)>> {
  static uint32_t get() { return T::kCapabilities; }
};

// The plugin's state pointer: the instance, created after set_info.
struct Holder {
  Plugin* plugin = nullptr;
};

struct Access {
  static void attach(Plugin& p, parley_plugin* self) { p.self_ = self; }
};

// The host prefixes the stage ("init failed: ..."), so the message is just
// the exception's text.
inline int set_error_from(parley_plugin* self, const char* /*stage*/, const char* what) {
  api().set_error(self, what);
  return PARLEY_EINVAL;
}

inline int on_all_loaded_trampoline(void* ud) {
  auto* h = static_cast<Holder*>(ud);
  if (!h->plugin) return 0;
  try {
    h->plugin->on_all_loaded();
    return 0;
  } catch (const std::exception& e) {
    return set_error_from(h->plugin->self(), "on_all_loaded", e.what());
  } catch (...) {
    return set_error_from(h->plugin->self(), "on_all_loaded", "a non-exception was thrown");
  }
}

template <class T>
int init_plugin(parley_plugin* self, parley_get_api_fn get_api, const parley_config* cfg,
                void** state) {
  static_assert(std::is_base_of_v<Plugin, T>, "PARLEY_PLUGIN(T): T must derive parley::Plugin");
  const char* missing = nullptr;
  if (parley_sdk_load(get_api, &api_table(), &missing) != 0) {
    if (api().set_error) {
      std::string m = std::string("the host lacks API function ") + (missing ? missing : "?");
      api().set_error(self, m.c_str());
    }
    return PARLEY_ENOTSUP;
  }
  auto holder = std::make_unique<Holder>();
  parley_plugin_info info{};
  info.struct_size = sizeof info;
  info.name = T::kName;
  info.version = T::kVersion;
  info.build_signature = PARLEY_BUILD_SIGNATURE;
  info.requires_services = requires_of<T>::get();
  info.provides_services = provides_of<T>::get();
  info.capabilities = capabilities_of<T>::get();
  info.on_all_loaded = &on_all_loaded_trampoline;
  info.on_all_loaded_ud = holder.get();
  int rc = api().set_info(self, &info);
  if (rc != 0) {
    const char* e = api().get_error(self);
    if (!e || !*e) set_error_from(self, "set_info", parley_strerror(rc));
    return rc;
  }
  std::unique_ptr<T> plugin;
  try {
    plugin = std::make_unique<T>();
    Access::attach(*plugin, self);
    Config c(cfg, self);
    plugin->init(c);
  } catch (const std::exception& e) {
    plugin.reset();  // destructors may still call the host: api is loaded
    return set_error_from(self, "init", e.what());
  } catch (...) {
    plugin.reset();
    return set_error_from(self, "init", "a non-exception was thrown");
  }
  holder->plugin = plugin.release();
  *state = holder.release();
  return 0;
}

inline void shutdown_plugin(void* state) {
  std::unique_ptr<Holder> h(static_cast<Holder*>(state));
  if (!h) return;
  parley_plugin* self = h->plugin ? h->plugin->self() : nullptr;
  try {
    delete h->plugin;
  } catch (const std::exception& e) {
    if (self) api().log(self, PARLEY_LOG_ERROR, "shutdown threw: %s", e.what());
  } catch (...) {
    if (self) api().log(self, PARLEY_LOG_ERROR, "shutdown threw a non-exception");
  }
}

}  // namespace detail
}  // namespace parley

#pragma GCC visibility pop

// Emits the three entry points for plugin class T (ABI major 1).
#define PARLEY_PLUGIN(T)                                                        \
  extern "C" {                                                                 \
  PARLEY_PLUGIN_ABI(1)                                                         \
  PARLEY_EXPORT int parley_plugin_init(parley_plugin* self,                    \
                                       parley_get_api_fn get_api,              \
                                       const parley_config* cfg, void** state) { \
    return ::parley::detail::init_plugin<T>(self, get_api, cfg, state);        \
  }                                                                            \
  PARLEY_EXPORT void parley_plugin_shutdown(void* state) {                     \
    ::parley::detail::shutdown_plugin(state);                                  \
  }                                                                            \
  }
