// The auth flows against in-memory storage and host (fakes.h): rules,
// statuses, token rotation and reuse detection, revocation closing
// connections, expiry, rate limits, the hashing gate.
#include "auth_core.h"

#include <gtest/gtest.h>

#include <optional>

#include "fakes.h"
#include "parley/errors.h"

namespace parley::auth {
namespace {

using testing::FakeHost;
using testing::FakeKv;
using testing::Loop;

constexpr uint16_t kOk = PARLEY_STATUS_OK;

class AuthCoreTest : public ::testing::Test {
 protected:
  AuthCoreTest() { make_core(Settings{}); }

  void make_core(Settings s) {
    s.argon2 = Argon2Params{1024, 1};  // behaviour, not cost, is under test
    core_.reset();
    core_ = std::make_unique<AuthCore>(s, kv_, host_);
  }

  // Calls fn(reply) and runs the loop until the reply arrived.
  template <typename Fn>
  Result call(Fn fn) {
    std::optional<Result> got;
    fn([&got](Result r) { got = std::move(r); });
    loop_.drain();
    EXPECT_TRUE(got) << "no reply";
    return got ? *got : Result{};
  }

  Caller conn(ConnId id, std::string peer = "198.51.100.7:5000") {
    Caller c;
    c.conn = id;
    c.peer = peer;
    auto it = host_.users.find(id);
    if (it != host_.users.end()) c.user_id = it->second;
    return c;
  }

  Result reg(ConnId id, std::string phone, std::string pw = "password1",
             std::string name = "Ann") {
    return call([&](Reply r) { core_->register_user(conn(id), phone, pw, name, r); });
  }
  Result login(ConnId id, std::string phone, std::string pw,
               std::string peer = "198.51.100.7:5000") {
    return call([&](Reply r) { core_->login(conn(id, peer), phone, pw, r); });
  }
  Result resume(ConnId id, std::string token) {
    return call([&](Reply r) { core_->resume(conn(id), token, r); });
  }
  Result refresh(ConnId id, std::string token) {
    return call([&](Reply r) { core_->refresh(conn(id), token, r); });
  }
  Result logout(ConnId id) {
    return call([&](Reply r) { core_->logout(conn(id), r); });
  }
  bool closed_unauth(ConnId id) {
    for (auto& c : host_.closes)
      if (c.conn == id && c.status == PARLEY_STATUS_UNAUTHENTICATED) return true;
    return false;
  }

  Loop loop_;
  FakeKv kv_{loop_};
  FakeHost host_{loop_};
  std::unique_ptr<AuthCore> core_;
};

TEST_F(AuthCoreTest, RegisterNormalisesPhoneAndAuthenticates) {
  Result r = reg(1, "+1 (555) 010-2030");
  ASSERT_EQ(r.status, kOk) << r.error;
  ASSERT_TRUE(r.user);
  EXPECT_EQ(r.user->phone, "+15550102030");
  EXPECT_EQ(r.user->display_name, "Ann");
  EXPECT_EQ(r.user->user_id.size(), 36u);
  EXPECT_EQ(r.user->user_id[14], '7');  // UUIDv7
  EXPECT_EQ(r.token.size(), 43u);
  EXPECT_EQ(r.refresh_token.size(), 43u);
  EXPECT_EQ(r.token_expires_at, host_.now + 24ull * 3600 * 1000);
  EXPECT_EQ(host_.users[1], r.user->user_id);
  // Only hashes of tokens and passwords are stored.
  for (auto& [k, v] : kv_.data) {
    EXPECT_EQ(k.find(r.token), std::string::npos);
    EXPECT_EQ(v.find(r.token), std::string::npos);
    EXPECT_EQ(v.find("password1"), std::string::npos);
  }
  bool audited = false;
  for (auto& a : host_.audits) {
    if (a.rfind("register", 0) == 0) audited = true;
    EXPECT_EQ(a.find(r.token), std::string::npos);
    EXPECT_EQ(a.find("+15550102030"), std::string::npos);
  }
  EXPECT_TRUE(audited);
}

TEST_F(AuthCoreTest, RegisterRejectsBadInput) {
  for (const char* bad : {"12345", "+0123456789", "+1234567890123456", "+1555abc0102"})
    EXPECT_EQ(reg(1, bad).status, PARLEY_STATUS_INVALID_ARGUMENT) << bad;
  EXPECT_EQ(reg(1, "+15550102030", "short").status, PARLEY_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(reg(1, "+15550102030", std::string(129, 'p')).status,
            PARLEY_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(reg(1, "+15550102030", "password1", "").status,
            PARLEY_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(reg(1, "+15550102030", "password1", std::string(65, 'n')).status,
            PARLEY_STATUS_INVALID_ARGUMENT);
  EXPECT_TRUE(kv_.data.empty());
}

TEST_F(AuthCoreTest, TakenNumberIsAlreadyExists) {
  ASSERT_EQ(reg(1, "+15550102030").status, kOk);
  EXPECT_EQ(reg(2, "+1 555 010 2030").status, PARLEY_STATUS_ALREADY_EXISTS);
}

TEST_F(AuthCoreTest, ConcurrentRegistersOfOneNumberOnlyOneWins) {
  std::vector<Result> results;
  for (ConnId c = 1; c <= 5; ++c)
    core_->register_user(conn(c), "+15550102030", "password1", "Ann",
                         [&](Result r) { results.push_back(r); });
  loop_.drain();
  ASSERT_EQ(results.size(), 5u);
  int ok = 0, exists = 0;
  for (auto& r : results) {
    if (r.status == kOk) ++ok;
    if (r.status == PARLEY_STATUS_ALREADY_EXISTS) ++exists;
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(exists, 4);
  int users = 0;
  for (auto& [k, v] : kv_.data) users += k[0] == 'u';
  EXPECT_EQ(users, 1);
}

TEST_F(AuthCoreTest, LoginSucceedsAndFailuresLookAlike) {
  ASSERT_EQ(reg(1, "+15550102030").status, kOk);
  Result ok = login(2, "+1-555-010-2030", "password1");
  ASSERT_EQ(ok.status, kOk) << ok.error;
  EXPECT_EQ(host_.users[2], ok.user->user_id);
  int hashes_before = host_.work_started;
  Result wrong = login(3, "+15550102030", "password2");
  Result unknown = login(4, "+15550109999", "password1");
  EXPECT_EQ(wrong.status, PARLEY_STATUS_UNAUTHENTICATED);
  EXPECT_EQ(unknown.status, PARLEY_STATUS_UNAUTHENTICATED);
  EXPECT_EQ(wrong.error, unknown.error);
  // Both spent one hash off the loop: the same work, so similar time.
  EXPECT_EQ(host_.work_started - hashes_before, 2);
  EXPECT_EQ(host_.users.count(3), 0u);
  EXPECT_EQ(host_.users.count(4), 0u);
}

TEST_F(AuthCoreTest, ResumeOnAnotherConnectionKeepsTheToken) {
  Result s = reg(1, "+15550102030");
  Result r = resume(2, s.token);
  ASSERT_EQ(r.status, kOk) << r.error;
  EXPECT_EQ(r.token, s.token);
  EXPECT_EQ(r.token_expires_at, s.token_expires_at);
  EXPECT_EQ(host_.users[2], s.user->user_id);
  EXPECT_EQ(resume(3, s.refresh_token).status, PARLEY_STATUS_UNAUTHENTICATED);
  EXPECT_EQ(resume(3, "garbage").status, PARLEY_STATUS_UNAUTHENTICATED);
  EXPECT_EQ(resume(3, std::string(43, 'A')).status, PARLEY_STATUS_UNAUTHENTICATED);
}

TEST_F(AuthCoreTest, ExpiredTokensAreRefused) {
  Settings s;
  s.token_ttl_ms = 1000;
  s.refresh_ttl_ms = 5000;
  make_core(s);
  Result r = reg(1, "+15550102030");
  host_.now += 1000;
  EXPECT_EQ(resume(2, r.token).status, PARLEY_STATUS_UNAUTHENTICATED);
  // The connection authenticated with it is closed by the housekeeping tick.
  core_->tick();
  EXPECT_TRUE(closed_unauth(1));
  Result n = refresh(3, r.refresh_token);  // refresh still valid
  ASSERT_EQ(n.status, kOk) << n.error;
  host_.now += 5000;
  EXPECT_EQ(refresh(4, n.refresh_token).status, PARLEY_STATUS_UNAUTHENTICATED);
}

TEST_F(AuthCoreTest, RefreshRotatesAndClosesUsersOfTheOldToken) {
  Result s = reg(1, "+15550102030");
  ASSERT_EQ(resume(2, s.token).status, kOk);
  Result n = refresh(1, s.refresh_token);
  ASSERT_EQ(n.status, kOk) << n.error;
  EXPECT_NE(n.token, s.token);
  EXPECT_NE(n.refresh_token, s.refresh_token);
  EXPECT_TRUE(closed_unauth(2));   // still on the revoked access token
  EXPECT_FALSE(closed_unauth(1));  // moved to the new one
  EXPECT_EQ(resume(3, s.token).status, PARLEY_STATUS_UNAUTHENTICATED);
  EXPECT_EQ(resume(3, n.token).status, kOk);
}

TEST_F(AuthCoreTest, RefreshTokenReuseRevokesTheWholeChain) {
  Result s = reg(1, "+15550102030");
  Result n = refresh(1, s.refresh_token);
  ASSERT_EQ(n.status, kOk);
  ASSERT_EQ(resume(2, n.token).status, kOk);
  // An attacker replays the first refresh token.
  EXPECT_EQ(refresh(9, s.refresh_token).status, PARLEY_STATUS_UNAUTHENTICATED);
  EXPECT_TRUE(closed_unauth(1));
  EXPECT_TRUE(closed_unauth(2));
  EXPECT_EQ(resume(3, n.token).status, PARLEY_STATUS_UNAUTHENTICATED);
  EXPECT_EQ(refresh(3, n.refresh_token).status, PARLEY_STATUS_UNAUTHENTICATED);
  bool audited = false;
  for (auto& a : host_.audits) audited |= a.find("reuse") != std::string::npos;
  EXPECT_TRUE(audited);
  EXPECT_EQ(host_.counts[Event::RefreshReuse], 1);
  EXPECT_EQ(host_.counts[Event::Refreshed], 1);
  // Another login of the same user is unaffected.
  Result other = login(5, "+15550102030", "password1");
  ASSERT_EQ(other.status, kOk);
  EXPECT_EQ(resume(6, other.token).status, kOk);
}

TEST_F(AuthCoreTest, ConcurrentRefreshesOfOneTokenCountAsReuse) {
  Result s = reg(1, "+15550102030");
  std::vector<Result> results;
  core_->refresh(conn(1), s.refresh_token, [&](Result r) { results.push_back(r); });
  core_->refresh(conn(2), s.refresh_token, [&](Result r) { results.push_back(r); });
  loop_.drain();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status, kOk);
  EXPECT_EQ(results[1].status, PARLEY_STATUS_UNAUTHENTICATED);
  EXPECT_EQ(resume(3, results[0].token).status, PARLEY_STATUS_UNAUTHENTICATED);
}

TEST_F(AuthCoreTest, LogoutRevokesPairAndClosesOtherConnections) {
  Result s = reg(1, "+15550102030");
  ASSERT_EQ(resume(2, s.token).status, kOk);
  ASSERT_EQ(resume(3, s.token).status, kOk);
  Result other = login(4, "+15550102030", "password1");  // another device
  ASSERT_EQ(logout(1).status, kOk);
  EXPECT_EQ(host_.users.count(1), 0u);  // deauthenticated, not closed
  EXPECT_FALSE(closed_unauth(1));
  EXPECT_TRUE(closed_unauth(2));
  EXPECT_TRUE(closed_unauth(3));
  EXPECT_FALSE(closed_unauth(4));
  EXPECT_EQ(resume(5, s.token).status, PARLEY_STATUS_UNAUTHENTICATED);
  EXPECT_EQ(refresh(5, s.refresh_token).status, PARLEY_STATUS_UNAUTHENTICATED);
  EXPECT_EQ(resume(5, other.token).status, kOk);
}

TEST_F(AuthCoreTest, ClosedConnectionsAreForgotten) {
  Result s = reg(1, "+15550102030");
  ASSERT_EQ(resume(2, s.token).status, kOk);
  EXPECT_EQ(core_->tracked_connections(), 2u);
  core_->conn_closed(2);
  core_->conn_closed(1);
  EXPECT_EQ(core_->tracked_connections(), 0u);
}

TEST_F(AuthCoreTest, ConnectionGoneBeforeReplyIsNotTracked) {
  host_.closed.insert(7);  // the kernel says it is gone
  EXPECT_EQ(reg(7, "+15550102030").status, kOk);
  EXPECT_EQ(core_->tracked_connections(), 0u);
}

TEST_F(AuthCoreTest, FailedLoginsAreRateLimitedPerPhone) {
  Settings s;
  s.login_fail_per_phone = 3;
  s.login_fail_window_ms = 60'000;
  make_core(s);
  ASSERT_EQ(reg(1, "+15550102030").status, kOk);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(login(2, "+15550102030", "wrongpass").status,
              PARLEY_STATUS_UNAUTHENTICATED);
  Result limited = login(2, "+15550102030", "password1");  // even the right one
  EXPECT_EQ(limited.status, PARLEY_STATUS_RESOURCE_EXHAUSTED);
  EXPECT_EQ(limited.error, "too many failed logins; retry after 60 s");
  host_.now += 30'000;
  EXPECT_EQ(login(2, "+15550102030", "password1").error,
            "too many failed logins; retry after 30 s");
  EXPECT_EQ(login(2, "+15550109999", "password1").status,
            PARLEY_STATUS_UNAUTHENTICATED);  // other numbers are not blocked
  host_.now += 30'000;
  EXPECT_EQ(login(2, "+15550102030", "password1").status, kOk);
  EXPECT_EQ(host_.counts[Event::LoginFailed], 4);
  EXPECT_EQ(host_.counts[Event::RateLimited], 2);
  EXPECT_EQ(host_.counts[Event::LoggedIn], 1);
  EXPECT_EQ(host_.counts[Event::Registered], 1);
}

TEST_F(AuthCoreTest, FailedLoginsAreRateLimitedPerPeerAddress) {
  Settings s;
  s.login_fail_per_peer = 4;
  make_core(s);
  for (int i = 0; i < 4; ++i)
    login(2, "+1555010200" + std::to_string(i), "password1", "203.0.113.9:" + std::to_string(4000 + i));
  EXPECT_EQ(login(2, "+15550102099", "password1", "203.0.113.9:5000").status,
            PARLEY_STATUS_RESOURCE_EXHAUSTED);
  EXPECT_EQ(login(2, "+15550102099", "password1", "203.0.113.10:5000").status,
            PARLEY_STATUS_UNAUTHENTICATED);
}

TEST_F(AuthCoreTest, HashingIsCappedAndQueueBounded) {
  Settings s;
  s.max_concurrent_hashes = 2;
  s.max_queued_hashes = 3;
  make_core(s);
  std::vector<Result> results;
  for (int i = 0; i < 6; ++i)
    core_->register_user(conn(10 + i), "+1555010210" + std::to_string(i),
                         "password1", "N", [&](Result r) { results.push_back(r); });
  // 2 running + 3 queued; the sixth is refused at once.
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, PARLEY_STATUS_RESOURCE_EXHAUSTED);
  loop_.drain();
  EXPECT_EQ(results.size(), 6u);
  EXPECT_EQ(host_.max_running, 2);
  EXPECT_EQ(host_.counts[Event::HashQueueFull], 1);
}

TEST_F(AuthCoreTest, WhoamiFindUserAndUpdateProfile) {
  Result s = reg(1, "+15550102030");
  Result me = call([&](Reply r) { core_->whoami(conn(1), r); });
  ASSERT_EQ(me.status, kOk);
  EXPECT_EQ(me.user->user_id, s.user->user_id);
  Result f = call([&](Reply r) { core_->find_user_by_phone("+1 555 010 2030", r); });
  ASSERT_EQ(f.status, kOk);
  EXPECT_EQ(f.user->user_id, s.user->user_id);
  EXPECT_EQ(call([&](Reply r) { core_->find_user_by_phone("+15550109999", r); }).status,
            PARLEY_STATUS_NOT_FOUND);
  EXPECT_EQ(call([&](Reply r) { core_->find_user_by_phone("nope", r); }).status,
            PARLEY_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(call([&](Reply r) { core_->find_user_by_id(s.user->user_id, r); }).user->phone,
            "+15550102030");
  EXPECT_EQ(call([&](Reply r) { core_->find_user_by_id("x", r); }).status,
            PARLEY_STATUS_NOT_FOUND);
  Result u = call([&](Reply r) { core_->update_profile(conn(1), "Ann B \xF0\x9F\x98\x80", r); });
  ASSERT_EQ(u.status, kOk);
  EXPECT_EQ(u.user->display_name, "Ann B \xF0\x9F\x98\x80");
  EXPECT_EQ(call([&](Reply r) { core_->update_profile(conn(1), "", r); }).status,
            PARLEY_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(call([&](Reply r) { core_->whoami(conn(1), r); }).user->display_name,
            "Ann B \xF0\x9F\x98\x80");
}

TEST_F(AuthCoreTest, LoginUpgradesAHashMadeWithOtherParameters) {
  ASSERT_EQ(reg(1, "+15550102030").status, kOk);  // m=1024, t=1
  auto stored_hash = [&] {
    for (auto& [k, v] : kv_.data)
      if (k[0] == 'u') return decode_user(v)->password_hash;
    return std::string();
  };
  EXPECT_EQ(stored_hash().rfind("$argon2id$v=19$m=1024,t=1,p=1$", 0), 0u);
  Settings s;
  s.argon2 = Argon2Params{2048, 1};
  core_ = std::make_unique<AuthCore>(s, kv_, host_);  // config changed
  ASSERT_EQ(login(2, "+15550102030", "password1").status, kOk);
  EXPECT_EQ(stored_hash().rfind("$argon2id$v=19$m=2048,t=1,p=1$", 0), 0u);
  EXPECT_EQ(login(3, "+15550102030", "password1").status, kOk);
}

TEST_F(AuthCoreTest, StorageFailureIsUnavailable) {
  ASSERT_EQ(reg(1, "+15550102030").status, kOk);
  kv_.fail_next = true;
  EXPECT_EQ(login(2, "+15550102030", "password1").status, PARLEY_STATUS_UNAVAILABLE);
}

TEST(MaskPhone, KeepsOnlyEnds) {
  EXPECT_EQ(mask_phone("+15550102030"), "+155*****030");
}

}  // namespace
}  // namespace parley::auth
