// Durability of rooms across restarts and crashes: dedupe after a restart,
// seq continuity, and every acknowledged message present after kill -9 in
// the middle of a burst.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "rooms_test_client.h"

namespace parley::test::rooms {
namespace {

// Every message of a room, scrolling back from the latest page with
// before_seq (after_seq 0 means "latest", so it cannot start from seq 1):
// seq -> message_id.
std::map<uint64_t, std::string> all_messages(Client& c, const std::string& room) {
  std::map<uint64_t, std::string> out;
  uint64_t before = 0;
  for (;;) {
    Incoming h = c.call("rooms.history", history(room, before, 0, 200), 10000);
    EXPECT_TRUE(h.ok()) << h.error;
    auto* l = as_message_list(h);
    if (!l || !l->messages() || l->messages()->size() == 0) break;
    for (const auto* m : *l->messages()) out[m->seq()] = m->message_id()->str();
    before = l->messages()->Get(0)->seq();
    if (!l->has_more()) break;
  }
  return out;
}

TEST(RoomsDurability, DedupeAndSequenceSurviveARestart) {
  auto server = start_server();
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b");
  Incoming d = a.client->call("rooms.open_direct", open_direct(b.user.id));
  ASSERT_TRUE(d.ok());
  std::string room = as_room(d)->room_id()->str();
  Incoming first = a.client->call("rooms.send", send(room, "before-restart", "one"));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(a.client->call("rooms.send", send(room, "second", "two")).ok());
  std::string first_id = as_message(first)->message_id()->str();

  a.client.reset();
  b.client.reset();
  std::string error;
  ASSERT_TRUE(server->restart(&error)) << error;

  auto ca = second_device(*server, a.user);
  auto cb = second_device(*server, b.user);
  ASSERT_TRUE(ca && cb);
  Incoming again = ca->call("rooms.send", send(room, "before-restart", "changed"));
  ASSERT_TRUE(again.ok()) << again.error;
  EXPECT_EQ(as_message(again)->message_id()->str(), first_id);
  EXPECT_EQ(as_message(again)->seq(), 1u);
  EXPECT_EQ(as_message(again)->text()->str(), "one");
  EXPECT_FALSE(cb->next_event("rooms.message", 300)) << "a repeat delivers nothing";
  // The sequence continues where it was.
  Incoming next = ca->call("rooms.send", send(room, "after-restart", "three"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(as_message(next)->seq(), 3u);
  auto ev = cb->next_event("rooms.message", 3000);
  ASSERT_TRUE(ev);
  EXPECT_EQ(as_message(*ev)->seq(), 3u);
  // The direct pair is still one room.
  Incoming d2 = cb->call("rooms.open_direct", open_direct(a.user.id));
  ASSERT_TRUE(d2.ok());
  EXPECT_EQ(as_room(d2)->room_id()->str(), room);
  EXPECT_EQ(as_room(d2)->last_seq(), 3u);
}

TEST(RoomsDurability, KillNineMidBurstKeepsEveryAcknowledgedMessageAndNoGap) {
  auto server = start_server();
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b");
  Incoming r = a.client->call("rooms.create", create("crash", {b.user.id}));
  ASSERT_TRUE(r.ok());
  std::string room = as_room(r)->room_id()->str();

  // Pipeline a burst and kill the server after some acknowledgements, with
  // more sends still in flight.
  constexpr int kBurst = 600, kKillAfter = 250;
  std::map<uint64_t, std::string> acked;  // seq -> message_id
  std::map<uint64_t, int> pending;        // request id -> send number
  int sent = 0;
  bool killed = false;
  while (!killed) {
    while (sent < kBurst && pending.size() < 128) {
      uint64_t id = a.client->send("rooms.send", send(room, "k" + std::to_string(sent), "burst"));
      pending[id] = sent++;
    }
    auto in = a.client->read(5000);
    if (!in) break;
    if (in->kind != parley::Kind::Response || !pending.count(in->id)) continue;
    pending.erase(in->id);
    ASSERT_TRUE(in->ok()) << in->error;
    auto* m = as_message(*in);
    acked[m->seq()] = m->message_id()->str();
    if (acked.size() >= static_cast<size_t>(kKillAfter)) {
      server->kill9();
      killed = true;
    }
  }
  ASSERT_TRUE(killed);
  EXPECT_GT(pending.size(), 0u) << "the kill must hit sends still in flight";
  const size_t in_flight_at_kill = pending.size();
  a.client.reset();
  b.client.reset();
  std::string error;
  ASSERT_TRUE(server->restart(&error)) << error;

  auto ca = second_device(*server, a.user);
  ASSERT_TRUE(ca);
  std::map<uint64_t, std::string> stored = all_messages(*ca, room);
  ASSERT_FALSE(stored.empty());
  // Gap-free from 1, and every acknowledged message is there unchanged.
  uint64_t expect = 1;
  for (const auto& [seq, id] : stored) ASSERT_EQ(seq, expect++);
  for (const auto& [seq, id] : acked) {
    ASSERT_TRUE(stored.count(seq)) << "acknowledged seq " << seq << " lost";
    EXPECT_EQ(stored[seq], id);
  }
  uint64_t last = stored.rbegin()->first;
  std::printf("[          ] acknowledged %zu, in flight at kill %zu, stored %zu\n", acked.size(),
              in_flight_at_kill, stored.size());
  EXPECT_GE(last, acked.rbegin()->first);
  Incoming g = ca->call("rooms.get", room_ref(room));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(as_room(g)->last_seq(), last);
  // New sends continue the sequence; resends of unacknowledged ones that did
  // make it to disk are answered from storage, the rest get new seqs.
  Incoming next = ca->call("rooms.send", send(room, "after-crash", "x"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(as_message(next)->seq(), last + 1);
  Incoming resend = ca->call("rooms.send", send(room, "k0", "burst"));
  ASSERT_TRUE(resend.ok());
  EXPECT_EQ(as_message(resend)->seq(), 1u);
}

}  // namespace
}  // namespace parley::test::rooms

namespace parley::test::rooms {
namespace {

// With a room cache smaller than the number of rooms, rooms are evicted and
// read back from storage: membership, last_seq and sends stay right.
TEST(RoomsDurability, EvictedRoomsAreReadBackFromStorage) {
  auto server = start_server("room_cache_size: 16");
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b");
  constexpr int kRooms = 40;
  std::vector<std::string> rooms;
  for (int i = 0; i < kRooms; ++i) {
    Incoming r = a.client->call("rooms.create", create("r" + std::to_string(i), {b.user.id}));
    ASSERT_TRUE(r.ok()) << r.error;
    rooms.push_back(as_room(r)->room_id()->str());
  }
  // Each room gets i % 3 + 1 messages, touching every room in turn.
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kRooms; ++i) {
      if (round > i % 3) continue;
      Incoming s = a.client->call("rooms.send", send(rooms[i], "r" + std::to_string(round), "x"));
      ASSERT_TRUE(s.ok()) << s.error;
    }
  }
  for (int i = 0; i < kRooms; ++i) {
    Incoming g = b.client->call("rooms.get", room_ref(rooms[i]));
    ASSERT_TRUE(g.ok()) << g.error;
    EXPECT_EQ(as_room(g)->last_seq(), static_cast<uint64_t>(i % 3 + 1)) << "room " << i;
    EXPECT_EQ(member_ids(*as_room(g)), (std::vector<std::string>{a.user.id, b.user.id}));
  }
  Incoming l = b.client->call("rooms.list");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(as_room_list(l)->rooms()->size(), static_cast<size_t>(kRooms));
  // A resend into an evicted room is still deduplicated.
  Incoming again = a.client->call("rooms.send", send(rooms[0], "r0", "x"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(as_message(again)->seq(), 1u);
}

}  // namespace
}  // namespace parley::test::rooms
