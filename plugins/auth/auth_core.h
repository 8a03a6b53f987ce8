// The auth plugin's behaviour, apart from the SDK glue (auth_plugin.cc):
// registration, login, token resume/refresh/logout, profile, lookups, the
// map of connections to the tokens they authenticated with, rate limits and
// the hashing gate. It talks to the world through two small interfaces, Kv
// (the storage service) and Host (worker pool, sessions, connections, clock,
// audit log), so unit tests drive it with in-memory fakes.
//
// Threads: everything here runs on the loop thread; only the closures passed
// to Host::run_off_loop as `work` run on the worker pool, and they touch
// only their own captured data.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "credentials.h"
#include "keyed_queue.h"
#include "rate_limiter.h"
#include "records.h"
#include "work_gate.h"

namespace parley::auth {

using ConnId = uint64_t;

// The storage service as the core sees it: one namespace, async, every
// callback exactly once on the loop.
class Kv {
 public:
  virtual ~Kv() = default;
  // cb(0, value), cb(PARLEY_ENOENT, ""), or cb(other error, "").
  virtual void get(const std::string& key,
                   std::function<void(int status, std::string value)> cb) = 0;
  struct Op {
    std::string key;
    std::optional<std::string> value;  // nullopt: delete
  };
  // One atomic batch; cb(0) once durable.
  virtual void write(std::vector<Op> ops, std::function<void(int status)> cb) = 0;
};

// Countable outcomes, for metrics.
enum class Event {
  Registered,
  LoggedIn,
  LoginFailed,
  RateLimited,
  Refreshed,
  RefreshReuse,
  LoggedOut,
  HashQueueFull,
};

class Host {
 public:
  virtual ~Host() = default;
  // One more `e` happened. Default: not counted.
  virtual void count(Event e) { (void)e; }
  virtual uint64_t now_ms() = 0;
  // work on the worker pool, then after(ran) on the loop; ran is false when
  // the host cancelled the work at shutdown (work did not run).
  virtual void run_off_loop(std::function<void()> work,
                            std::function<void(bool ran)> after) = 0;
  // Binds conn to user_id; false when the connection is gone.
  virtual bool authenticate(ConnId conn, const std::string& user_id) = 0;
  virtual void deauthenticate(ConnId conn) = 0;
  // sys.closing(status, message), then close.
  virtual void close_conn(ConnId conn, uint16_t status,
                          const std::string& message) = 0;
  // Audit trail (info level). Never passed secrets or whole tokens.
  virtual void audit(const std::string& line) = 0;
  virtual void warn(const std::string& line) = 0;
};

struct Settings {
  uint64_t token_ttl_ms = 24ull * 3600 * 1000;
  uint64_t refresh_ttl_ms = 30ull * 24 * 3600 * 1000;
  Argon2Params argon2;
  size_t max_concurrent_hashes = 2;
  size_t max_queued_hashes = 256;
  uint32_t login_fail_per_phone = 5;
  uint32_t login_fail_per_peer = 50;
  uint64_t login_fail_window_ms = 15ull * 60 * 1000;
};

struct UserView {
  std::string user_id, phone, display_name;
  uint64_t created_at = 0;
};

// The answer to one call. status 0: `user` is set, and for the session
// methods `token` (+ expiry and `refresh_token`, empty after resume).
struct Result {
  uint16_t status = 0;
  std::string error;
  std::optional<UserView> user;
  std::string token;
  uint64_t token_expires_at = 0;
  std::string refresh_token;
};
using Reply = std::function<void(Result)>;

// Who is calling: the connection, its user (empty before authentication)
// and its peer string ("ip:port").
struct Caller {
  ConnId conn = 0;
  std::string user_id;
  std::string peer;
};

// The same text for an unknown phone and a wrong password.
inline constexpr const char* kBadCredentials = "invalid phone number or password";
inline constexpr const char* kBadToken = "invalid, expired or revoked token";

class AuthCore {
 public:
  AuthCore(Settings settings, Kv& kv, Host& host);

  void register_user(const Caller& caller, std::string phone,
                     std::string password, std::string display_name, Reply reply);
  void login(const Caller& caller, std::string phone, std::string password,
             Reply reply);
  void resume(const Caller& caller, std::string token, Reply reply);
  void refresh(const Caller& caller, std::string refresh_token, Reply reply);
  void logout(const Caller& caller, Reply reply);
  void whoami(const Caller& caller, Reply reply);
  void update_profile(const Caller& caller, std::string display_name,
                      Reply reply);
  // Lookups (auth.find_user and the `auth` service): NotFound when absent.
  void find_user_by_phone(const std::string& phone, Reply reply);
  void find_user_by_id(const std::string& user_id, Reply reply);

  // Kernel event: the connection is gone; forget its token.
  void conn_closed(ConnId conn);
  // Periodic housekeeping: closes connections whose access token expired,
  // prunes the rate limiters.
  void tick();

  const Settings& settings() const { return settings_; }
  size_t tracked_connections() const { return sessions_.size(); }

 private:
  struct ConnSession {
    std::string user_id, access_hash, family_id;
    uint64_t expires_at = 0;
  };
  struct Got {
    int status = 0;
    std::string value;
  };
  struct NewPair {
    std::string access, refresh;  // plaintext, handed to the client once
    std::string access_hash, refresh_hash;
    uint64_t access_expires = 0;
    std::vector<Kv::Op> ops;
  };

  void get_many(std::vector<std::string> keys,
                std::function<void(std::vector<Got>)> cb);
  void load_user(const std::string& user_id,
                 std::function<void(int status, std::optional<UserRecord>)> cb);
  // Runs `work` through the hashing gate; false when the queue is full.
  bool hash_job(std::function<void()> work, std::function<void(bool ran)> after);
  NewPair new_pair(const std::string& user_id, const std::string& family_id,
                   uint64_t now);
  // Writes ops (incl. the pair), then authenticates the caller's connection
  // with the new access token and answers with a Session.
  void commit_session(const Caller& caller, const UserRecord& user,
                      const std::string& family_id, NewPair pair,
                      std::vector<Kv::Op> extra, Event event, std::string audit_line,
                      std::function<void(int status)> done, Reply reply);
  void bind(ConnId conn, const std::string& user_id, ConnSession session);
  void untrack(ConnId conn);
  // Closes every tracked connection of `family` (except `except`) whose
  // token matches `access_hash` (any token when empty).
  void close_family(const std::string& family_id, const std::string& access_hash,
                    ConnId except, const std::string& message);
  void store_rehash(const std::string& user_id, std::string hash);
  void login_failed(const std::string& phone, const std::string& peer,
                    const std::string& why, const Reply& reply);
  std::string retry_message(uint64_t ms) const;
  void busy(const Reply& reply);  // ResourceExhausted: hash queue full

  Settings settings_;
  Kv& kv_;
  Host& host_;
  WorkGate hash_gate_;
  KeyedQueue serial_;
  SlidingWindowLimiter phone_failures_;
  SlidingWindowLimiter peer_failures_;
  std::unordered_map<ConnId, ConnSession> sessions_;
  std::unordered_map<std::string, std::set<ConnId>> family_conns_;
};

// "+15550102030" -> "+155*****030": enough to correlate audit lines, not
// enough to read the number out of a log.
std::string mask_phone(const std::string& phone);

}  // namespace parley::auth
