// The receipts plugin's pure rules and in-memory model: watermarks move only
// forward, clamp and drag delivered along; keys and values round-trip;
// marks park on the batch that makes them durable; user indexes follow
// membership changes; the flush policy throttles with a leading edge.
#include "receipts_logic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "receipts_state.h"

namespace parley::receipts {
namespace {

const std::string kRoom = "0192f1c4-7d2a-7b3e-9f00-000000000001";
const std::string kRoom2 = "0192f1c4-7d2a-7b3e-9f00-000000000002";
const std::string kAlice = "0192f1c4-7d2a-7b3e-9f00-00000000000a";
const std::string kBob = "0192f1c4-7d2a-7b3e-9f00-00000000000b";
const std::string kCarol = "0192f1c4-7d2a-7b3e-9f00-00000000000c";

// ------------------------------------------------------------ watermarks ---

TEST(ReceiptsWatermark, ReadImpliesDelivered) {
  Watermark w = apply_mark({}, MarkKind::Read, 5, 100);
  EXPECT_EQ(w.read_seq, 5u);
  EXPECT_EQ(w.delivered_seq, 5u);
  EXPECT_EQ(w.updated_at, 100u);
}

TEST(ReceiptsWatermark, DeliveredDoesNotMoveRead) {
  Watermark w = apply_mark({}, MarkKind::Delivered, 7, 100);
  EXPECT_EQ(w.read_seq, 0u);
  EXPECT_EQ(w.delivered_seq, 7u);
}

TEST(ReceiptsWatermark, OnlyMovesForwardAndKeepsUpdatedAtWhenNothingMoves) {
  Watermark w{5, 9, 100};
  Watermark lower = apply_mark(w, MarkKind::Read, 3, 200);
  EXPECT_EQ(lower, w);
  Watermark lower_delivered = apply_mark(w, MarkKind::Delivered, 8, 200);
  EXPECT_EQ(lower_delivered, w);
  Watermark read_below_delivered = apply_mark(w, MarkKind::Read, 7, 300);
  EXPECT_EQ(read_below_delivered.read_seq, 7u);
  EXPECT_EQ(read_below_delivered.delivered_seq, 9u);
  EXPECT_EQ(read_below_delivered.updated_at, 300u);
}

TEST(ReceiptsWatermark, ClampToLastSeq) {
  EXPECT_EQ(clamp_seq(100, 12), 12u);
  EXPECT_EQ(clamp_seq(3, 12), 3u);
  EXPECT_EQ(clamp_seq(5, 0), 0u);
}

TEST(ReceiptsWatermark, CoversAndMerge) {
  Watermark w{4, 6, 1};
  EXPECT_TRUE(covers(w, MarkKind::Read, 4));
  EXPECT_FALSE(covers(w, MarkKind::Read, 5));
  EXPECT_TRUE(covers(w, MarkKind::Delivered, 6));
  EXPECT_FALSE(covers(w, MarkKind::Delivered, 7));
  Watermark m = merge({4, 6, 1}, {8, 2, 5});
  EXPECT_EQ(m.read_seq, 8u);
  EXPECT_EQ(m.delivered_seq, 8u);  // read implies delivered also across merges
  EXPECT_EQ(m.updated_at, 5u);
}

TEST(ReceiptsWatermark, UnreadNeverNegative) {
  EXPECT_EQ(unread_count(10, 4), 6u);
  EXPECT_EQ(unread_count(4, 10), 0u);
  EXPECT_EQ(unread_count(0, 0), 0u);
}

// --------------------------------------------------------------- storage ---

TEST(ReceiptsKeys, RoundTripAndPrefixes) {
  std::string rk = room_key(kRoom, kAlice);
  std::string uk = user_key(kAlice, kRoom);
  EXPECT_EQ(rk.rfind(room_prefix(kRoom), 0), 0u);
  EXPECT_EQ(uk.rfind(user_prefix(kAlice), 0), 0u);
  EXPECT_NE(rk, uk);
  auto r = parse_room_key(rk);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, kRoom);
  EXPECT_EQ(r->second, kAlice);
  auto u = parse_user_key(uk);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->first, kAlice);
  EXPECT_EQ(u->second, kRoom);
  EXPECT_FALSE(parse_user_key(rk));  // wrong family
  EXPECT_FALSE(parse_room_key(rk.substr(0, rk.size() - 1)));
  EXPECT_FALSE(parse_room_key(""));
}

TEST(ReceiptsKeys, WatermarkValueRoundTrips) {
  Watermark w{12, 40, 1732550000123ull};
  auto back = decode_watermark(encode_watermark(w));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, w);
  EXPECT_FALSE(decode_watermark("short"));
}

// ----------------------------------------------------------------- state ---

ReceiptState known_room() {
  ReceiptState s;
  s.observe_room(kRoom, 10, 1, {kAlice, kBob});
  s.room_receipts_loaded(kRoom);
  return s;
}

TEST(ReceiptsState, MarkParksOnOpenBatchThenIsDurableAfterCommit) {
  ReceiptState s = known_room();
  uint64_t b = s.mark(kRoom, kAlice, MarkKind::Read, 4, 100);
  EXPECT_NE(b, 0u);
  EXPECT_EQ(b, s.open_batch_id());
  EXPECT_EQ(s.durable(kRoom, kAlice).read_seq, 0u);  // not visible before durable
  Batch batch = s.take_batch();
  EXPECT_EQ(batch.id, b);
  ASSERT_EQ(batch.entries.size(), 1u);
  EXPECT_EQ(batch.entries[0].value.read_seq, 4u);
  auto moved = s.commit_succeeded(batch);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].value.read_seq, 4u);
  EXPECT_EQ(moved[0].value.delivered_seq, 4u);
  EXPECT_EQ(s.durable(kRoom, kAlice).read_seq, 4u);
  // The same mark again, or a lower one, is already durable.
  EXPECT_EQ(s.mark(kRoom, kAlice, MarkKind::Read, 4, 200), 0u);
  EXPECT_EQ(s.mark(kRoom, kAlice, MarkKind::Read, 2, 200), 0u);
  EXPECT_EQ(s.mark(kRoom, kAlice, MarkKind::Delivered, 3, 200), 0u);
  EXPECT_FALSE(s.has_dirty());
}

TEST(ReceiptsState, BurstOfMarksCoalescesIntoOneEntryWithTheNewestValue) {
  ReceiptState s = known_room();
  uint64_t first = s.mark(kRoom, kAlice, MarkKind::Read, 1, 100);
  for (uint64_t seq = 2; seq <= 9; ++seq)
    EXPECT_EQ(s.mark(kRoom, kAlice, MarkKind::Read, seq, 100 + seq), first);
  EXPECT_EQ(s.mark(kRoom, kBob, MarkKind::Delivered, 10, 120), first);
  EXPECT_EQ(s.dirty_count(), 2u);
  Batch b = s.take_batch();
  ASSERT_EQ(b.entries.size(), 2u);
  EXPECT_EQ(b.entries[0].value.read_seq, 9u);
  EXPECT_EQ(b.entries[0].value.updated_at, 109u);
  EXPECT_EQ(b.entries[1].value.delivered_seq, 10u);
  EXPECT_EQ(s.commit_succeeded(b).size(), 2u);
}

TEST(ReceiptsState, MarkCoveredByAnInFlightBatchWaitsForThatBatch) {
  ReceiptState s = known_room();
  s.mark(kRoom, kAlice, MarkKind::Read, 6, 100);
  Batch inflight = s.take_batch();
  // Covered by the in-flight value: parks on it, nothing new is dirty.
  EXPECT_EQ(s.mark(kRoom, kAlice, MarkKind::Read, 5, 101), inflight.id);
  EXPECT_EQ(s.mark(kRoom, kAlice, MarkKind::Delivered, 6, 101), inflight.id);
  EXPECT_FALSE(s.has_dirty());
  // Beyond it: the next batch.
  uint64_t next = s.mark(kRoom, kAlice, MarkKind::Read, 8, 102);
  EXPECT_NE(next, inflight.id);
  EXPECT_EQ(next, s.open_batch_id());
  // Once dirty again, even a covered mark waits for the open batch (whose
  // value includes it), never for nothing.
  EXPECT_EQ(s.mark(kRoom, kAlice, MarkKind::Read, 7, 103), next);
}

TEST(ReceiptsState, CommitsCompletingOutOfOrderNeverMoveBackwards) {
  ReceiptState s = known_room();
  s.mark(kRoom, kAlice, MarkKind::Read, 3, 100);
  Batch b1 = s.take_batch();
  s.mark(kRoom, kAlice, MarkKind::Read, 7, 101);
  Batch b2 = s.take_batch();
  EXPECT_EQ(s.commit_succeeded(b2).size(), 1u);
  EXPECT_EQ(s.commit_succeeded(b1).size(), 0u);  // older: nothing moves
  EXPECT_EQ(s.durable(kRoom, kAlice).read_seq, 7u);
}

TEST(ReceiptsState, FailedCommitRollsBackPendingSoTheMarkCanBeRetried) {
  ReceiptState s = known_room();
  uint64_t b = s.mark(kRoom, kAlice, MarkKind::Read, 5, 100);
  Batch batch = s.take_batch();
  EXPECT_EQ(batch.id, b);
  s.commit_failed(batch);
  EXPECT_EQ(s.durable(kRoom, kAlice).read_seq, 0u);
  // The retry is not mistaken for already covered.
  uint64_t retry = s.mark(kRoom, kAlice, MarkKind::Read, 5, 200);
  EXPECT_NE(retry, 0u);
  EXPECT_TRUE(s.has_dirty());
}

TEST(ReceiptsState, StoredReceiptsNeverOverwriteMemory) {
  ReceiptState s = known_room();
  s.mark(kRoom, kAlice, MarkKind::Read, 8, 100);
  s.commit_succeeded(s.take_batch());
  s.load_receipt(kRoom, kAlice, Watermark{2, 2, 1});  // an older scan answer
  EXPECT_EQ(s.durable(kRoom, kAlice).read_seq, 8u);
  s.load_receipt(kRoom, kBob, Watermark{3, 4, 1});
  EXPECT_EQ(s.durable(kRoom, kBob).delivered_seq, 4u);
}

TEST(ReceiptsState, ReceiptKnownThroughRoomOrUserLoad) {
  ReceiptState s;
  EXPECT_FALSE(s.receipt_known(kRoom, kAlice));
  s.user_receipts_loaded(kAlice);
  EXPECT_TRUE(s.receipt_known(kRoom, kAlice));
  EXPECT_FALSE(s.receipt_known(kRoom, kBob));
  s.room_receipts_loaded(kRoom);
  EXPECT_TRUE(s.receipt_known(kRoom, kBob));
}

// The sender's implicit read noted before the room's receipts are loaded:
// the load merges into it, never drops or lowers it (regression for the
// implicit read racing a concurrent load).
TEST(ReceiptsState, ImplicitReadBeforeLoadSurvivesTheLoadAndIsWritten) {
  ReceiptState s;
  s.observe_room(kRoom, 9, 1, {kAlice, kBob});
  s.mark_before_load(kRoom, kBob, MarkKind::Read, 7, 100);
  EXPECT_FALSE(s.receipt_known(kRoom, kBob));  // explicit marks still load first
  EXPECT_FALSE(s.has_dirty());                  // not writable before the stored value is known
  // The scan answers an older stored value: merged, ahead of it, dirty.
  s.load_receipt(kRoom, kBob, Watermark{3, 5, 50});
  s.load_receipt(kRoom, kAlice, Watermark{2, 2, 40});
  s.room_receipts_loaded(kRoom);
  EXPECT_TRUE(s.receipt_known(kRoom, kBob));
  EXPECT_EQ(s.durable(kRoom, kBob).read_seq, 3u);
  EXPECT_EQ(s.pending_batches_of(kRoom, kBob), std::vector<uint64_t>{s.open_batch_id()});
  EXPECT_TRUE(s.pending_batches_of(kRoom, kAlice).empty());
  Batch b = s.take_batch();
  ASSERT_EQ(b.entries.size(), 1u);
  EXPECT_EQ(b.entries[0].user_id, kBob);
  EXPECT_EQ(b.entries[0].value.read_seq, 7u);
  EXPECT_EQ(b.entries[0].value.delivered_seq, 7u);
  EXPECT_EQ(s.pending_batches_of(kRoom, kBob), std::vector<uint64_t>{b.id});
  s.commit_succeeded(b);
  EXPECT_EQ(s.durable(kRoom, kBob).read_seq, 7u);
  EXPECT_TRUE(s.pending_batches_of(kRoom, kBob).empty());
  // A second (stale) scan answer changes nothing any more.
  s.load_receipt(kRoom, kBob, Watermark{3, 5, 50});
  EXPECT_EQ(s.durable(kRoom, kBob).read_seq, 7u);
}

TEST(ReceiptsState, StoredReceiptAheadOfAnImplicitReadWins) {
  ReceiptState s;
  s.mark_before_load(kRoom, kBob, MarkKind::Read, 4, 100);
  s.load_receipt(kRoom, kBob, Watermark{6, 8, 90});
  s.room_receipts_loaded(kRoom);
  EXPECT_EQ(s.durable(kRoom, kBob).read_seq, 6u);
  EXPECT_FALSE(s.has_dirty());  // nothing to write: storage is ahead
}

TEST(ReceiptsState, ImplicitReadWithNoStoredReceiptSettlesOnUserLoad) {
  ReceiptState s;
  s.mark_before_load(kRoom, kBob, MarkKind::Read, 2, 100);
  s.mark_before_load(kRoom2, kBob, MarkKind::Read, 5, 100);
  s.index_load_started(kBob);
  s.observe_room(kRoom, 2, 1, {kAlice, kBob});
  s.observe_room(kRoom2, 5, 2, {kBob, kCarol});
  s.index_loaded(kBob, {kRoom, kRoom2});
  s.user_receipts_loaded(kBob);  // the scan found nothing stored
  EXPECT_EQ(s.dirty_count(), 2u);
  // unread waits for the open batch, then shows both reads.
  EXPECT_EQ(s.pending_batches_of_user(kBob), std::vector<uint64_t>{s.open_batch_id()});
  s.commit_succeeded(s.take_batch());
  EXPECT_TRUE(s.pending_batches_of_user(kBob).empty());
  for (const UnreadRow& r : s.unread_of(kBob)) EXPECT_EQ(r.unread, 0u) << *r.room_id;
}

// --------------------------------------------------------- user indexes ---

std::vector<std::string> unread_rooms(const ReceiptState& s, const std::string& user) {
  std::vector<std::string> out;
  for (const UnreadRow& r : s.unread_of(user)) out.push_back(*r.room_id);
  return out;
}

TEST(ReceiptsState, LoadedIndexFollowsJoinsAndRemovals) {
  ReceiptState s;
  s.index_load_started(kCarol);
  s.observe_room(kRoom, 5, 10, {kAlice, kCarol});
  s.index_loaded(kCarol, {kRoom});
  s.user_receipts_loaded(kCarol);
  EXPECT_EQ(unread_rooms(s, kCarol), std::vector<std::string>{kRoom});
  // Carol joins room 2 (rooms.room_changed), later leaves room 1.
  s.observe_room(kRoom2, 3, 20, {kBob, kCarol});
  EXPECT_EQ(unread_rooms(s, kCarol), (std::vector<std::string>{kRoom2, kRoom}));
  s.observe_room(kRoom, 5, 10, {kAlice});
  EXPECT_EQ(unread_rooms(s, kCarol), std::vector<std::string>{kRoom2});
}

TEST(ReceiptsState, ChangesDuringIndexLoadWinOverTheLoadedList) {
  ReceiptState s;
  s.observe_room(kRoom, 5, 10, {kAlice, kCarol});
  s.index_load_started(kCarol);
  s.observe_room(kRoom, 5, 10, {kAlice});         // removed meanwhile
  s.observe_room(kRoom2, 1, 30, {kBob, kCarol});  // added meanwhile
  s.index_loaded(kCarol, {kRoom});                // an older answer
  s.user_receipts_loaded(kCarol);
  EXPECT_EQ(unread_rooms(s, kCarol), std::vector<std::string>{kRoom2});
}

TEST(ReceiptsState, ObserveRoomIdsFollowsChangesAndNeverMovesLastSeqBack) {
  ReceiptState s;
  s.index_load_started(kCarol);
  s.index_loaded(kCarol, {});
  s.user_receipts_loaded(kCarol);
  const char* two[] = {kAlice.c_str(), kBob.c_str()};
  s.observe_room_ids(kRoom, 8, 5, two, 2);
  EXPECT_TRUE(s.unread_of(kCarol).empty());
  const char* three[] = {kAlice.c_str(), kBob.c_str(), kCarol.c_str()};
  s.observe_room_ids(kRoom, 6, 5, three, 3);  // an answer with an older last_seq
  auto rows = s.unread_of(kCarol);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].last_seq, 8u);
  EXPECT_EQ(rows[0].unread, 8u);
  EXPECT_EQ(s.find_room(kRoom)->members.size(), 3u);
  s.observe_room_ids(kRoom, 9, 6, three, 3);  // same members: only the seq moves
  EXPECT_EQ(s.unread_of(kCarol)[0].last_seq, 9u);
  s.observe_room_ids(kRoom, 9, 6, two, 2);
  EXPECT_TRUE(s.unread_of(kCarol).empty());
}

TEST(ReceiptsState, UnreadIsLastSeqMinusDurableReadAndFollowsMessages) {
  ReceiptState s;
  s.index_load_started(kAlice);
  s.observe_room(kRoom, 10, 1, {kAlice, kBob});
  s.index_loaded(kAlice, {kRoom});
  s.user_receipts_loaded(kAlice);
  auto rows = s.unread_of(kAlice);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].unread, 10u);
  s.mark(kRoom, kAlice, MarkKind::Read, 4, 100);
  EXPECT_EQ(s.unread_of(kAlice)[0].unread, 10u);  // pending is not visible
  s.commit_succeeded(s.take_batch());
  EXPECT_EQ(s.unread_of(kAlice)[0].unread, 6u);
  s.observe_message(kRoom, 11, 200);
  rows = s.unread_of(kAlice);
  EXPECT_EQ(rows[0].last_seq, 11u);
  EXPECT_EQ(rows[0].read_seq, 4u);
  EXPECT_EQ(rows[0].unread, 7u);
  s.observe_message(kRoom, 9, 300);  // late or duplicate topic: never backwards
  EXPECT_EQ(s.unread_of(kAlice)[0].last_seq, 11u);
}

TEST(ReceiptsState, UnreadOverThousandRoomsIsFast) {
  ReceiptState s;
  s.index_load_started(kAlice);
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    char id[40];
    std::snprintf(id, sizeof id, "0192f1c4-7d2a-7b3e-9f00-%012d", i);
    ids.emplace_back(id);
    s.observe_room(ids.back(), 50 + i, i, {kAlice, kBob});
    s.load_receipt(ids.back(), kAlice, Watermark{static_cast<uint64_t>(i % 50), 50, 1});
  }
  s.index_loaded(kAlice, ids);
  s.user_receipts_loaded(kAlice);
  // The best of five runs: the machine is shared, a single run may be
  // preempted.
  std::vector<UnreadRow> rows;
  double us = 1e9;
  for (int run = 0; run < 5; ++run) {
    auto start = std::chrono::steady_clock::now();
    rows = s.unread_of(kAlice);
    us = std::min(
        us, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                .count());
  }
  ASSERT_EQ(rows.size(), 1000u);
  EXPECT_EQ(rows[0].last_seq, 50u + 999u);  // newest activity first
  EXPECT_EQ(rows[0].unread, 1049u - 999u % 50u);
  // A generous bound for a loaded CI machine; typical is ~100 µs.
  EXPECT_LT(us, 5000.0);
  std::printf("unread_of over 1000 rooms: %.1f us\n", us);
}

// --------------------------------------------------------- flush policy ---

TEST(ReceiptsFlushPolicy, ZeroWindowFlushesEveryTime) {
  FlushPolicy p(0);
  EXPECT_TRUE(p.should_flush());
  EXPECT_FALSE(p.flush_started());
  EXPECT_TRUE(p.should_flush());  // even with a commit in flight
  EXPECT_FALSE(p.flush_started());
  EXPECT_EQ(p.in_flight(), 2);
}

TEST(ReceiptsFlushPolicy, LeadingEdgeThenOnePerWindowAfterTheCommit) {
  FlushPolicy p(100);
  EXPECT_TRUE(p.should_flush());   // idle: a lone mark goes at once
  EXPECT_TRUE(p.flush_started());  // caller starts the window timer
  EXPECT_FALSE(p.should_flush());  // in flight and cooling
  p.flush_finished();
  EXPECT_FALSE(p.should_flush());  // still in the window
  p.window_ended();
  EXPECT_TRUE(p.should_flush());
  EXPECT_TRUE(p.flush_started());
  p.window_ended();
  EXPECT_FALSE(p.should_flush());  // window over, commit still in flight
  p.flush_finished();
  EXPECT_TRUE(p.should_flush());
}

}  // namespace
}  // namespace parley::receipts
