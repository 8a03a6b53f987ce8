// The sender's implicit read (docs/receipts.md, "The sender has read their
// own message") as seen by the sender's next request: a receipts.unread or
// receipts.get sent after the rooms.send Response must already show it.
//
// Regression: the implicit mark travels rooms.message_stored -> a load of
// the room's receipts -> a coalesced commit, while unread/get answered from
// durable watermarks at once; a request arriving while that mark was still
// pending (the window of the previous commit, the fsync, the load) showed
// read_seq 0 for the sender (cli_test RoomAndMessageCommandsInBothModes
// failed so under load). Here several senders write in several rooms back to
// back, so every implicit mark lands inside the window of the previous one.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "receipts_test_client.h"

namespace parley::test::receipts {
namespace {

// Sends one message without waiting; the request id.
uint64_t send_async(Client& c, const std::string& room_id) {
  static int counter = 0;
  std::string cmid = "implicit-" + std::to_string(counter++);
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(rfb::CreateSendDirect(fbb, room_id.c_str(), cmid.c_str(), "hi"), "PROM");
  return c.send("rooms.send", fbb);
}

uint64_t seq_of_response(Client& c, uint64_t id) {
  auto r = c.read_response(id, 10000);
  EXPECT_TRUE(r && r->ok()) << "rooms.send failed";
  if (!r) return 0;
  auto* m = payload_as<rfb::Message>(*r, "PROM");
  return m ? m->seq() : 0;
}

// Checks that `who` sees its own read watermark at `seq` in `room`, through
// both receipts.unread and receipts.get, with `last_seq` messages in it.
void expect_read_own(Device& who, const std::string& room, uint64_t seq, uint64_t last_seq,
                     const std::string& what) {
  auto rows = get_unread(*who.client);
  ASSERT_TRUE(rows) << what;
  auto row = unread_of(*rows, room);
  ASSERT_TRUE(row) << what;
  EXPECT_EQ(row->last_seq, last_seq) << what;
  EXPECT_EQ(row->read_seq, seq) << what << ": unread does not show the sender's own read";
  EXPECT_EQ(row->unread, last_seq - seq) << what;
  auto list = get_receipts(*who.client, room);
  ASSERT_TRUE(list) << what;
  auto mine = receipt_of(*list, who.user.id);
  ASSERT_TRUE(mine) << what;
  EXPECT_EQ(mine->read_seq, seq) << what << ": get does not show the sender's own read";
}

TEST(ReceiptsImplicitRead, SendersNextUnreadAndGetShowTheirOwnRead) {
  auto server = start_server();
  ASSERT_TRUE(server);
  std::vector<Device> users;
  for (const char* n : {"a", "b", "c"}) users.push_back(new_user(*server, n));
  std::vector<std::string> rooms;
  for (int i = 0; i < 3; ++i) {
    rooms.push_back(create_room(*users[0].client, {users[1].user.id, users[2].user.id},
                                "r" + std::to_string(i)));
    ASSERT_FALSE(rooms.back().empty());
  }
  // Users b and c ask for their first unread right after their first send:
  // their receipts are not loaded yet (the cold path); later ones are hot.
  for (int round = 0; round < 2; ++round)
    for (const std::string& room : rooms)
      for (size_t u = 0; u < users.size(); ++u) {
        Device& who = users[(u + 1 + round) % users.size()];
        uint64_t seq = send_messages(*who.client, room, 1);
        ASSERT_GT(seq, 0u);
        expect_read_own(who, room, seq, seq,
                        "round " + std::to_string(round) + " sender " + who.user.id);
      }
}

TEST(ReceiptsImplicitRead, ConcurrentSendersInManyRoomsKeepTheirOwnReads) {
  auto server = start_server();
  ASSERT_TRUE(server);
  constexpr int kUsers = 4, kRooms = 6, kRounds = 3;
  std::vector<Device> users;
  for (int i = 0; i < kUsers; ++i) users.push_back(new_user(*server, "u" + std::to_string(i)));
  std::vector<std::string> others;
  for (int i = 1; i < kUsers; ++i) others.push_back(users[i].user.id);
  std::vector<std::string> rooms;
  for (int i = 0; i < kRooms; ++i) {
    rooms.push_back(create_room(*users[0].client, others, "r" + std::to_string(i)));
    ASSERT_FALSE(rooms.back().empty());
  }
  // Every user sends in every room, all requests in flight together, so the
  // implicit marks (and the room loads they start) overlap and race.
  std::vector<std::map<std::string, uint64_t>> own(kUsers);  // user -> room -> newest own seq
  std::map<std::string, uint64_t> last_seq;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::vector<std::pair<std::string, uint64_t>>> ids(kUsers);
    for (int u = 0; u < kUsers; ++u)
      for (const std::string& room : rooms)
        ids[u].emplace_back(room, send_async(*users[u].client, room));
    for (int u = 0; u < kUsers; ++u)
      for (auto& [room, id] : ids[u]) {
        uint64_t seq = seq_of_response(*users[u].client, id);
        ASSERT_GT(seq, 0u);
        own[u][room] = std::max(own[u][room], seq);
        last_seq[room] = std::max(last_seq[room], seq);
      }
    // Right after the Responses, each sender's own reads are visible.
    for (int u = 0; u < kUsers; ++u) {
      auto rows = get_unread(*users[u].client);
      ASSERT_TRUE(rows);
      for (const std::string& room : rooms) {
        auto row = unread_of(*rows, room);
        ASSERT_TRUE(row);
        EXPECT_EQ(row->last_seq, last_seq[room]);
        EXPECT_EQ(row->read_seq, own[u][room])
            << "round " << round << " user " << u << ": own read lost or not yet visible";
      }
    }
  }
  // Nothing went backwards or got lost once everything settled: every
  // member's receipt in every room is its newest own message.
  for (const std::string& room : rooms) {
    auto list = get_receipts(*users[0].client, room);
    ASSERT_TRUE(list);
    for (int u = 0; u < kUsers; ++u) {
      auto r = receipt_of(*list, users[u].user.id);
      ASSERT_TRUE(r);
      EXPECT_EQ(r->read_seq, own[u][room]) << "user " << u;
    }
  }
}

}  // namespace
}  // namespace parley::test::receipts
