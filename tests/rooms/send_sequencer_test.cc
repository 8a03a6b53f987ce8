// Unit tests of the per-room send ordering (send_sequencer.h).
#include "send_sequencer.h"

#include <gtest/gtest.h>

namespace parley::rooms_plugin {
namespace {

using Batch = std::vector<std::pair<uint64_t, uint64_t>>;

TEST(SendSequencer, SeqsFollowArrivalOrderEvenWhenChecksFinishOutOfOrder) {
  SendSequencer s(0);
  s.enqueue(1);
  s.enqueue(2);
  s.enqueue(3);
  s.resolve(3, false);
  s.resolve(2, false);
  EXPECT_TRUE(s.take(10).batch.empty());  // 1 still checking: nobody may pass it
  s.resolve(1, false);
  auto step = s.take(10);
  EXPECT_EQ(step.batch, (Batch{{1, 1}, {2, 2}, {3, 3}}));
  EXPECT_TRUE(s.commit_in_flight());
}

TEST(SendSequencer, OneCommitInFlightAndWaitersGroupIntoTheNext) {
  SendSequencer s(5);
  s.enqueue(1);
  s.resolve(1, false);
  EXPECT_EQ(s.take(10).batch, (Batch{{1, 6}}));
  for (uint64_t t = 2; t <= 4; ++t) {
    s.enqueue(t);
    s.resolve(t, false);
  }
  EXPECT_TRUE(s.take(10).batch.empty());  // in flight: wait
  s.commit_done(true);
  EXPECT_EQ(s.last_seq(), 6u);
  EXPECT_EQ(s.take(10).batch, (Batch{{2, 7}, {3, 8}, {4, 9}}));
  s.commit_done(true);
  EXPECT_EQ(s.last_seq(), 9u);
  EXPECT_TRUE(s.idle());
}

TEST(SendSequencer, AFailedCommitLeavesNoGap) {
  SendSequencer s(10);
  s.enqueue(1);
  s.enqueue(2);
  s.resolve(1, false);
  s.resolve(2, false);
  EXPECT_EQ(s.take(10).batch, (Batch{{1, 11}, {2, 12}}));
  s.commit_done(false);
  EXPECT_EQ(s.last_seq(), 10u);
  s.enqueue(3);
  s.resolve(3, false);
  EXPECT_EQ(s.take(10).batch, (Batch{{3, 11}}));  // 11 is reused: no gap
  s.commit_done(true);
  EXPECT_EQ(s.last_seq(), 11u);
}

TEST(SendSequencer, DuplicatesTakeNoSeq) {
  SendSequencer s(0);
  s.enqueue(1);
  s.enqueue(2);
  s.enqueue(3);
  s.resolve(1, false);
  s.resolve(2, true);
  s.resolve(3, false);
  auto step = s.take(10);
  EXPECT_EQ(step.duplicates, (std::vector<uint64_t>{2}));
  EXPECT_EQ(step.batch, (Batch{{1, 1}, {3, 2}}));
}

TEST(SendSequencer, DuplicatesAtTheHeadPassWhileACommitIsInFlight) {
  SendSequencer s(0);
  s.enqueue(1);
  s.resolve(1, false);
  s.take(10);
  s.enqueue(2);
  s.enqueue(3);
  s.resolve(2, true);
  s.resolve(3, false);
  auto step = s.take(10);
  EXPECT_EQ(step.duplicates, (std::vector<uint64_t>{2}));
  EXPECT_TRUE(step.batch.empty());
  EXPECT_EQ(s.queued(), 1u);
}

TEST(SendSequencer, BatchesAreCapped) {
  SendSequencer s(0);
  for (uint64_t t = 1; t <= 5; ++t) {
    s.enqueue(t);
    s.resolve(t, false);
  }
  EXPECT_EQ(s.take(2).batch.size(), 2u);
  s.commit_done(true);
  EXPECT_EQ(s.take(2).batch, (Batch{{3, 3}, {4, 4}}));
  s.commit_done(true);
  EXPECT_EQ(s.take(2).batch, (Batch{{5, 5}}));
  s.commit_done(true);
  EXPECT_EQ(s.last_seq(), 5u);
}

TEST(SendSequencer, ResolveOfUnknownTokenIsRefused) {
  SendSequencer s(0);
  EXPECT_FALSE(s.resolve(42, false));
  s.enqueue(1);
  EXPECT_TRUE(s.resolve(1, false));
  EXPECT_FALSE(s.resolve(1, false));
}

// Many rounds of random failures: the durable seqs are exactly 1..last_seq.
TEST(SendSequencer, RandomFailuresKeepSeqsContiguous) {
  SendSequencer s(0);
  uint64_t token = 0, durable = 0;
  uint32_t rng = 12345;
  auto next = [&] { return rng = rng * 1103515245u + 12345u; };
  for (int round = 0; round < 500; ++round) {
    int n = 1 + next() % 4;
    for (int i = 0; i < n; ++i) {
      s.enqueue(++token);
      s.resolve(token, false);
    }
    auto step = s.take(3);
    if (step.batch.empty()) continue;
    EXPECT_EQ(step.batch.front().second, durable + 1);
    for (size_t i = 1; i < step.batch.size(); ++i)
      EXPECT_EQ(step.batch[i].second, step.batch[i - 1].second + 1);
    bool ok = next() % 3 != 0;
    s.commit_done(ok);
    if (ok) durable = step.batch.back().second;
    EXPECT_EQ(s.last_seq(), durable);
  }
}

}  // namespace
}  // namespace parley::rooms_plugin
