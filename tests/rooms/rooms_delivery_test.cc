// Order and gap-freedom of fanout: 1,000 pipelined sends into one group,
// received by three other members, one of them on two devices.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "rooms_test_client.h"

namespace parley::test::rooms {
namespace {

// Sends n messages pipelined (at most `window` unanswered, below the
// kernel's max_inflight_requests) and returns seq by request order.
std::vector<uint64_t> pipelined_sends(Client& c, const std::string& room, int n,
                                      const std::string& prefix, int window = 128) {
  std::map<uint64_t, int> index;  // request id -> send number
  std::vector<uint64_t> seq(n, 0);
  int sent = 0, answered = 0;
  while (answered < n) {
    while (sent < n && sent - answered < window) {
      uint64_t id = c.send("rooms.send", send(room, prefix + std::to_string(sent), "msg " +
                                                                   std::to_string(sent)));
      index[id] = sent++;
    }
    auto in = c.read(10000);
    if (!in) {
      ADD_FAILURE() << "no response after " << answered << " answers";
      break;
    }
    if (in->kind != parley::Kind::Response) continue;
    auto it = index.find(in->id);
    if (it == index.end()) continue;
    EXPECT_TRUE(in->ok()) << in->status << " " << in->error;
    if (auto* m = as_message(*in)) seq[it->second] = m->seq();
    ++answered;
  }
  return seq;
}

// Reads rooms.message events of `room` until n arrived (or a timeout).
std::vector<uint64_t> received_seqs(Client& c, const std::string& room, size_t n) {
  std::vector<uint64_t> out;
  while (out.size() < n) {
    auto ev = c.next_event("rooms.message", 10000);
    if (!ev) break;
    auto* m = as_message(*ev);
    if (m && m->room_id()->str() == room) out.push_back(m->seq());
  }
  return out;
}

TEST(RoomsDelivery, ThousandPipelinedSendsArriveOnceInOrderOnEveryDevice) {
  auto server = start_server();
  ASSERT_TRUE(server);
  Device a = new_user(*server, "sender"), b = new_user(*server, "b"),
         c = new_user(*server, "c"), d = new_user(*server, "d");
  auto d2 = second_device(*server, d.user);
  Incoming r = a.client->call("rooms.create", create("load", {b.user.id, c.user.id, d.user.id}));
  ASSERT_TRUE(r.ok()) << r.error;
  std::string room = as_room(r)->room_id()->str();
  for (Client* cl : {b.client.get(), c.client.get(), d.client.get(), d2.get()})
    cl->drain_events(100);

  constexpr int kN = 1000;
  std::vector<uint64_t> seq = pipelined_sends(*a.client, room, kN, "p-");
  // Acknowledged seqs are 1..N in request order: arrival order is seq order.
  for (int i = 0; i < kN; ++i) ASSERT_EQ(seq[i], static_cast<uint64_t>(i + 1)) << "send " << i;

  std::vector<uint64_t> want(kN);
  for (int i = 0; i < kN; ++i) want[i] = i + 1;
  for (Client* cl : {b.client.get(), c.client.get(), d.client.get(), d2.get()}) {
    std::vector<uint64_t> got = received_seqs(*cl, room, kN);
    EXPECT_EQ(got, want);
    EXPECT_FALSE(cl->next_event("rooms.message", 200)) << "no extra events";
  }
  EXPECT_FALSE(a.client->next_event("rooms.message", 200)) << "the sending connection gets none";
  Incoming g = b.client->call("rooms.get", room_ref(room));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(as_room(g)->last_seq(), static_cast<uint64_t>(kN));
}

TEST(RoomsDelivery, ConcurrentSendersInOneRoomShareOneGapFreeSequence) {
  auto server = start_server();
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b"), obs = new_user(*server, "o");
  Incoming r = a.client->call("rooms.create", create("two", {b.user.id, obs.user.id}));
  ASSERT_TRUE(r.ok());
  std::string room = as_room(r)->room_id()->str();
  obs.client->drain_events(100);
  // Interleave pipelined batches from two senders.
  constexpr int kPer = 150;
  std::vector<uint64_t> ia, ib;
  for (int i = 0; i < kPer; ++i) {
    ia.push_back(a.client->send("rooms.send", send(room, "a" + std::to_string(i), "x")));
    ib.push_back(b.client->send("rooms.send", send(room, "b" + std::to_string(i), "y")));
  }
  std::vector<uint64_t> all;
  for (uint64_t id : ia) {
    auto in = a.client->read_response(id, 10000);
    ASSERT_TRUE(in && in->ok());
    all.push_back(as_message(*in)->seq());
  }
  for (uint64_t id : ib) {
    auto in = b.client->read_response(id, 10000);
    ASSERT_TRUE(in && in->ok());
    all.push_back(as_message(*in)->seq());
  }
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], i + 1);
  std::vector<uint64_t> got = received_seqs(*obs.client, room, 2 * kPer);
  ASSERT_EQ(got.size(), 2u * kPer);
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], i + 1);
}

}  // namespace
}  // namespace parley::test::rooms
