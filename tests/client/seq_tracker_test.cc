// The delivery rules behind the client's exactly-once, in-order rooms.message
// stream: repeats dropped, gaps held back until filled, own sends silent.
#include "seq_tracker.h"

#include <gtest/gtest.h>

namespace parley::client {
namespace {

Message msg(uint64_t seq, const std::string& room = "r") {
  Message m;
  m.room_id = room;
  m.seq = seq;
  m.text = "m" + std::to_string(seq);
  return m;
}

std::vector<uint64_t> seqs(const std::vector<Message>& ms) {
  std::vector<uint64_t> out;
  for (const auto& m : ms) out.push_back(m.seq);
  return out;
}

const auto kAll = [](const Message&) { return true; };

TEST(SeqTracker, NewRoomStartsAtFirstSeenMessage) {
  SeqTracker t;
  EXPECT_EQ(seqs(t.offer(msg(1), true)), std::vector<uint64_t>{1});
  EXPECT_EQ(seqs(t.offer(msg(2), true)), std::vector<uint64_t>{2});
  EXPECT_EQ(t.last("r"), 2u);
}

TEST(SeqTracker, RepeatsAreDropped) {
  SeqTracker t;
  t.baseline("r", 3);
  EXPECT_TRUE(t.offer(msg(3), true).empty());
  EXPECT_TRUE(t.offer(msg(2), true).empty());
  EXPECT_EQ(seqs(t.offer(msg(4), true)), std::vector<uint64_t>{4});
  EXPECT_TRUE(t.offer(msg(4), true).empty());
}

TEST(SeqTracker, GapWaitsForFetchThenDeliversInOrder) {
  SeqTracker t;
  t.baseline("r", 1);
  EXPECT_TRUE(t.offer(msg(4), true).empty());
  auto after = t.start_fetch("r");
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, 1u);
  EXPECT_FALSE(t.start_fetch("r")) << "one fetch at a time";
  bool again = true;
  auto out = t.finish_fetch("r", {msg(2), msg(3), msg(4)}, false, kAll, &again);
  EXPECT_EQ(seqs(out), (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_FALSE(again);
  EXPECT_EQ(t.last("r"), 4u);
}

TEST(SeqTracker, OwnSendsAdvanceSilently) {
  SeqTracker t;
  t.baseline("r", 0);
  EXPECT_TRUE(t.offer(msg(1), false).empty());
  EXPECT_EQ(seqs(t.offer(msg(2), true)), std::vector<uint64_t>{2});
  // An own send acknowledged before the live message before it.
  EXPECT_TRUE(t.offer(msg(4), false).empty());
  EXPECT_EQ(seqs(t.offer(msg(3), true)), std::vector<uint64_t>{3});
  EXPECT_EQ(t.last("r"), 4u);
}

TEST(SeqTracker, CatchUpAfterReconnectFetchesPastKnownLastSeq) {
  SeqTracker t;
  t.baseline("r", 5);
  EXPECT_FALSE(t.start_fetch("r", 5)) << "nothing new";
  auto after = t.start_fetch("r", 9);
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, 5u);
  bool again = false;
  auto out = t.finish_fetch("r", {msg(6), msg(7)}, true, kAll, &again);
  EXPECT_EQ(seqs(out), (std::vector<uint64_t>{6, 7}));
  EXPECT_TRUE(again) << "has_more";
}

TEST(SeqTracker, FetchWithoutProgressStops) {
  SeqTracker t;
  t.baseline("r", 1);
  t.offer(msg(5), true);
  ASSERT_TRUE(t.start_fetch("r"));
  bool again = true;
  EXPECT_TRUE(t.finish_fetch("r", {}, false, kAll, &again).empty());
  EXPECT_FALSE(again);
}

TEST(SeqTracker, FetchedOwnMessagesAreNotDelivered) {
  SeqTracker t;
  t.baseline("r", 0);
  t.offer(msg(3), true);
  ASSERT_TRUE(t.start_fetch("r"));
  bool again = false;
  auto out = t.finish_fetch("r", {msg(1), msg(2), msg(3)}, false,
                            [](const Message& m) { return m.seq != 2; }, &again);
  EXPECT_EQ(seqs(out), (std::vector<uint64_t>{1, 3}));
}

TEST(SeqTracker, RoomsAreIndependent) {
  SeqTracker t;
  t.baseline("a", 10);
  EXPECT_EQ(seqs(t.offer(msg(1, "b"), true)), std::vector<uint64_t>{1});
  EXPECT_EQ(seqs(t.offer(msg(11, "a"), true)), std::vector<uint64_t>{11});
  EXPECT_EQ(t.last("a"), 11u);
  EXPECT_EQ(t.last("b"), 1u);
  EXPECT_EQ(t.last("c"), 0u);
}

}  // namespace
}  // namespace parley::client
