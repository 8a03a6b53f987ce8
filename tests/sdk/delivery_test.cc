// The host's delivery index and recipient-list cache (kernel/host/delivery.h)
// against a fake Core that records what was queued where.
#include "delivery.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace parley::kernel::host {
namespace {

class FakeCore final : public Core {
 public:
  uv_loop_t* loop() override { return nullptr; }
  const Limits& limits() const override { return limits_; }
  const std::string& data_dir() const override { return dir_; }
  bool shutting_down() const override { return false; }
  const ConnInfo* find(ConnId) const override { return nullptr; }
  bool respond(ConnId, uint64_t, std::string_view, uint16_t, std::string_view,
               std::span<const uint8_t>) override {
    return false;
  }
  bool queue(ConnId conn, const FramePtr&) override {
    if (!live.count(conn)) return false;
    queued[conn]++;
    if (conn == close_on_queue && on_close) on_close(conn);
    return true;
  }
  size_t queue_to_user(std::string_view, const FramePtr&, ConnId) override { return 0; }
  int set_user(ConnId conn, std::string_view user) override {
    if (!live.count(conn)) return PARLEY_ECLOSED;
    if (info_user) info_user->assign(user);  // as Server rewrites ConnInfo::user_id
    return PARLEY_OK;
  }
  int close(ConnId, uint16_t, std::string_view) override { return 0; }
  ConnId open_virtual(const parley_virtual_ops&, void*, std::string_view,
                      std::string_view) override {
    return 0;
  }
  int feed(ConnId, std::span<const uint8_t>) override { return 0; }
  int virtual_gone(ConnId) override { return 0; }
  void set_dispatcher(Dispatcher*) override {}

  std::set<ConnId> live;
  std::map<ConnId, int> queued;
  ConnId close_on_queue = 0;
  std::function<void(ConnId)> on_close;
  std::string* info_user = nullptr;

 private:
  Limits limits_;
  std::string dir_;
};

FramePtr frame() { return std::make_shared<Frame>(); }

// A member list as the rooms plugin keeps it: strings plus their c_str()s.
struct Members {
  explicit Members(std::vector<std::string> u) : users(std::move(u)) { rebuild(); }
  void rebuild() {
    ids.clear();
    for (const auto& u : users) ids.push_back(u.c_str());
  }
  std::vector<std::string> users;
  std::vector<const char*> ids;
};

Members many(int n) {
  std::vector<std::string> u;
  for (int i = 0; i < n; i++) u.push_back("user-" + std::to_string(i));
  return Members(u);
}

TEST(Delivery, QueuesToEveryConnectionOfEveryListedUserExceptTheSender) {
  FakeCore core;
  Delivery d(core);
  for (ConnId c = 1; c <= 12; c++) core.live.insert(c);
  Members m = many(10);
  for (ConnId c = 1; c <= 10; c++) ASSERT_EQ(d.bind(c, "", m.users[c - 1]), PARLEY_OK);
  ASSERT_EQ(d.bind(11, "", "user-0"), PARLEY_OK);  // a second device of user-0
  ASSERT_EQ(d.bind(12, "", "stranger"), PARLEY_OK);
  EXPECT_EQ(d.to_users(m.ids.data(), m.ids.size(), frame(), /*except=*/1), 10);
  EXPECT_EQ(core.queued.count(1), 0u);
  EXPECT_EQ(core.queued[11], 1);
  EXPECT_EQ(core.queued.count(12), 0u);
}

TEST(Delivery, ReusesTheResolutionUntilABindingChanges) {
  FakeCore core;
  Delivery d(core);
  Members m = many(10);
  for (ConnId c = 1; c <= 20; c++) core.live.insert(c);
  for (ConnId c = 1; c <= 10; c++) ASSERT_EQ(d.bind(c, "", m.users[c - 1]), PARLEY_OK);
  EXPECT_EQ(d.to_users(m.ids.data(), m.ids.size(), frame(), 0), 10);
  EXPECT_EQ(d.to_users(m.ids.data(), m.ids.size(), frame(), 0), 10);
  EXPECT_EQ(d.cache_hits(), 1u);
  // A new device of a member: seen by the next send.
  ASSERT_EQ(d.bind(15, "", "user-3"), PARLEY_OK);
  EXPECT_EQ(d.to_users(m.ids.data(), m.ids.size(), frame(), 0), 11);
  // A connection goes away and its user is signed out of another.
  d.drop(15, "user-3");
  ASSERT_EQ(d.bind(4, "user-3", ""), PARLEY_OK);
  EXPECT_EQ(d.to_users(m.ids.data(), m.ids.size(), frame(), 0), 9);
  EXPECT_EQ(core.queued[4], 3);
  EXPECT_EQ(core.queued[15], 1);
}

TEST(Delivery, NoticesAListRebuiltAtTheSameAddress) {
  FakeCore core;
  Delivery d(core);
  Members m = many(10);
  for (ConnId c = 1; c <= 11; c++) core.live.insert(c);
  for (ConnId c = 1; c <= 10; c++) ASSERT_EQ(d.bind(c, "", m.users[c - 1]), PARLEY_OK);
  ASSERT_EQ(d.bind(11, "", "newcomer"), PARLEY_OK);
  EXPECT_EQ(d.to_users(m.ids.data(), m.ids.size(), frame(), 0), 10);
  // Same array, same pointers, different text (a string rewritten in place).
  const char* const* before = m.ids.data();
  const char* last = m.ids[9];
  m.users[9].assign("newcomer");
  m.rebuild();
  ASSERT_EQ(before, m.ids.data());
  ASSERT_EQ(last, m.ids[9]);
  EXPECT_EQ(d.to_users(m.ids.data(), m.ids.size(), frame(), 0), 10);
  EXPECT_EQ(core.queued[11], 1);
  EXPECT_EQ(core.queued[10], 1);
}

TEST(Delivery, RebindingMovesTheConnectionToTheNewUser) {
  FakeCore core;
  Delivery d(core);
  core.live = {1};
  std::string info_user;  // stands for ConnInfo::user_id, which set_user rewrites
  core.info_user = &info_user;
  ASSERT_EQ(d.bind(1, info_user, "alice"), PARLEY_OK);
  ASSERT_EQ(info_user, "alice");
  const char* alice[] = {"alice"};
  const char* bob[] = {"bob"};
  EXPECT_EQ(d.to_users(alice, 1, frame(), 0), 1);
  ASSERT_EQ(d.bind(1, info_user, "bob"), PARLEY_OK);
  EXPECT_EQ(d.to_users(alice, 1, frame(), 0), 0);
  EXPECT_EQ(d.to_users(bob, 1, frame(), 0), 1);
}

TEST(Delivery, RefusedBindLeavesTheIndexAlone) {
  FakeCore core;
  Delivery d(core);
  Members m = many(8);
  EXPECT_EQ(d.bind(1, "", "user-0"), PARLEY_ECLOSED);
  EXPECT_EQ(d.to_users(m.ids.data(), m.ids.size(), frame(), 0), 0);
}

TEST(Delivery, ShortListsAndNullEntries) {
  FakeCore core;
  Delivery d(core);
  core.live = {1, 2};
  ASSERT_EQ(d.bind(1, "", "a"), PARLEY_OK);
  ASSERT_EQ(d.bind(2, "", "b"), PARLEY_OK);
  const char* ids[] = {"a", nullptr, "", "b", "a"};  // listed twice: queued twice
  EXPECT_EQ(d.to_users(ids, 5, frame(), 0), 3);
  EXPECT_EQ(core.queued[1], 2);
}

TEST(Delivery, AConnectionClosedWhileQueuingDoesNotDisturbTheRest) {
  FakeCore core;
  Delivery d(core);
  Members m = many(10);
  for (ConnId c = 1; c <= 10; c++) core.live.insert(c);
  for (ConnId c = 1; c <= 10; c++) ASSERT_EQ(d.bind(c, "", m.users[c - 1]), PARLEY_OK);
  // A slow consumer is closed from inside queue(): the host drops it and
  // the same list is sent again re-entrantly.
  core.close_on_queue = 3;
  core.on_close = [&](ConnId c) {
    core.live.erase(c);
    d.drop(c, m.users[c - 1]);
    core.close_on_queue = 0;
    EXPECT_EQ(d.to_users(m.ids.data(), m.ids.size(), frame(), 0), 9);
  };
  EXPECT_EQ(d.to_users(m.ids.data(), m.ids.size(), frame(), 0), 10);
  EXPECT_EQ(core.queued[3], 1);
  EXPECT_EQ(core.queued[4], 2);
}

}  // namespace
}  // namespace parley::kernel::host
