// The crash test's history check must catch what it claims to catch.
#include <gtest/gtest.h>

#include "ledger.h"

namespace parley::test::crash {
namespace {

SentMessage sent(const std::string& id, bool acked, uint64_t seq) {
  return {"r", id, "text " + id, acked, seq, acked ? "m-" + id : ""};
}
StoredMessage stored(uint64_t seq, const std::string& id) {
  return {seq, "m-" + id, id, "text " + id};
}

struct Fixture {
  std::vector<SentMessage> sent_ = {sent("a", true, 1), sent("b", true, 2), sent("c", false, 0)};
  std::vector<const SentMessage*> all() const {
    std::vector<const SentMessage*> out;
    for (const auto& m : sent_) out.push_back(&m);
    return out;
  }
};

TEST(Ledger, AConsistentHistoryPasses) {
  Fixture f;
  auto r = check_room("r", {stored(1, "a"), stored(2, "b"), stored(3, "c")}, 0, 3, f.all(), true);
  EXPECT_TRUE(r.problems.empty());
  EXPECT_EQ(r.acked_found, 2u);
  EXPECT_EQ(r.unacked_found, 1u);
}

TEST(Ledger, AnUnackedMessageMayBeAbsentUntilTheFinalCheck) {
  Fixture f;
  std::vector<StoredMessage> s = {stored(1, "a"), stored(2, "b")};
  EXPECT_TRUE(check_room("r", s, 0, 2, f.all(), false).problems.empty());
  EXPECT_EQ(check_room("r", s, 0, 2, f.all(), true).problems.size(), 1u);
}

TEST(Ledger, LossGapDuplicateMoveAndStrangersAreProblems) {
  Fixture f;
  // Acked "b" lost (last seq below it).
  EXPECT_FALSE(check_room("r", {stored(1, "a")}, 0, 1, f.all(), false).problems.empty());
  // A gap at 2.
  EXPECT_FALSE(check_room("r", {stored(1, "a"), stored(3, "b")}, 0, 3, f.all(), false)
                   .problems.empty());
  // "c" stored twice.
  EXPECT_FALSE(check_room("r", {stored(1, "a"), stored(2, "b"), stored(3, "c"), stored(4, "c")},
                          0, 4, f.all(), false)
                   .problems.empty());
  // Acked "a" at 1 but stored at 2 (and "b" at 1).
  EXPECT_FALSE(check_room("r", {stored(1, "b"), stored(2, "a")}, 0, 2, f.all(), false)
                   .problems.empty());
  // A message nobody sent.
  EXPECT_FALSE(check_room("r", {stored(1, "a"), stored(2, "b"), stored(3, "x")}, 0, 3, f.all(),
                          false)
                   .problems.empty());
  // Changed text.
  StoredMessage changed = stored(2, "b");
  changed.text = "other";
  EXPECT_FALSE(check_room("r", {stored(1, "a"), changed}, 0, 2, f.all(), false).problems.empty());
}

TEST(Ledger, ARangeCheckJudgesOnlyItsRange) {
  Fixture f;
  // (1, 3]: "a" (seq 1) is outside and not judged; "b" and "c" are in it.
  auto r = check_room("r", {stored(2, "b"), stored(3, "c")}, 1, 3, f.all(), false);
  EXPECT_TRUE(r.problems.empty());
  EXPECT_EQ(r.acked_found, 1u);
  // Missing seq 3 of the range is a gap.
  EXPECT_FALSE(check_room("r", {stored(2, "b")}, 1, 3, f.all(), false).problems.empty());
}

}  // namespace
}  // namespace parley::test::crash
