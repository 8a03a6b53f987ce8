#include "auth_core.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "parley/errors.h"
#include "parley/util/uuid.hpp"
#include "phone.h"
#include "tokens.h"

namespace parley::auth {
namespace {

constexpr uint16_t kInvalid = PARLEY_STATUS_INVALID_ARGUMENT;
constexpr uint16_t kUnauth = PARLEY_STATUS_UNAUTHENTICATED;
constexpr uint16_t kNotFound = PARLEY_STATUS_NOT_FOUND;
constexpr uint16_t kExists = PARLEY_STATUS_ALREADY_EXISTS;
constexpr uint16_t kExhausted = PARLEY_STATUS_RESOURCE_EXHAUSTED;
constexpr uint16_t kUnavailable = PARLEY_STATUS_UNAVAILABLE;
constexpr uint16_t kInternal = PARLEY_STATUS_INTERNAL;

constexpr const char* kBadPhone =
    "phone must be an E.164 number such as +15550102030";
constexpr const char* kBadPassword = "password must be 8 to 128 bytes of UTF-8";
constexpr const char* kBadName =
    "display_name must be 1 to 64 characters of UTF-8";
constexpr const char* kBusy = "too many password hashes queued; retry later";
constexpr const char* kStorageDown = "storage unavailable";
constexpr const char* kCorrupt = "corrupt auth record";
constexpr const char* kRevokedClose = "token revoked";
// A user id no account has (UUIDv7 ids never have an all-zero timestamp).
constexpr const char* kNoUser = "00000000-0000-7000-8000-000000000000";

Result error(uint16_t status, std::string message) {
  Result r;
  r.status = status;
  r.error = std::move(message);
  return r;
}

UserView view(const UserRecord& u) {
  return UserView{u.user_id, u.phone, u.display_name, u.created_at};
}

Result user_result(const UserRecord& u) {
  Result r;
  r.user = view(u);
  return r;
}

// Storage failures other than "not found" become Unavailable.
Result storage_error(int status) {
  (void)status;
  return error(kUnavailable, kStorageDown);
}

}  // namespace

std::string mask_phone(const std::string& phone) {
  if (phone.size() < 8) return "***";
  std::string out = phone.substr(0, 4);
  out.append(phone.size() - 7, '*');
  out.append(phone.substr(phone.size() - 3));
  return out;
}

AuthCore::AuthCore(Settings settings, Kv& kv, Host& host)
    : settings_(settings),
      kv_(kv),
      host_(host),
      hash_gate_(settings.max_concurrent_hashes, settings.max_queued_hashes),
      phone_failures_(settings.login_fail_per_phone, settings.login_fail_window_ms),
      peer_failures_(settings.login_fail_per_peer, settings.login_fail_window_ms) {}

// ------------------------------------------------------------- helpers ---

void AuthCore::get_many(std::vector<std::string> keys,
                        std::function<void(std::vector<Got>)> cb) {
  if (keys.empty()) {
    cb({});
    return;
  }
  struct State {
    std::vector<Got> got;
    size_t left;
    std::function<void(std::vector<Got>)> cb;
  };
  auto st = std::make_shared<State>();
  st->got.resize(keys.size());
  st->left = keys.size();
  st->cb = std::move(cb);
  for (size_t i = 0; i < keys.size(); ++i) {
    kv_.get(keys[i], [st, i](int status, std::string value) {
      st->got[i] = Got{status, std::move(value)};
      if (--st->left == 0) st->cb(std::move(st->got));
    });
  }
}

void AuthCore::load_user(
    const std::string& user_id,
    std::function<void(int status, std::optional<UserRecord>)> cb) {
  kv_.get(user_key(user_id), [cb = std::move(cb)](int status, std::string v) {
    if (status != 0) return cb(status, std::nullopt);
    auto u = decode_user(v);
    cb(u ? 0 : PARLEY_ECORRUPT, std::move(u));
  });
}

bool AuthCore::hash_job(std::function<void()> work,
                        std::function<void(bool ran)> after) {
  return hash_gate_.submit([this, work = std::move(work),
                            after = std::move(after)]() mutable {
    host_.run_off_loop(std::move(work),
                       [this, after = std::move(after)](bool ran) {
                         // Free the slot first: the reply below may be slow
                         // to build, the next hash need not wait for it.
                         hash_gate_.finished();
                         after(ran);
                       });
  });
}

AuthCore::NewPair AuthCore::new_pair(const std::string& user_id,
                                     const std::string& family_id, uint64_t now) {
  NewPair p;
  p.access = new_token();
  p.refresh = new_token();
  p.access_hash = token_hash(p.access);
  p.refresh_hash = token_hash(p.refresh);
  p.access_expires = now + settings_.token_ttl_ms;
  TokenRecord a{user_id, TokenKind::Access, TokenState::Active, family_id,
                p.refresh_hash, now, p.access_expires};
  TokenRecord r{user_id, TokenKind::Refresh, TokenState::Active, family_id,
                p.access_hash, now, now + settings_.refresh_ttl_ms};
  p.ops.push_back({token_key(p.access_hash), encode(a)});
  p.ops.push_back({token_key(p.refresh_hash), encode(r)});
  return p;
}

void AuthCore::commit_session(const Caller& caller, const UserRecord& user,
                              const std::string& family_id, NewPair pair,
                              std::vector<Kv::Op> extra, Event event,
                              std::string audit_line,
                              std::function<void(int status)> done,
                              Reply reply) {
  std::vector<Kv::Op> ops = std::move(extra);
  for (auto& op : pair.ops) ops.push_back(std::move(op));
  pair.ops.clear();
  ConnId conn = caller.conn;
  kv_.write(std::move(ops), [this, conn, user, family_id, pair = std::move(pair), event,
                             audit_line = std::move(audit_line),
                             done = std::move(done),
                             reply = std::move(reply)](int status) {
    if (done) done(status);
    if (status != 0) return reply(storage_error(status));
    host_.count(event);
    host_.audit(audit_line + " conn=" + std::to_string(conn) +
                " token=" + token_tag(pair.access_hash));
    bind(conn, user.user_id,
         ConnSession{user.user_id, pair.access_hash, family_id,
                     pair.access_expires});
    Result r;
    r.user = view(user);
    r.token = pair.access;
    r.token_expires_at = pair.access_expires;
    r.refresh_token = pair.refresh;
    reply(std::move(r));
  });
}

void AuthCore::bind(ConnId conn, const std::string& user_id,
                    ConnSession session) {
  untrack(conn);
  // A connection that left meanwhile is not tracked: its CLOSED event has
  // already been delivered and nothing would ever remove it.
  if (!host_.authenticate(conn, user_id)) return;
  family_conns_[session.family_id].insert(conn);
  sessions_[conn] = std::move(session);
}

void AuthCore::untrack(ConnId conn) {
  auto it = sessions_.find(conn);
  if (it == sessions_.end()) return;
  auto fam = family_conns_.find(it->second.family_id);
  if (fam != family_conns_.end()) {
    fam->second.erase(conn);
    if (fam->second.empty()) family_conns_.erase(fam);
  }
  sessions_.erase(it);
}

void AuthCore::close_family(const std::string& family_id,
                            const std::string& access_hash, ConnId except,
                            const std::string& message) {
  auto fam = family_conns_.find(family_id);
  if (fam == family_conns_.end()) return;
  std::vector<ConnId> victims;
  for (ConnId c : fam->second) {
    if (c == except) continue;
    auto s = sessions_.find(c);
    if (s == sessions_.end()) continue;
    if (access_hash.empty() || s->second.access_hash == access_hash)
      victims.push_back(c);
  }
  for (ConnId c : victims) {
    untrack(c);
    host_.close_conn(c, kUnauth, message);
  }
  if (!victims.empty())
    host_.audit("revocation closed " + std::to_string(victims.size()) +
                " connection(s) family=" + family_id);
}

void AuthCore::busy(const Reply& reply) {
  host_.count(Event::HashQueueFull);
  reply(error(kExhausted, kBusy));
}

std::string AuthCore::retry_message(uint64_t ms) const {
  uint64_t s = (ms + 999) / 1000;
  return "too many failed logins; retry after " + std::to_string(s) + " s";
}

void AuthCore::login_failed(const std::string& phone, const std::string& peer,
                            const std::string& why, const Reply& reply) {
  uint64_t now = host_.now_ms();
  phone_failures_.record_failure(phone, now);
  peer_failures_.record_failure(peer, now);
  host_.count(Event::LoginFailed);
  host_.audit("login failed phone=" + mask_phone(phone) + " peer=" + peer +
              " reason=" + why);
  reply(error(kUnauth, kBadCredentials));
}

// ------------------------------------------------------------ register ---

void AuthCore::register_user(const Caller& caller, std::string phone_raw,
                             std::string password, std::string display_name,
                             Reply reply) {
  auto phone = normalize_phone(phone_raw);
  if (!phone) return reply(error(kInvalid, kBadPhone));
  if (!password_ok(password)) return reply(error(kInvalid, kBadPassword));
  if (!display_name_ok(display_name)) return reply(error(kInvalid, kBadName));

  // Hash first, outside the per-phone section: the section then covers only
  // the index read and the write, so a burst for one number stays short.
  auto hashed = std::make_shared<std::optional<std::string>>();
  auto pw = std::make_shared<std::string>(std::move(password));
  Argon2Params params = settings_.argon2;
  bool admitted = hash_job(
      [hashed, pw, params] {
        *hashed = hash_password(*pw, params);
        wipe(*pw);
      },
      [this, caller, phone = *phone, display_name = std::move(display_name),
       hashed, reply](bool ran) {
        if (!ran) return reply(error(kUnavailable, "shutting down"));
        if (!*hashed) return reply(error(kInternal, "password hashing failed"));
        serial_.run("p" + phone, [this, caller, phone, display_name, hashed,
                                  reply](KeyedQueue::Done done) {
          kv_.get(phone_key(phone), [this, caller, phone, display_name, hashed,
                                     reply, done](int status, std::string) {
            if (status == 0) {
              done();
              return reply(error(kExists, "phone number already registered"));
            }
            if (status != PARLEY_ENOENT) {
              done();
              return reply(storage_error(status));
            }
            uint64_t now = host_.now_ms();
            UserRecord u{util::uuid7(now), phone, display_name, **hashed, now, now};
            std::string family = util::uuid7(now);
            std::vector<Kv::Op> ops;
            ops.push_back({user_key(u.user_id), encode(u)});
            ops.push_back({phone_key(phone), u.user_id});
            ops.push_back({family_key(family), encode(FamilyRecord{u.user_id, false, now, 0})});
            NewPair pair = new_pair(u.user_id, family, now);
            commit_session(caller, u, family, std::move(pair), std::move(ops),
                           Event::Registered,
                           "register user=" + u.user_id + " phone=" + mask_phone(phone),
                           [done](int) { done(); }, reply);
          });
        });
      });
  if (!admitted) busy(reply);
}

// --------------------------------------------------------------- login ---

void AuthCore::login(const Caller& caller, std::string phone_raw,
                     std::string password, Reply reply) {
  auto phone = normalize_phone(phone_raw);
  if (!phone) return reply(error(kInvalid, kBadPhone));
  if (!password_ok(password)) return reply(error(kInvalid, kBadPassword));
  std::string peer = peer_address(caller.peer);
  uint64_t now = host_.now_ms();
  uint64_t wait = std::max(phone_failures_.retry_after_ms(*phone, now),
                           peer_failures_.retry_after_ms(peer, now));
  if (wait > 0) {
    host_.count(Event::RateLimited);
    host_.audit("login rate-limited phone=" + mask_phone(*phone) + " peer=" + peer);
    return reply(error(kExhausted, retry_message(wait)));
  }
  auto pw = std::make_shared<std::string>(std::move(password));
  kv_.get(phone_key(*phone), [this, caller, phone = *phone, peer, pw,
                              reply](int status, std::string user_id) {
    if (status != 0 && status != PARLEY_ENOENT) return reply(storage_error(status));
    if (status == PARLEY_ENOENT) {
      // Unknown number: do the same work as for a known one — a second
      // storage read (of a user that cannot exist) and one argon2id hash with
      // the same parameters — so the answer's timing does not tell whether
      // the number is registered.
      kv_.get(user_key(kNoUser), [this, phone, peer, pw, reply](int, std::string) {
        Argon2Params params = settings_.argon2;
        bool ok = hash_job([pw, params] {
                             (void)hash_password(*pw, params);
                             wipe(*pw);
                           },
                           [this, phone, peer, reply](bool ran) {
                             if (!ran) return reply(error(kUnavailable, "shutting down"));
                             login_failed(phone, peer, "unknown", reply);
                           });
        if (!ok) busy(reply);
      });
      return;
    }
    load_user(user_id, [this, caller, phone, peer, pw, reply](
                           int st, std::optional<UserRecord> user) {
      if (st != 0) return reply(st == PARLEY_ECORRUPT ? error(kInternal, kCorrupt)
                                                      : storage_error(st));
      auto verified = std::make_shared<bool>(false);
      auto stored = std::make_shared<std::string>(user->password_hash);
      auto rehashed = std::make_shared<std::optional<std::string>>();
      Argon2Params params = settings_.argon2;
      bool ok = hash_job(
          [verified, stored, pw, rehashed, params] {
            *verified = verify_password(*stored, *pw);
            // The configured cost changed since this hash was made: the
            // password is at hand only now, so upgrade it here.
            if (*verified && needs_rehash(*stored, params))
              *rehashed = hash_password(*pw, params);
            wipe(*pw);
          },
          [this, caller, phone, peer, verified, rehashed, user = *user, reply](bool ran) {
            if (!ran) return reply(error(kUnavailable, "shutting down"));
            if (!*verified) return login_failed(phone, peer, "password", reply);
            phone_failures_.reset(phone);
            if (*rehashed) store_rehash(user.user_id, **rehashed);
            uint64_t now = host_.now_ms();
            std::string family = util::uuid7(now);
            std::vector<Kv::Op> ops;
            ops.push_back({family_key(family), encode(FamilyRecord{user.user_id, false, now, 0})});
            NewPair pair = new_pair(user.user_id, family, now);
            commit_session(caller, user, family, std::move(pair), std::move(ops),
                           Event::LoggedIn, "login user=" + user.user_id + " peer=" + peer, nullptr,
                           reply);
          });
      if (!ok) busy(reply);
    });
  });
}

void AuthCore::store_rehash(const std::string& user_id, std::string hash) {
  // Read-modify-write under the user's key, like update_profile, so a
  // concurrent profile change is not lost. Best effort: the login does not
  // wait for it, and the old hash keeps working if it fails.
  serial_.run("u" + user_id, [this, user_id, hash](KeyedQueue::Done done) {
    load_user(user_id, [this, hash, done](int st, std::optional<UserRecord> user) {
      if (st != 0) return done();
      user->password_hash = hash;
      std::string id = user->user_id;
      kv_.write({{user_key(id), encode(*user)}}, [this, id, done](int ws) {
        done();
        if (ws == 0) host_.audit("password hash upgraded user=" + id);
      });
    });
  });
}

// -------------------------------------------------------------- resume ---

void AuthCore::resume(const Caller& caller, std::string token, Reply reply) {
  if (!token_well_formed(token)) return reply(error(kUnauth, kBadToken));
  std::string hash = token_hash(token);
  kv_.get(token_key(hash), [this, caller, token, hash, reply](int status,
                                                              std::string v) {
    if (status == PARLEY_ENOENT) return reply(error(kUnauth, kBadToken));
    if (status != 0) return reply(storage_error(status));
    auto t = decode_token(v);
    if (!t) return reply(error(kInternal, kCorrupt));
    uint64_t now = host_.now_ms();
    if (t->kind != TokenKind::Access || t->state != TokenState::Active ||
        t->expires_at <= now)
      return reply(error(kUnauth, kBadToken));
    get_many({family_key(t->family_id), user_key(t->user_id)},
             [this, caller, token, hash, t = *t, reply](std::vector<Got> got) {
               if (got[0].status != 0 || got[1].status != 0) {
                 int st = got[0].status != 0 ? got[0].status : got[1].status;
                 return reply(st == PARLEY_ENOENT ? error(kUnauth, kBadToken)
                                                  : storage_error(st));
               }
               auto fam = decode_family(got[0].value);
               auto user = decode_user(got[1].value);
               if (!fam || !user) return reply(error(kInternal, kCorrupt));
               if (fam->revoked) return reply(error(kUnauth, kBadToken));
               // Re-check expiry: time passed during the reads.
               if (t.expires_at <= host_.now_ms()) return reply(error(kUnauth, kBadToken));
               bind(caller.conn, user->user_id,
                    ConnSession{user->user_id, hash, t.family_id, t.expires_at});
               Result r;
               r.user = view(*user);
               r.token = token;
               r.token_expires_at = t.expires_at;
               reply(std::move(r));
             });
  });
}

// ------------------------------------------------------------- refresh ---

void AuthCore::refresh(const Caller& caller, std::string refresh_token,
                       Reply reply) {
  if (!token_well_formed(refresh_token)) return reply(error(kUnauth, kBadToken));
  std::string hash = token_hash(refresh_token);
  // One exchange per refresh token at a time: a concurrent second use waits,
  // then finds the token rotated and is treated as reuse.
  serial_.run("t" + hash, [this, caller, hash, reply](KeyedQueue::Done done) {
    kv_.get(token_key(hash), [this, caller, hash, reply, done](int status,
                                                               std::string v) {
      if (status != 0) {
        done();
        return reply(status == PARLEY_ENOENT ? error(kUnauth, kBadToken)
                                             : storage_error(status));
      }
      auto t = decode_token(v);
      if (!t) {
        done();
        return reply(error(kInternal, kCorrupt));
      }
      uint64_t now = host_.now_ms();
      if (t->kind != TokenKind::Refresh) {
        done();
        return reply(error(kUnauth, kBadToken));
      }
      get_many(
          {family_key(t->family_id), user_key(t->user_id), token_key(t->pair_hash)},
          [this, caller, hash, t = *t, now, reply, done](std::vector<Got> got) {
            if (got[0].status != 0 || got[1].status != 0) {
              done();
              int st = got[0].status != 0 ? got[0].status : got[1].status;
              return reply(st == PARLEY_ENOENT ? error(kUnauth, kBadToken)
                                               : storage_error(st));
            }
            auto fam = decode_family(got[0].value);
            auto user = decode_user(got[1].value);
            if (!fam || !user) {
              done();
              return reply(error(kInternal, kCorrupt));
            }
            if (fam->revoked) {
              done();
              return reply(error(kUnauth, kBadToken));
            }
            if (t.state == TokenState::Rotated) {
              // Reuse of an exchanged refresh token: someone holds a copy.
              // OAuth 2.0 Security BCP: revoke the whole family.
              FamilyRecord revoked = *fam;
              revoked.revoked = true;
              revoked.revoked_at = now;
              kv_.write({{family_key(t.family_id), encode(revoked)}},
                        [this, family = t.family_id, user_id = t.user_id, done,
                         reply](int st) {
                          done();
                          if (st != 0) return reply(storage_error(st));
                          host_.count(Event::RefreshReuse);
                          host_.audit("refresh token reuse: family revoked user=" +
                                      user_id + " family=" + family);
                          close_family(family, "", 0, kRevokedClose);
                          reply(error(kUnauth, kBadToken));
                        });
              return;
            }
            if (t.state != TokenState::Active || t.expires_at <= now) {
              done();
              return reply(error(kUnauth, kBadToken));
            }
            // Rotate: the old refresh token becomes Rotated (kept to detect
            // reuse until it expires), the old access token Revoked.
            std::vector<Kv::Op> ops;
            TokenRecord old_refresh = t;
            old_refresh.state = TokenState::Rotated;
            ops.push_back({token_key(hash), encode(old_refresh)});
            if (got[2].status == 0) {
              if (auto a = decode_token(got[2].value)) {
                a->state = TokenState::Revoked;
                ops.push_back({token_key(t.pair_hash), encode(*a)});
              }
            }
            NewPair pair = new_pair(user->user_id, t.family_id, now);
            std::string old_access = t.pair_hash;
            std::string family = t.family_id;
            ConnId conn = caller.conn;
            commit_session(
                caller, *user, family, std::move(pair), std::move(ops),
                Event::Refreshed, "refresh user=" + user->user_id + " family=" + family,
                [this, done, family, old_access, conn](int st) {
                  // Other connections still using the replaced access
                  // token lose their session with it.
                  if (st == 0) close_family(family, old_access, conn, kRevokedClose);
                  done();
                },
                reply);
          });
    });
  });
}

// -------------------------------------------------------------- logout ---

void AuthCore::logout(const Caller& caller, Reply reply) {
  auto it = sessions_.find(caller.conn);
  if (it == sessions_.end()) {
    // Authenticated without a token we track (cannot happen through this
    // plugin's methods); clearing the session is all there is to do.
    host_.deauthenticate(caller.conn);
    return reply(Result{});
  }
  ConnSession s = it->second;
  get_many({family_key(s.family_id), token_key(s.access_hash)},
           [this, caller, s, reply](std::vector<Got> got) {
             uint64_t now = host_.now_ms();
             std::vector<Kv::Op> ops;
             // Revoking the family revokes this pair (and anything older in
             // the chain); the token records say so too, for inspection.
             FamilyRecord fam{s.user_id, true, now, now};
             if (got[0].status == 0)
               if (auto f = decode_family(got[0].value)) {
                 fam = *f;
                 fam.revoked = true;
                 fam.revoked_at = now;
               }
             ops.push_back({family_key(s.family_id), encode(fam)});
             if (got[1].status == 0)
               if (auto a = decode_token(got[1].value)) {
                 a->state = TokenState::Revoked;
                 ops.push_back({token_key(s.access_hash), encode(*a)});
               }
             kv_.write(std::move(ops), [this, caller, s, reply](int st) {
               if (st != 0) return reply(storage_error(st));
               host_.count(Event::LoggedOut);
               host_.audit("logout user=" + s.user_id + " conn=" +
                           std::to_string(caller.conn) +
                           " token=" + token_tag(s.access_hash));
               close_family(s.family_id, "", caller.conn, kRevokedClose);
               untrack(caller.conn);
               host_.deauthenticate(caller.conn);
               reply(Result{});
             });
           });
}

// ------------------------------------------------- profile and lookups ---

void AuthCore::whoami(const Caller& caller, Reply reply) {
  find_user_by_id(caller.user_id, [reply](Result r) {
    // The caller's own account vanished: its session is meaningless.
    if (r.status == kNotFound) r = error(kUnauth, "account no longer exists");
    reply(std::move(r));
  });
}

void AuthCore::update_profile(const Caller& caller, std::string display_name,
                              Reply reply) {
  if (!display_name_ok(display_name)) return reply(error(kInvalid, kBadName));
  std::string user_id = caller.user_id;
  serial_.run("u" + user_id, [this, user_id, display_name,
                              reply](KeyedQueue::Done done) {
    load_user(user_id, [this, display_name, reply, done](
                           int st, std::optional<UserRecord> user) {
      if (st != 0) {
        done();
        if (st == PARLEY_ENOENT) return reply(error(kUnauth, "account no longer exists"));
        return reply(st == PARLEY_ECORRUPT ? error(kInternal, kCorrupt)
                                           : storage_error(st));
      }
      user->display_name = display_name;
      user->updated_at = host_.now_ms();
      UserRecord u = *user;
      kv_.write({{user_key(u.user_id), encode(u)}}, [this, u, reply, done](int ws) {
        done();
        if (ws != 0) return reply(storage_error(ws));
        host_.audit("update_profile user=" + u.user_id);
        reply(user_result(u));
      });
    });
  });
}

void AuthCore::find_user_by_id(const std::string& user_id, Reply reply) {
  if (!util::is_canonical_uuid(user_id))
    return reply(error(kNotFound, "no such user"));
  load_user(user_id, [reply](int st, std::optional<UserRecord> user) {
    if (st == PARLEY_ENOENT) return reply(error(kNotFound, "no such user"));
    if (st != 0)
      return reply(st == PARLEY_ECORRUPT ? error(kInternal, kCorrupt) : storage_error(st));
    reply(user_result(*user));
  });
}

void AuthCore::find_user_by_phone(const std::string& phone_raw, Reply reply) {
  auto phone = normalize_phone(phone_raw);
  if (!phone) return reply(error(kInvalid, kBadPhone));
  kv_.get(phone_key(*phone), [this, reply](int st, std::string user_id) {
    if (st == PARLEY_ENOENT)
      return reply(error(kNotFound, "no user with that phone number"));
    if (st != 0) return reply(storage_error(st));
    find_user_by_id(user_id, reply);
  });
}

// ------------------------------------------------------- housekeeping ---

void AuthCore::conn_closed(ConnId conn) { untrack(conn); }

void AuthCore::tick() {
  uint64_t now = host_.now_ms();
  std::vector<ConnId> expired;
  for (const auto& [conn, s] : sessions_)
    if (s.expires_at <= now) expired.push_back(conn);
  for (ConnId c : expired) {
    untrack(c);
    host_.close_conn(c, kUnauth, "token expired");
  }
  phone_failures_.prune(now);
  peer_failures_.prune(now);
}

}  // namespace parley::auth
