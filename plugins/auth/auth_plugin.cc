// The auth plugin's SDK glue: config, method handlers (payload in, payload
// out), the kernel-event subscription, the housekeeping timer, and the
// `auth` service v1. Behaviour lives in auth_core.cc.
//
// Build: part of the parley tree (plugins/auth/CMakeLists.txt).
// Configure (parley.yaml):
//   plugins:
//     persistence: { config: { ... } }
//     auth:
//       config:
//         token_ttl_ms: 86400000        # access token lifetime (24 h)
//         refresh_ttl_ms: 2592000000    # refresh token lifetime (30 d)
//         argon2_memory_kib: 19456      # argon2id m (OWASP minimum: 19 MiB)
//         argon2_iterations: 2          # argon2id t
//         max_concurrent_hashes: 2      # hashes on the worker pool at once
//         max_queued_hashes: 256        # waiting beyond that: ResourceExhausted
//         login_fail_per_phone: 5       # failed logins per number per window
//         login_fail_per_peer: 50       # ... per peer address per window
//         login_fail_window_ms: 900000  # 15 min
#include <parley/auth_generated.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "auth_core.h"
#include "parley/plugin.hpp"
#include "parley/services/auth.h"
#include "parley/services/storage.hpp"
#include "parley/util/uuid.hpp"

namespace {

namespace core = parley::auth;  // the logic (auth_core.h)
namespace fb = parley::auth;    // the generated payload tables

class AuthPlugin;
// The service vtable's functions take no instance argument, so they reach
// the plugin through this pointer, set from init() to the destructor. It is
// hidden inside this .so.
AuthPlugin* g_instance = nullptr;

std::string str(const flatbuffers::String* s) {
  return s ? std::string(s->c_str(), s->size()) : std::string();
}

flatbuffers::Offset<fb::User> build_user(flatbuffers::FlatBufferBuilder& fbb,
                                         const core::UserView& u) {
  return fb::CreateUserDirect(fbb, u.user_id.c_str(), u.phone.c_str(),
                              u.display_name.c_str(), u.created_at);
}

// A Reply that answers the deferred request with a Session.
core::Reply session_reply(parley::Deferred d) {
  return [d](core::Result r) mutable {
    if (r.status != PARLEY_STATUS_OK) {
      d.error(r.status, r.error);
      return;
    }
    flatbuffers::FlatBufferBuilder fbb(512);
    auto user = build_user(fbb, *r.user);
    auto session = fb::CreateSessionDirect(
        fbb, user, r.token.c_str(), r.token_expires_at,
        r.refresh_token.empty() ? nullptr : r.refresh_token.c_str());
    fbb.Finish(session, fb::SessionIdentifier());
    d.reply(fbb);
  };
}

// A Reply that answers with a User.
core::Reply user_reply(parley::Deferred d) {
  return [d](core::Result r) mutable {
    if (r.status != PARLEY_STATUS_OK) {
      d.error(r.status, r.error);
      return;
    }
    flatbuffers::FlatBufferBuilder fbb(256);
    fbb.Finish(build_user(fbb, *r.user), fb::SessionIdentifier());
    d.reply(fbb);
  };
}

// A Reply that answers with an empty payload.
core::Reply empty_reply(parley::Deferred d) {
  return [d](core::Result r) mutable {
    if (r.status != PARLEY_STATUS_OK)
      d.error(r.status, r.error);
    else
      d.reply();
  };
}

constexpr const char* kBadPayload = "payload is not a valid parley.auth.";

class AuthPlugin : public parley::Plugin, private core::Kv, private core::Host {
 public:
  static constexpr const char* kName = "auth";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kRequires[] = {"storage", nullptr};
  static constexpr const char* kProvides[] = {"auth", nullptr};
  static constexpr uint32_t kCapabilities = PARLEY_CAP_AUTH;

  ~AuthPlugin() override {
    // Storage completions that arrive after this point are dropped.
    alive_.reset();
    if (g_instance == this) g_instance = nullptr;
  }

  void init(const parley::Config& cfg) override {
    if (!core::crypto_init()) throw std::runtime_error("libsodium failed to initialise");
    cfg.declare_keys({"token_ttl_ms", "refresh_ttl_ms", "argon2_memory_kib",
                      "argon2_iterations", "max_concurrent_hashes",
                      "max_queued_hashes", "login_fail_per_phone",
                      "login_fail_per_peer", "login_fail_window_ms"});
    core::Settings s;
    constexpr int64_t kDay = 24ll * 3600 * 1000;
    s.token_ttl_ms = cfg.integer("token_ttl_ms", s.token_ttl_ms, 1000, 366 * kDay);
    s.refresh_ttl_ms = cfg.integer("refresh_ttl_ms", s.refresh_ttl_ms, 1000, 3660 * kDay);
    // libsodium's argon2id floor is 8 KiB and t = 1; the ceilings only stop
    // a typo from asking every login for gigabytes.
    s.argon2.memory_kib = cfg.integer("argon2_memory_kib", s.argon2.memory_kib, 8, 4 << 20);
    s.argon2.iterations = cfg.integer("argon2_iterations", s.argon2.iterations, 1, 64);
    s.max_concurrent_hashes = cfg.integer("max_concurrent_hashes", s.max_concurrent_hashes, 1, 256);
    s.max_queued_hashes = cfg.integer("max_queued_hashes", s.max_queued_hashes, 0, 1000000);
    s.login_fail_per_phone = cfg.integer("login_fail_per_phone", s.login_fail_per_phone, 0, 1000000);
    s.login_fail_per_peer = cfg.integer("login_fail_per_peer", s.login_fail_per_peer, 0, 1000000);
    s.login_fail_window_ms = cfg.integer("login_fail_window_ms", s.login_fail_window_ms, 1, 30 * kDay);
    core_ = std::make_unique<core::AuthCore>(s, static_cast<core::Kv&>(*this),
                                             static_cast<core::Host&>(*this));
    info("argon2id m=%llu KiB t=%llu p=1, %zu concurrent hashes; token ttl %llu ms, "
         "refresh ttl %llu ms",
         static_cast<unsigned long long>(s.argon2.memory_kib),
         static_cast<unsigned long long>(s.argon2.iterations), s.max_concurrent_hashes,
         static_cast<unsigned long long>(s.token_ttl_ms),
         static_cast<unsigned long long>(s.refresh_ttl_ms));

    register_methods();
    register_metrics();
    closed_ = subscribe(PARLEY_EV_CONN_CLOSED,
                        [this](const parley_event& ev) { core_->conn_closed(ev.conn_id); });
    g_instance = this;
    export_service(PARLEY_AUTH_SERVICE, PARLEY_AUTH_VERSION, &kService);
  }

  void on_all_loaded() override {
    storage_ = parley::Storage::from_service(
        parley::api().get_service(PARLEY_STORAGE_SERVICE, PARLEY_STORAGE_VERSION));
    ns_ = storage_.open_namespace(self());
    // Closes connections whose access token expired; prunes rate limiters.
    tick_ = timer(1000, 1000, [this] { core_->tick(); });
  }

  // ---- the auth service v1 ------------------------------------------------
  static int svc_find_by_id(const char* user_id, parley_user_cb cb, void* ud) {
    if (!user_id || !cb) return PARLEY_EINVAL;
    if (!g_instance) return PARLEY_EUNAVAIL;
    return g_instance->service_lookup(false, user_id, cb, ud);
  }
  static int svc_find_by_phone(const char* phone, parley_user_cb cb, void* ud) {
    if (!phone || !cb) return PARLEY_EINVAL;
    if (!g_instance) return PARLEY_EUNAVAIL;
    return g_instance->service_lookup(true, phone, cb, ud);
  }
  static constexpr parley_auth_v1 kService = {
      sizeof(parley_auth_v1), &svc_find_by_id, &svc_find_by_phone, {}};

 private:
  // ---- methods ------------------------------------------------------------
  core::Caller caller(parley::Request& req) const {
    return core::Caller{req.conn(), std::string(req.user()), conn_peer(req.conn())};
  }

  void register_methods() {
    method("auth.register", [this](parley::Request& req, parley::span<const uint8_t> p) {
      auto* m = parley::verify_payload<fb::Register>(p, fb::SessionIdentifier());
      if (!m) return req.error(PARLEY_STATUS_INVALID_ARGUMENT, std::string(kBadPayload) + "Register");
      core::Caller c = caller(req);
      core_->register_user(c, str(m->phone()), str(m->password()),
                           str(m->display_name()), session_reply(req.defer()));
    }, PARLEY_METHOD_PUBLIC);

    method("auth.login", [this](parley::Request& req, parley::span<const uint8_t> p) {
      auto* m = parley::verify_payload<fb::Login>(p, fb::SessionIdentifier());
      if (!m) return req.error(PARLEY_STATUS_INVALID_ARGUMENT, std::string(kBadPayload) + "Login");
      core::Caller c = caller(req);
      core_->login(c, str(m->phone()), str(m->password()), session_reply(req.defer()));
    }, PARLEY_METHOD_PUBLIC);

    method("auth.resume", [this](parley::Request& req, parley::span<const uint8_t> p) {
      auto* m = parley::verify_payload<fb::Resume>(p, fb::SessionIdentifier());
      if (!m) return req.error(PARLEY_STATUS_INVALID_ARGUMENT, std::string(kBadPayload) + "Resume");
      core::Caller c = caller(req);
      core_->resume(c, str(m->token()), session_reply(req.defer()));
    }, PARLEY_METHOD_PUBLIC);

    method("auth.refresh", [this](parley::Request& req, parley::span<const uint8_t> p) {
      auto* m = parley::verify_payload<fb::Refresh>(p, fb::SessionIdentifier());
      if (!m) return req.error(PARLEY_STATUS_INVALID_ARGUMENT, std::string(kBadPayload) + "Refresh");
      core::Caller c = caller(req);
      core_->refresh(c, str(m->refresh_token()), session_reply(req.defer()));
    }, PARLEY_METHOD_PUBLIC);

    method("auth.logout", [this](parley::Request& req, parley::span<const uint8_t>) {
      core::Caller c = caller(req);
      core_->logout(c, empty_reply(req.defer()));
    });

    method("auth.whoami", [this](parley::Request& req, parley::span<const uint8_t>) {
      core::Caller c = caller(req);
      core_->whoami(c, user_reply(req.defer()));
    });

    method("auth.find_user", [this](parley::Request& req, parley::span<const uint8_t> p) {
      auto* m = parley::verify_payload<fb::FindUser>(p, fb::SessionIdentifier());
      if (!m) return req.error(PARLEY_STATUS_INVALID_ARGUMENT, std::string(kBadPayload) + "FindUser");
      core_->find_user_by_phone(str(m->phone()), user_reply(req.defer()));
    });

    method("auth.update_profile", [this](parley::Request& req, parley::span<const uint8_t> p) {
      auto* m = parley::verify_payload<fb::Profile>(p, fb::SessionIdentifier());
      if (!m) return req.error(PARLEY_STATUS_INVALID_ARGUMENT, std::string(kBadPayload) + "Profile");
      core::Caller c = caller(req);
      core_->update_profile(c, str(m->display_name()), user_reply(req.defer()));
    });
  }

  // ---- metrics ------------------------------------------------------------
  void register_metrics() {
    using E = core::Event;
    auto add = [this](E e, const char* name, const char* help) {
      metrics_[static_cast<size_t>(e)] = counter(name, help);
    };
    add(E::Registered, "registrations_total", "Accounts registered");
    add(E::LoggedIn, "logins_total", "Successful logins");
    add(E::LoginFailed, "login_failures_total", "Failed logins (unknown number or wrong password)");
    add(E::RateLimited, "login_rate_limited_total", "Logins refused by the failed-login rate limit");
    add(E::Refreshed, "refreshes_total", "Token pairs rotated by auth.refresh");
    add(E::RefreshReuse, "refresh_reuse_total", "Reused refresh tokens (families revoked)");
    add(E::LoggedOut, "logouts_total", "Logouts");
    add(E::HashQueueFull, "hash_queue_full_total", "Requests refused because the hash queue was full");
  }

  // ---- service lookups ------------------------------------------------------
  int service_lookup(bool by_phone, const char* key, parley_user_cb cb, void* ud) {
    if (!ns_) return PARLEY_EUNAVAIL;
    // The contract says cb runs later, never inside this call: an answer
    // that comes back synchronously (a malformed id) is posted to the loop.
    auto inside = std::make_shared<bool>(true);
    core::Reply reply = [cb, ud, inside](core::Result r) {
      auto deliver = [cb, ud, r] {
        if (r.status != PARLEY_STATUS_OK) {
          int err = (r.status == PARLEY_STATUS_NOT_FOUND ||
                     r.status == PARLEY_STATUS_INVALID_ARGUMENT)
                        ? PARLEY_ENOENT
                        : PARLEY_EUNAVAIL;
          cb(ud, err, nullptr);
          return;
        }
        parley_user_info info{};
        info.struct_size = sizeof info;
        info.user_id = r.user->user_id.c_str();
        info.phone = r.user->phone.c_str();
        info.display_name = r.user->display_name.c_str();
        info.created_at = r.user->created_at;
        cb(ud, 0, &info);
      };
      if (*inside)
        parley::post_to_loop(deliver);
      else
        deliver();
    };
    if (by_phone)
      core_->find_user_by_phone(key, reply);
    else
      core_->find_user_by_id(key, reply);
    *inside = false;
    return 0;
  }

  // ---- core::Kv over the storage service -----------------------------------
  template <class Fn>
  auto guarded(Fn fn) {
    // Completions that outlive the plugin (storage shuts down after it) are
    // dropped instead of touching freed state.
    return [alive = std::weak_ptr<bool>(alive_), fn = std::move(fn)](auto&&... args) mutable {
      if (alive.expired()) return;
      fn(std::forward<decltype(args)>(args)...);
    };
  }

  void get(const std::string& key, std::function<void(int, std::string)> cb) override {
    storage_.get(ns_, key, guarded([cb = std::move(cb)](int status, std::string_view v) {
      cb(status, std::string(v));
    }));
  }

  void write(std::vector<core::Kv::Op> ops, std::function<void(int)> cb) override {
    auto batch = storage_.batch();
    for (const auto& op : ops) {
      if (op.value)
        batch.put(ns_, op.key, *op.value);
      else
        batch.del(ns_, op.key);
    }
    storage_.commit(std::move(batch), guarded(std::move(cb)));
  }

  // ---- core::Host over the SDK ---------------------------------------------
  uint64_t now_ms() override { return parley::util::now_ms(); }

  void run_off_loop(std::function<void()> work, std::function<void(bool)> after) override {
    queue_work(std::move(work), [after = std::move(after)](int status) {
      after(status != PARLEY_ECANCELED);
    });
  }

  bool authenticate(core::ConnId conn, const std::string& user_id) override {
    return session_authenticate(conn, user_id) == 0;
  }
  void deauthenticate(core::ConnId conn) override { session_clear(conn); }
  void close_conn(core::ConnId conn, uint16_t status, const std::string& message) override {
    Plugin::close_conn(conn, status, message);
  }
  void count(core::Event e) override { metrics_[static_cast<size_t>(e)].add(1); }
  void audit(const std::string& line) override { info("audit: %s", line.c_str()); }
  void warn(const std::string& line) override { Plugin::warn("%s", line.c_str()); }

  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unique_ptr<core::AuthCore> core_;
  parley::Storage storage_;
  parley_storage_ns ns_ = 0;
  parley::Subscription closed_;
  parley::Timer tick_;
  parley::Metric metrics_[static_cast<size_t>(core::Event::HashQueueFull) + 1];
};

}  // namespace

PARLEY_PLUGIN(AuthPlugin)
