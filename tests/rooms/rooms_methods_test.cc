// Each rooms.* method and its errors, through a real parleyd (persistence +
// auth + rooms) over TLS. One server for the whole suite keeps it quick;
// every test makes its own users and rooms.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "rooms_test_client.h"

namespace parley::test::rooms {
namespace {

constexpr uint16_t kOk = 0, kInvalid = 1, kDenied = 3, kNotFound = 4, kExhausted = 6,
                   kPrecondition = 7;

class RoomsMethods : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = start_server("max_members: 4\nmax_text_bytes: 1024").release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr); }

  // A group owned by a with the other users as members.
  std::string make_group(Device& a, const std::vector<std::string>& others,
                         const std::string& name = "team") {
    Incoming r = a.client->call("rooms.create", create(name, others));
    EXPECT_TRUE(r.ok()) << r.error;
    auto* room = as_room(r);
    return room && room->room_id() ? room->room_id()->str() : "";
  }

  static ServerProcess* server_;
};
ServerProcess* RoomsMethods::server_ = nullptr;

TEST_F(RoomsMethods, OpenDirectIsOneRoomPerPair) {
  Device a = new_user(*server_, "a"), b = new_user(*server_, "b");
  Incoming r1 = a.client->call("rooms.open_direct", open_direct(b.user.id));
  ASSERT_TRUE(r1.ok()) << r1.error;
  auto* room = as_room(r1);
  ASSERT_NE(room, nullptr);
  EXPECT_EQ(room->kind(), rfb::RoomKind::Direct);
  auto ids = member_ids(*room);
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> want{a.user.id, b.user.id};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(ids, want);
  std::string room_id = room->room_id()->str();

  // Again from a, and from the other side: the same room.
  Incoming r2 = a.client->call("rooms.open_direct", open_direct(b.user.id));
  Incoming r3 = b.client->call("rooms.open_direct", open_direct(a.user.id));
  ASSERT_TRUE(r2.ok() && r3.ok());
  EXPECT_EQ(as_room(r2)->room_id()->str(), room_id);
  EXPECT_EQ(as_room(r3)->room_id()->str(), room_id);
}

TEST_F(RoomsMethods, OpenDirectConcurrentRequestsShareOneRoom) {
  Device a = new_user(*server_, "a"), b = new_user(*server_, "b");
  uint64_t id1 = a.client->send("rooms.open_direct", open_direct(b.user.id));
  uint64_t id2 = a.client->send("rooms.open_direct", open_direct(b.user.id));
  uint64_t id3 = b.client->send("rooms.open_direct", open_direct(a.user.id));
  auto r1 = a.client->read_response(id1), r2 = a.client->read_response(id2);
  auto r3 = b.client->read_response(id3);
  ASSERT_TRUE(r1 && r2 && r3);
  ASSERT_TRUE(r1->ok() && r2->ok() && r3->ok());
  EXPECT_EQ(as_room(*r1)->room_id()->str(), as_room(*r2)->room_id()->str());
  EXPECT_EQ(as_room(*r1)->room_id()->str(), as_room(*r3)->room_id()->str());
}

TEST_F(RoomsMethods, OpenDirectErrors) {
  Device a = new_user(*server_, "a");
  EXPECT_EQ(a.client->call("rooms.open_direct", open_direct(a.user.id)).status, kInvalid);
  EXPECT_EQ(a.client->call("rooms.open_direct", open_direct(unknown_id())).status, kNotFound);
  EXPECT_EQ(a.client->call("rooms.open_direct", open_direct("not-a-uuid")).status, kInvalid);
  std::vector<uint8_t> garbage{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_EQ(a.client->call("rooms.open_direct", garbage).status, kInvalid);
}

TEST_F(RoomsMethods, UnauthenticatedCallsAreRefused) {
  auto c = connect(*server_);
  EXPECT_EQ(c->call("rooms.list").status, 2 /* Unauthenticated */);
}

TEST_F(RoomsMethods, CreateMakesTheCreatorOwner) {
  Device a = new_user(*server_, "a"), b = new_user(*server_, "b"), c = new_user(*server_, "c");
  Incoming r = a.client->call("rooms.create", create("Friends \xF0\x9F\x8E\x89", {b.user.id, c.user.id, b.user.id}));
  ASSERT_TRUE(r.ok()) << r.error;
  auto* room = as_room(r);
  ASSERT_NE(room, nullptr);
  EXPECT_EQ(room->kind(), rfb::RoomKind::Group);
  EXPECT_EQ(room->name()->str(), "Friends \xF0\x9F\x8E\x89");
  EXPECT_EQ(room->last_seq(), 0u);
  EXPECT_GT(room->created_at(), 0u);
  EXPECT_EQ(member_ids(*room), (std::vector<std::string>{a.user.id, b.user.id, c.user.id}));
  EXPECT_EQ(role_of(*room, a.user.id), static_cast<int>(rfb::Role::Owner));
  EXPECT_EQ(role_of(*room, b.user.id), static_cast<int>(rfb::Role::Member));
  // The new members hear about it.
  auto ev = b.client->next_event("rooms.updated", 3000);
  ASSERT_TRUE(ev);
  EXPECT_EQ(as_room(*ev)->room_id()->str(), room->room_id()->str());
}

TEST_F(RoomsMethods, CreateErrors) {
  Device a = new_user(*server_, "a"), b = new_user(*server_, "b");
  EXPECT_EQ(a.client->call("rooms.create", create("", {b.user.id})).status, kInvalid);
  EXPECT_EQ(a.client->call("rooms.create", create(std::string(101, 'x'), {})).status, kInvalid);
  EXPECT_TRUE(a.client->call("rooms.create", create(std::string(100, 'x'), {})).ok());
  EXPECT_EQ(a.client->call("rooms.create", create("t", {unknown_id()})).status, kNotFound);
  EXPECT_EQ(a.client->call("rooms.create", create("t", {"bad"})).status, kInvalid);
  // max_members is 4 in this suite: the creator plus four others is too many.
  std::vector<std::string> four;
  for (int i = 0; i < 4; ++i) four.push_back(new_user(*server_).user.id);
  EXPECT_EQ(a.client->call("rooms.create", create("big", four)).status, kInvalid);
  four.pop_back();
  EXPECT_TRUE(a.client->call("rooms.create", create("full", four)).ok());
}

TEST_F(RoomsMethods, GetIsForMembersOnly) {
  Device a = new_user(*server_, "a"), b = new_user(*server_, "b"), x = new_user(*server_, "x");
  std::string room = make_group(a, {b.user.id});
  Incoming r = b.client->call("rooms.get", room_ref(room));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(as_room(r)->room_id()->str(), room);
  EXPECT_EQ(x.client->call("rooms.get", room_ref(room)).status, kDenied);
  EXPECT_EQ(a.client->call("rooms.get", room_ref(unknown_id())).status, kNotFound);
  EXPECT_EQ(a.client->call("rooms.get", room_ref("zzz")).status, kInvalid);
}

TEST_F(RoomsMethods, ListIsNewestActivityFirst) {
  Device a = new_user(*server_, "a"), b = new_user(*server_, "b");
  std::string r1 = make_group(a, {}, "one");
  std::string r2 = make_group(a, {b.user.id}, "two");
  Incoming d = a.client->call("rooms.open_direct", open_direct(b.user.id));
  std::string r3 = as_room(d)->room_id()->str();
  // A message in the oldest room makes it the most active (a few ms later,
  // so activity times differ).
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(a.client->call("rooms.send", send(r1, "m1", "hello")).ok());
  Incoming l = a.client->call("rooms.list");
  ASSERT_TRUE(l.ok()) << l.error;
  auto* list = as_room_list(l);
  ASSERT_NE(list, nullptr);
  std::vector<std::string> ids;
  for (const auto* room : *list->rooms()) ids.push_back(room->room_id()->str());
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], r1);
  // r2 and r3 were created in that order with no messages: newer first.
  EXPECT_EQ(std::vector<std::string>(ids.begin() + 1, ids.end()),
            (std::vector<std::string>{r3, r2}));
  EXPECT_EQ(list->rooms()->Get(0)->last_seq(), 1u);
  // b sees only its own two rooms.
  Incoming lb = b.client->call("rooms.list");
  ASSERT_TRUE(lb.ok());
  EXPECT_EQ(as_room_list(lb)->rooms()->size(), 2u);
}

TEST_F(RoomsMethods, PlainMembersCannotManageMembers) {
  Device a = new_user(*server_, "a"), b = new_user(*server_, "b"), c = new_user(*server_, "c");
  std::string room = make_group(a, {b.user.id, c.user.id});
  EXPECT_EQ(b.client->call("rooms.add_members", add_members(room, {new_user(*server_).user.id})).status,
            kDenied);
  EXPECT_EQ(b.client->call("rooms.remove_member", remove_member(room, c.user.id)).status, kDenied);
  // Nobody removes the Owner, not even the Owner.
  EXPECT_EQ(a.client->call("rooms.remove_member", remove_member(room, a.user.id)).status, kDenied);
  EXPECT_EQ(a.client->call("rooms.remove_member", remove_member(room, new_user(*server_).user.id)).status,
            kNotFound);
}

TEST_F(RoomsMethods, NonMembersAreDeniedEverything) {
  Device a = new_user(*server_, "a"), x = new_user(*server_, "x");
  std::string room = make_group(a, {});
  EXPECT_EQ(x.client->call("rooms.send", send(room, "c", "hi")).status, kDenied);
  EXPECT_EQ(x.client->call("rooms.history", history(room, 0, 0, 0)).status, kDenied);
  EXPECT_EQ(x.client->call("rooms.typing", typing(room, true)).status, kDenied);
  EXPECT_EQ(x.client->call("rooms.add_members", add_members(room, {x.user.id})).status, kDenied);
  EXPECT_EQ(x.client->call("rooms.remove_member", remove_member(room, a.user.id)).status, kDenied);
  EXPECT_EQ(x.client->call("rooms.leave", room_ref(room)).status, kDenied);
  // ... while an unknown room is NotFound.
  EXPECT_EQ(x.client->call("rooms.send", send(unknown_id(), "c", "hi")).status, kNotFound);
  EXPECT_EQ(x.client->call("rooms.history", history(unknown_id(), 0, 0, 0)).status, kNotFound);
}

TEST_F(RoomsMethods, AddMembersNotifiesAndRespectsMaxMembers) {
  Device a = new_user(*server_, "a"), b = new_user(*server_, "b"), c = new_user(*server_, "c");
  std::string room = make_group(a, {b.user.id});
  b.client->drain_events(100);
  Incoming none = c.client->call("rooms.list");  // cached as "no rooms"
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(as_room_list(none)->rooms()->size(), 0u);
  Incoming r = a.client->call("rooms.add_members", add_members(room, {c.user.id, b.user.id}));
  ASSERT_TRUE(r.ok()) << r.error;
  Incoming one = c.client->call("rooms.list");
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(as_room_list(one)->rooms()->size(), 1u);
  EXPECT_EQ(as_room_list(one)->rooms()->Get(0)->room_id()->str(), room);
  EXPECT_EQ(member_ids(*as_room(r)), (std::vector<std::string>{a.user.id, b.user.id, c.user.id}));
  auto eb = b.client->next_event("rooms.updated", 3000);
  auto ec = c.client->next_event("rooms.updated", 3000);
  ASSERT_TRUE(eb && ec);
  EXPECT_EQ(member_ids(*as_room(*ec)).size(), 3u);
  // Unknown users, bad ids, and going past max_members (4).
  EXPECT_EQ(a.client->call("rooms.add_members", add_members(room, {unknown_id()})).status, kNotFound);
  EXPECT_EQ(a.client->call("rooms.add_members", add_members(room, {"x"})).status, kInvalid);
  Device d = new_user(*server_, "d"), e = new_user(*server_, "e");
  EXPECT_EQ(a.client->call("rooms.add_members", add_members(room, {d.user.id, e.user.id})).status,
            kExhausted);
  EXPECT_TRUE(a.client->call("rooms.add_members", add_members(room, {d.user.id})).ok());
  // A direct room's membership is fixed.
  Incoming dr = a.client->call("rooms.open_direct", open_direct(b.user.id));
  std::string direct = as_room(dr)->room_id()->str();
  EXPECT_EQ(a.client->call("rooms.add_members", add_members(direct, {c.user.id})).status,
            kPrecondition);
  EXPECT_EQ(a.client->call("rooms.leave", room_ref(direct)).status, kPrecondition);
}

TEST_F(RoomsMethods, RemovedMemberIsNotifiedAndLosesAccess) {
  Device a = new_user(*server_, "a"), b = new_user(*server_, "b"), c = new_user(*server_, "c");
  std::string room = make_group(a, {b.user.id, c.user.id});
  b.client->drain_events(100);
  c.client->drain_events(100);
  // c's room list is read (and cached by the server) before the removal.
  Incoming before = c.client->call("rooms.list");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(as_room_list(before)->rooms()->size(), 1u);
  Incoming r = a.client->call("rooms.remove_member", remove_member(room, c.user.id));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(member_ids(*as_room(r)), (std::vector<std::string>{a.user.id, b.user.id}));
  auto eb = b.client->next_event("rooms.updated", 3000);
  auto ec = c.client->next_event("rooms.updated", 3000);
  ASSERT_TRUE(eb);
  ASSERT_TRUE(ec) << "the removed member gets rooms.updated too";
  EXPECT_EQ(member_ids(*as_room(*ec)), (std::vector<std::string>{a.user.id, b.user.id}));
  EXPECT_EQ(c.client->call("rooms.send", send(room, "c1", "still here?")).status, kDenied);
  EXPECT_EQ(c.client->call("rooms.get", room_ref(room)).status, kDenied);
  Incoming lc = c.client->call("rooms.list");
  ASSERT_TRUE(lc.ok());
  EXPECT_EQ(as_room_list(lc)->rooms()->size(), 0u);
}

TEST_F(RoomsMethods, OwnerLeavingHandsOwnershipToTheLongestStandingMember) {
  Device a = new_user(*server_, "a"), b = new_user(*server_, "b"), c = new_user(*server_, "c");
  std::string room = make_group(a, {b.user.id});
  ASSERT_TRUE(a.client->call("rooms.add_members", add_members(room, {c.user.id})).ok());
  b.client->drain_events(100);
  c.client->drain_events(100);
  Incoming r = a.client->call("rooms.leave", room_ref(room));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.payload().empty());
  auto eb = b.client->next_event("rooms.updated", 3000);
  ASSERT_TRUE(eb);
  auto* updated = as_room(*eb);
  EXPECT_EQ(member_ids(*updated), (std::vector<std::string>{b.user.id, c.user.id}));
  EXPECT_EQ(role_of(*updated, b.user.id), static_cast<int>(rfb::Role::Owner));
  EXPECT_EQ(role_of(*updated, c.user.id), static_cast<int>(rfb::Role::Member));
  EXPECT_EQ(a.client->call("rooms.get", room_ref(room)).status, kDenied);
  // The new Owner manages the room; a plain member leaves.
  EXPECT_TRUE(b.client->call("rooms.remove_member", remove_member(room, c.user.id)).ok());
  EXPECT_TRUE(b.client->call("rooms.leave", room_ref(room)).ok());
  EXPECT_EQ(b.client->call("rooms.leave", room_ref(room)).status, kDenied);
}

TEST_F(RoomsMethods, SendValidatesItsPayload) {
  Device a = new_user(*server_, "a");
  std::string room = make_group(a, {});
  EXPECT_EQ(a.client->call("rooms.send", send(room, "c", "")).status, kInvalid);
  EXPECT_EQ(a.client->call("rooms.send", send(room, "c", std::string(1025, 'x'))).status, kInvalid);
  EXPECT_TRUE(a.client->call("rooms.send", send(room, "c0", std::string(1024, 'x'))).ok());
  EXPECT_EQ(a.client->call("rooms.send", send(room, "c", "bad \xFF utf8")).status, kInvalid);
  EXPECT_EQ(a.client->call("rooms.send", send(room, "", "hi")).status, kInvalid);
  EXPECT_EQ(a.client->call("rooms.send", send(room, std::string(65, 'c'), "hi")).status, kInvalid);
  EXPECT_TRUE(a.client->call("rooms.send", send(room, std::string(64, 'c'), "hi")).ok());
  EXPECT_EQ(a.client->call("rooms.send", send("nope", "c", "hi")).status, kInvalid);
}

TEST_F(RoomsMethods, SendReturnsTheMessageAndFansOutExceptToTheSender) {
  Device a = new_user(*server_, "a"), b = new_user(*server_, "b");
  auto a2 = second_device(*server_, a.user);
  Incoming d = a.client->call("rooms.open_direct", open_direct(b.user.id));
  std::string room = as_room(d)->room_id()->str();
  b.client->drain_events(100);
  a2->drain_events(100);
  Incoming r = a.client->call("rooms.send", send(room, "cm-1", "hello \xE2\x82\xAC"));
  ASSERT_TRUE(r.ok()) << r.error;
  auto* m = as_message(r);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->seq(), 1u);
  EXPECT_EQ(m->room_id()->str(), room);
  EXPECT_EQ(m->sender_user_id()->str(), a.user.id);
  EXPECT_EQ(m->text()->str(), "hello \xE2\x82\xAC");
  EXPECT_EQ(m->client_msg_id()->str(), "cm-1");
  EXPECT_EQ(m->message_id()->size(), 36u);
  EXPECT_GT(m->created_at(), 0u);
  for (Client* c : {b.client.get(), a2.get()}) {
    auto ev = c->next_event("rooms.message", 3000);
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->payload().size(), r.payload().size());
    EXPECT_EQ(as_message(*ev)->message_id()->str(), m->message_id()->str());
  }
  EXPECT_FALSE(a.client->next_event("rooms.message", 300)) << "not to the sending connection";
}

TEST_F(RoomsMethods, ResendWithTheSameClientMsgIdIsDeduplicated) {
  Device a = new_user(*server_, "a"), b = new_user(*server_, "b");
  std::string room = make_group(a, {b.user.id});
  b.client->drain_events(100);
  Incoming r1 = a.client->call("rooms.send", send(room, "same", "first"));
  Incoming r2 = a.client->call("rooms.send", send(room, "same", "second text"));
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(as_message(r2)->message_id()->str(), as_message(r1)->message_id()->str());
  EXPECT_EQ(as_message(r2)->seq(), 1u);
  EXPECT_EQ(as_message(r2)->text()->str(), "first");
  // Pipelined duplicates while the first is still pending.
  uint64_t i1 = a.client->send("rooms.send", send(room, "pipe", "p"));
  uint64_t i2 = a.client->send("rooms.send", send(room, "pipe", "p"));
  auto p1 = a.client->read_response(i1), p2 = a.client->read_response(i2);
  ASSERT_TRUE(p1 && p2 && p1->ok() && p2->ok());
  EXPECT_EQ(as_message(*p1)->seq(), 2u);
  EXPECT_EQ(as_message(*p2)->seq(), 2u);
  // The same client_msg_id from another sender is another message.
  Incoming rb = b.client->call("rooms.send", send(room, "same", "b's"));
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(as_message(rb)->seq(), 3u);
  auto events = b.client->drain_events(300);
  int messages = 0;
  for (const auto& e : events) messages += e.method == "rooms.message";
  EXPECT_EQ(messages, 2) << "one event per stored message, none for the repeats";
}

TEST_F(RoomsMethods, TypingIsRelayedToOthersAndNotStored) {
  Device a = new_user(*server_, "a"), b = new_user(*server_, "b");
  auto a2 = second_device(*server_, a.user);
  std::string room = make_group(a, {b.user.id});
  b.client->drain_events(100);
  ASSERT_TRUE(a.client->call("rooms.typing", typing(room, true)).ok());
  auto ev = b.client->next_event("rooms.typing", 3000);
  ASSERT_TRUE(ev);
  auto* t = as_typing(*ev);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->room_id()->str(), room);
  EXPECT_EQ(t->user_id()->str(), a.user.id);
  EXPECT_TRUE(t->typing());
  EXPECT_FALSE(a2->next_event("rooms.typing", 300)) << "not to the typer's own devices";
  ASSERT_TRUE(a.client->call("rooms.typing", typing(room, false)).ok());
  auto ev2 = b.client->next_event("rooms.typing", 3000);
  ASSERT_TRUE(ev2);
  EXPECT_FALSE(as_typing(*ev2)->typing());
  Incoming h = a.client->call("rooms.history", history(room, 0, 0, 0));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(as_message_list(h)->messages()->size(), 0u);
  EXPECT_EQ(as_room(a.client->call("rooms.get", room_ref(room)))->last_seq(), 0u);
}

TEST_F(RoomsMethods, HistoryCursorsAtTheEdges) {
  Device a = new_user(*server_, "a");
  std::string room = make_group(a, {});
  auto page = [&](uint64_t before, uint64_t after, uint16_t limit, bool* more) {
    Incoming h = a.client->call("rooms.history", history(room, before, after, limit));
    EXPECT_TRUE(h.ok()) << h.error;
    auto* l = as_message_list(h);
    if (!l) return std::vector<uint64_t>{};
    *more = l->has_more();
    return seqs_of(*l);
  };
  bool more = true;
  EXPECT_EQ(page(0, 0, 0, &more), std::vector<uint64_t>{});
  EXPECT_FALSE(more);
  for (int i = 1; i <= 10; ++i)
    ASSERT_TRUE(a.client->call("rooms.send", send(room, "h" + std::to_string(i), "m")).ok());
  using V = std::vector<uint64_t>;
  EXPECT_EQ(page(0, 0, 3, &more), (V{8, 9, 10}));
  EXPECT_TRUE(more);
  EXPECT_EQ(page(0, 0, 0, &more), (V{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_FALSE(more);
  EXPECT_EQ(page(0, 0, 10, &more), (V{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_FALSE(more);
  EXPECT_EQ(page(0, 4, 3, &more), (V{5, 6, 7}));
  EXPECT_TRUE(more);
  EXPECT_EQ(page(0, 7, 3, &more), (V{8, 9, 10}));
  EXPECT_FALSE(more);
  EXPECT_EQ(page(0, 10, 3, &more), (V{}));
  EXPECT_FALSE(more);
  EXPECT_EQ(page(8, 0, 3, &more), (V{5, 6, 7}));
  EXPECT_TRUE(more);
  EXPECT_EQ(page(4, 0, 3, &more), (V{1, 2, 3}));
  EXPECT_FALSE(more);
  EXPECT_EQ(page(1, 0, 3, &more), (V{}));
  EXPECT_FALSE(more);
  EXPECT_EQ(page(100, 0, 2, &more), (V{9, 10}));
  EXPECT_TRUE(more);
}

TEST_F(RoomsMethods, HistoryLimitIsCappedAtTwoHundred) {
  Device a = new_user(*server_, "a");
  std::string room = make_group(a, {});
  // Pipelined, within the kernel's in-flight limit.
  std::vector<uint64_t> ids;
  for (int i = 1; i <= 205; ++i) {
    ids.push_back(a.client->send("rooms.send", send(room, "c" + std::to_string(i), "x")));
    if (ids.size() == 100) {
      for (uint64_t id : ids) ASSERT_TRUE(a.client->read_response(id));
      ids.clear();
    }
  }
  for (uint64_t id : ids) ASSERT_TRUE(a.client->read_response(id));
  Incoming h = a.client->call("rooms.history", history(room, 0, 0, 1000));
  ASSERT_TRUE(h.ok());
  auto* l = as_message_list(h);
  ASSERT_EQ(l->messages()->size(), 200u);
  EXPECT_EQ(l->messages()->Get(0)->seq(), 6u);
  EXPECT_EQ(l->messages()->Get(199)->seq(), 205u);
  EXPECT_TRUE(l->has_more());
}

}  // namespace
}  // namespace parley::test::rooms
