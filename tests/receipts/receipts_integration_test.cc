// The receipts plugin through the real protocol: a parleyd with persistence
// (sync durability), auth, rooms, receipts and the receiptsprobe metrics
// plugin, over TLS.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <thread>

#include "receipts_test_client.h"

namespace parley::test::receipts {
namespace {

constexpr uint16_t kInvalidArgument = 1, kPermissionDenied = 3, kNotFound = 4;

// Every receipts.updated event on c until nothing arrives for quiet_ms.
std::vector<ReceiptView> receipt_events(Client& c, int quiet_ms = 300) {
  std::vector<ReceiptView> out;
  for (const Incoming& ev : c.drain_events(quiet_ms))
    if (ev.method == "receipts.updated")
      if (auto r = as_receipt(ev)) out.push_back(*r);
  return out;
}

std::vector<ReceiptView> of_user(const std::vector<ReceiptView>& events, const std::string& user) {
  std::vector<ReceiptView> out;
  for (const auto& e : events)
    if (e.user_id == user) out.push_back(e);
  return out;
}

// Waits for a receipts.updated event about `user` reaching read_seq.
bool wait_read(Client& c, const std::string& user, uint64_t read_seq) {
  for (int i = 0; i < 50; ++i) {
    auto ev = c.next_event("receipts.updated", 5000);
    if (!ev) return false;
    auto r = as_receipt(*ev);
    if (r && r->user_id == user && r->read_seq >= read_seq) return true;
  }
  return false;
}

TEST(Receipts, BadConfigIsRefusedAtStart) {
  for (const char* bad : {"coalesce_ms: -1", "coalesce_ms: soon", "window_ms: 100"}) {
    ServerOptions o = server_options();
    size_t at = o.plugins_yaml.find("coalesce_ms: 100");
    ASSERT_NE(at, std::string::npos);
    o.plugins_yaml.replace(at, std::string("coalesce_ms: 100").size(), bad);
    o.start_timeout_ms = 5000;
    std::string error;
    auto server = ServerProcess::start(o, &error);
    EXPECT_FALSE(server) << bad;
    std::string key = std::string(bad).substr(0, std::string(bad).find(':'));
    EXPECT_NE(error.find(key), std::string::npos) << bad << ": " << error;
  }
}

TEST(Receipts, WatermarksOnlyMoveForwardAndClampToLastSeq) {
  auto server = start_server();
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b");
  std::string room = create_room(*a.client, {b.user.id});
  ASSERT_FALSE(room.empty());
  ASSERT_EQ(send_messages(*a.client, room, 5), 5u);

  ASSERT_TRUE(mark_read(*b.client, room, 3).ok());
  auto r = receipt_of(*get_receipts(*b.client, room), b.user.id);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->read_seq, 3u);
  EXPECT_EQ(r->delivered_seq, 3u);
  EXPECT_GT(r->updated_at, 0u);

  // Lower: Ok, nothing changes.
  ASSERT_TRUE(mark_read(*b.client, room, 2).ok());
  ASSERT_TRUE(mark_delivered(*b.client, room, 1).ok());
  r = receipt_of(*get_receipts(*b.client, room), b.user.id);
  EXPECT_EQ(r->read_seq, 3u);
  EXPECT_EQ(r->delivered_seq, 3u);

  // Beyond last_seq: clamped to 5.
  ASSERT_TRUE(mark_delivered(*b.client, room, 1000).ok());
  r = receipt_of(*get_receipts(*b.client, room), b.user.id);
  EXPECT_EQ(r->read_seq, 3u);
  EXPECT_EQ(r->delivered_seq, 5u);
  ASSERT_TRUE(mark_read(*b.client, room, 99).ok());
  r = receipt_of(*get_receipts(*a.client, room), b.user.id);
  EXPECT_EQ(r->read_seq, 5u);
  EXPECT_EQ(r->delivered_seq, 5u);

  // New messages: the watermark can move on from there, and only forward.
  ASSERT_EQ(send_messages(*a.client, room, 2), 7u);
  ASSERT_TRUE(mark_delivered(*b.client, room, 7).ok());
  ASSERT_TRUE(mark_read(*b.client, room, 4).ok());
  r = receipt_of(*get_receipts(*b.client, room), b.user.id);
  EXPECT_EQ(r->read_seq, 5u);
  EXPECT_EQ(r->delivered_seq, 7u);
}

TEST(Receipts, ReadImpliesDeliveredAndGetListsEveryMember) {
  auto server = start_server();
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b"), c = new_user(*server, "c");
  std::string room = create_room(*a.client, {b.user.id, c.user.id});
  ASSERT_EQ(send_messages(*a.client, room, 6), 6u);
  ASSERT_TRUE(mark_delivered(*b.client, room, 2).ok());
  ASSERT_TRUE(mark_read(*b.client, room, 4).ok());
  auto list = get_receipts(*c.client, room);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 3u);  // one per member
  auto rb = receipt_of(*list, b.user.id);
  ASSERT_TRUE(rb);
  EXPECT_EQ(rb->read_seq, 4u);
  EXPECT_EQ(rb->delivered_seq, 4u);
  auto rc = receipt_of(*list, c.user.id);
  ASSERT_TRUE(rc);
  EXPECT_EQ(rc->read_seq, 0u);
  EXPECT_EQ(rc->delivered_seq, 0u);
  EXPECT_EQ(rc->room_id, room);
}

TEST(Receipts, UpdatedEventReachesEveryMemberAndTheReadersOtherDevice) {
  auto server = start_server();
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b"), c = new_user(*server, "c"),
         outsider = new_user(*server, "o");
  auto b2 = second_device(*server, b.user);
  ASSERT_TRUE(b2);
  std::string room = create_room(*a.client, {b.user.id, c.user.id});
  ASSERT_EQ(send_messages(*a.client, room, 3), 3u);
  // Settle: the sender's implicit read of its own messages is announced too.
  ASSERT_TRUE(wait_read(*c.client, a.user.id, 3));
  for (Client* cl : {a.client.get(), b.client.get(), c.client.get(), b2.get()})
    cl->drain_events(200);

  ASSERT_TRUE(mark_read(*b.client, room, 3).ok());
  for (Client* cl : {a.client.get(), c.client.get(), b2.get(), b.client.get()}) {
    auto events = of_user(receipt_events(*cl), b.user.id);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].room_id, room);
    EXPECT_EQ(events[0].read_seq, 3u);
    EXPECT_EQ(events[0].delivered_seq, 3u);
  }
  EXPECT_TRUE(receipt_events(*outsider.client, 100).empty());

  // A mark that moves nothing announces nothing.
  ASSERT_TRUE(mark_read(*b.client, room, 2).ok());
  EXPECT_TRUE(of_user(receipt_events(*a.client), b.user.id).empty());
}

TEST(Receipts, SendersOwnMessagesAreNotUnread) {
  auto server = start_server();
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b");
  std::string room = create_room(*a.client, {b.user.id});
  ASSERT_EQ(send_messages(*a.client, room, 2), 2u);
  ASSERT_TRUE(wait_read(*b.client, a.user.id, 2));
  auto rows = get_unread(*a.client);
  ASSERT_TRUE(rows);
  auto ra = unread_of(*rows, room);
  ASSERT_TRUE(ra);
  EXPECT_EQ(ra->last_seq, 2u);
  EXPECT_EQ(ra->read_seq, 2u);
  EXPECT_EQ(ra->unread, 0u);
}

TEST(Receipts, UnreadCountsFollowSendsReadsAndNewMembers) {
  auto server = start_server();
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b"), c = new_user(*server, "c");
  std::string room = create_room(*a.client, {b.user.id});
  std::string other = create_room(*a.client, {b.user.id}, "other");
  ASSERT_FALSE(room.empty());
  ASSERT_FALSE(other.empty());

  // Before any message, and C (not a member) sees neither room.
  auto rows = get_unread(*b.client);
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->size(), 2u);
  EXPECT_EQ(unread_of(*rows, room)->unread, 0u);
  auto rows_c = get_unread(*c.client);
  ASSERT_TRUE(rows_c);
  EXPECT_TRUE(rows_c->empty());

  // Sends: B's count grows (B's state is already loaded: the in-memory path).
  ASSERT_EQ(send_messages(*a.client, room, 4), 4u);
  rows = get_unread(*b.client);
  auto rb = unread_of(*rows, room);
  ASSERT_TRUE(rb);
  EXPECT_EQ(rb->last_seq, 4u);
  EXPECT_EQ(rb->read_seq, 0u);
  EXPECT_EQ(rb->unread, 4u);
  EXPECT_EQ(unread_of(*rows, other)->unread, 0u);

  // Reads.
  ASSERT_TRUE(mark_read(*b.client, room, 3).ok());
  rb = unread_of(*get_unread(*b.client), room);
  EXPECT_EQ(rb->read_seq, 3u);
  EXPECT_EQ(rb->unread, 1u);
  ASSERT_TRUE(mark_delivered(*b.client, room, 4).ok());  // delivered is not read
  EXPECT_EQ(unread_of(*get_unread(*b.client), room)->unread, 1u);

  // A new member: everything before they joined is unread for them; later
  // messages add to it.
  ASSERT_TRUE(add_members(*a.client, room, {c.user.id}));
  rows_c = get_unread(*c.client);
  ASSERT_TRUE(rows_c);
  auto rc = unread_of(*rows_c, room);
  ASSERT_TRUE(rc) << "the joined room is missing from C's unread list";
  EXPECT_EQ(rc->last_seq, 4u);
  EXPECT_EQ(rc->unread, 4u);
  ASSERT_EQ(send_messages(*a.client, room, 1), 5u);
  EXPECT_EQ(unread_of(*get_unread(*c.client), room)->unread, 5u);
  EXPECT_EQ(unread_of(*get_unread(*b.client), room)->unread, 2u);
  ASSERT_TRUE(mark_read(*c.client, room, 5).ok());
  EXPECT_EQ(unread_of(*get_unread(*c.client), room)->unread, 0u);
}

TEST(Receipts, NonMembersUnknownRoomsAndBadPayloadsAreRefused) {
  auto server = start_server();
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b"), c = new_user(*server, "c");
  std::string room = create_room(*a.client, {b.user.id});
  ASSERT_EQ(send_messages(*a.client, room, 2), 2u);

  EXPECT_EQ(mark_read(*c.client, room, 1).status, kPermissionDenied);
  EXPECT_EQ(mark_delivered(*c.client, room, 1).status, kPermissionDenied);
  uint16_t status = 0;
  EXPECT_FALSE(get_receipts(*c.client, room, &status));
  EXPECT_EQ(status, kPermissionDenied);
  // Refusals moved nothing.
  EXPECT_FALSE(receipt_of(*get_receipts(*a.client, room), c.user.id));

  EXPECT_EQ(mark_read(*a.client, unknown_id(), 1).status, kNotFound);
  EXPECT_FALSE(get_receipts(*a.client, unknown_id(), &status));
  EXPECT_EQ(status, kNotFound);

  EXPECT_EQ(mark_read(*a.client, "not-a-uuid", 1).status, kInvalidArgument);
  EXPECT_EQ(a.client->call("receipts.mark_read").status, kInvalidArgument);  // empty payload
  std::vector<uint8_t> garbage(32, 0x5a);
  EXPECT_EQ(a.client->call("receipts.mark_delivered", garbage).status, kInvalidArgument);
  // A rooms payload (PROM) is not a receipts one.
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(rfb::CreateRoomRefDirect(fbb, room.c_str()), "PROM");
  EXPECT_EQ(a.client->call("receipts.get", fbb).status, kInvalidArgument);

  // Before authentication.
  auto anon = connect(*server);
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->call("receipts.unread").status, 2);  // Unauthenticated
}

TEST(Receipts, RemovedMemberLosesTheRoomAndIsRefused) {
  auto server = start_server();
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b"), c = new_user(*server, "c");
  std::string room = create_room(*a.client, {b.user.id, c.user.id});
  ASSERT_EQ(send_messages(*a.client, room, 3), 3u);
  ASSERT_TRUE(mark_read(*c.client, room, 2).ok());
  auto rows = get_unread(*c.client);
  ASSERT_TRUE(rows);
  ASSERT_TRUE(unread_of(*rows, room));

  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(rfb::CreateRemoveMemberDirect(fbb, room.c_str(), c.user.id.c_str()), "PROM");
  ASSERT_TRUE(a.client->call("rooms.remove_member", fbb).ok());

  rows = get_unread(*c.client);
  ASSERT_TRUE(rows);
  EXPECT_FALSE(unread_of(*rows, room)) << "a removed member still counts the room";
  EXPECT_EQ(mark_read(*c.client, room, 3).status, kPermissionDenied);
  auto list = get_receipts(*a.client, room);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 2u);
  EXPECT_FALSE(receipt_of(*list, c.user.id));
  // B's marks are no longer announced to C.
  c.client->drain_events(100);
  ASSERT_TRUE(mark_read(*b.client, room, 3).ok());
  EXPECT_TRUE(of_user(receipt_events(*c.client, 300), b.user.id).empty());
}

TEST(Receipts, LoneMarkIsNotDelayedByTheWindowButTheNextOneIs) {
  ServerSetup setup;
  setup.coalesce_ms = 1000;
  auto server = start_server(setup);
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b");
  std::string room = create_room(*a.client, {b.user.id});
  ASSERT_EQ(send_messages(*a.client, room, 3), 3u);
  // Let the sender's implicit read and its window pass.
  ASSERT_TRUE(wait_read(*b.client, a.user.id, 3));
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));

  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(mark_read(*b.client, room, 1).ok());
  auto first = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(mark_read(*b.client, room, 2).ok());
  auto second = std::chrono::steady_clock::now() - t0 - first;
  EXPECT_LT(first, std::chrono::milliseconds(500)) << "the leading edge was delayed";
  EXPECT_GT(second, std::chrono::milliseconds(500)) << "the second mark skipped the window";
  EXPECT_EQ(receipt_of(*get_receipts(*a.client, room), b.user.id)->read_seq, 2u);
}

TEST(Receipts, AnsweredMarksSurviveKillAndRestart) {
  auto server = start_server();
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b");
  std::string room = create_room(*a.client, {b.user.id});
  ASSERT_EQ(send_messages(*a.client, room, 6), 6u);
  ASSERT_TRUE(mark_delivered(*b.client, room, 5).ok());
  ASSERT_TRUE(mark_read(*b.client, room, 3).ok());
  // The Responses above promise durability: crash right after them.
  server->kill9();
  std::string error;
  ASSERT_TRUE(server->restart(&error)) << error;

  auto b_again = second_device(*server, b.user);
  ASSERT_TRUE(b_again);
  auto r = receipt_of(*get_receipts(*b_again, room), b.user.id);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->read_seq, 3u);
  EXPECT_EQ(r->delivered_seq, 5u);
  auto rows = get_unread(*b_again);
  ASSERT_TRUE(rows);
  auto rb = unread_of(*rows, room);
  ASSERT_TRUE(rb);
  EXPECT_EQ(rb->last_seq, 6u);
  EXPECT_EQ(rb->read_seq, 3u);
  EXPECT_EQ(rb->unread, 3u);
  // And it still only moves forward from the stored state.
  ASSERT_TRUE(mark_read(*b_again, room, 2).ok());
  EXPECT_EQ(receipt_of(*get_receipts(*b_again, room), b.user.id)->read_seq, 3u);
}

TEST(Receipts, GracefulStopWritesReceiptsWaitingForTheirWindow) {
  ServerSetup setup;
  setup.coalesce_ms = 10000;
  auto server = start_server(setup);
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b");
  std::string room = create_room(*a.client, {b.user.id});
  // The first send's implicit read is committed at once (leading edge) and
  // opens a 10 s window; the second one's waits in it.
  ASSERT_EQ(send_messages(*a.client, room, 1), 1u);
  ASSERT_TRUE(wait_read(*b.client, a.user.id, 1));
  ASSERT_EQ(send_messages(*a.client, room, 1), 2u);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(receipt_of(*get_receipts(*b.client, room), a.user.id)->read_seq, 1u);
  server->stop(SIGTERM);
  std::string error;
  ASSERT_TRUE(server->restart(&error)) << error;
  auto b_again = second_device(*server, b.user);
  ASSERT_TRUE(b_again);
  EXPECT_EQ(receipt_of(*get_receipts(*b_again, room), a.user.id)->read_seq, 2u);
}

TEST(Receipts, BurstOfMarksIsCoalesced) {
  ServerSetup setup;
  setup.coalesce_ms = 200;
  auto server = start_server(setup);
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b"), c = new_user(*server, "c");
  auto b2 = second_device(*server, b.user);
  std::string room = create_room(*a.client, {b.user.id, c.user.id});
  constexpr int kMarks = 50;
  ASSERT_EQ(send_messages(*a.client, room, kMarks), static_cast<uint64_t>(kMarks));
  ASSERT_TRUE(wait_read(*c.client, a.user.id, kMarks));
  for (Client* cl : {a.client.get(), b.client.get(), c.client.get(), b2.get()})
    cl->drain_events(300);
  double commits0 = metric(*a.client, "parley_receipts_commits_total");
  double updates0 = metric(*a.client, "parley_receipts_updates_total");
  ASSERT_GE(commits0, 0);

  // 50 marks, all in flight at once (well within max_inflight_requests).
  std::map<uint64_t, int> ids;
  for (int seq = 1; seq <= kMarks; ++seq)
    ids[b.client->send("receipts.mark_read", mark(room, static_cast<uint64_t>(seq)))] = seq;
  for (const auto& [id, seq] : ids) {
    auto resp = b.client->read_response(id, 10000);
    ASSERT_TRUE(resp) << "no answer to mark " << seq;
    EXPECT_TRUE(resp->ok()) << resp->status << " " << resp->error;
  }
  double commits = metric(*a.client, "parley_receipts_commits_total") - commits0;
  double updates = metric(*a.client, "parley_receipts_updates_total") - updates0;
  // Leading edge + at most a window or two for the rest, not 50.
  EXPECT_GE(commits, 1);
  EXPECT_LE(commits, 4) << "marks were not coalesced";
  EXPECT_EQ(updates, commits);  // one Receipt per commit: one receipt moved each
  for (Client* cl : {a.client.get(), c.client.get(), b2.get()}) {
    auto events = of_user(receipt_events(*cl), b.user.id);
    EXPECT_GE(events.size(), 1u);
    EXPECT_LE(events.size(), 4u);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().read_seq, static_cast<uint64_t>(kMarks));
    for (size_t i = 1; i < events.size(); ++i)
      EXPECT_GT(events[i].read_seq, events[i - 1].read_seq);  // forward only
  }
  EXPECT_EQ(receipt_of(*get_receipts(*c.client, room), b.user.id)->read_seq,
            static_cast<uint64_t>(kMarks));
}

TEST(Receipts, WithoutCoalescingEveryMovingMarkCommitsAndAnnounces) {
  ServerSetup setup;
  setup.coalesce_ms = 0;
  auto server = start_server(setup);
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b");
  std::string room = create_room(*a.client, {b.user.id});
  ASSERT_EQ(send_messages(*a.client, room, 10), 10u);
  ASSERT_TRUE(wait_read(*b.client, a.user.id, 10));
  a.client->drain_events(300);
  double commits0 = metric(*a.client, "parley_receipts_commits_total");
  for (uint64_t seq = 1; seq <= 10; ++seq) ASSERT_TRUE(mark_read(*b.client, room, seq).ok());
  EXPECT_EQ(metric(*a.client, "parley_receipts_commits_total") - commits0, 10);
  EXPECT_EQ(of_user(receipt_events(*a.client), b.user.id).size(), 10u);
}

}  // namespace
}  // namespace parley::test::receipts
