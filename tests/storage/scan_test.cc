// Ordered scans: forward and reverse, ranges, prefixes, limits and `more`,
// with composite keys built by keys.hpp.
#include <gtest/gtest.h>

#include <parley/util/keys.hpp>

#include "storage/db.h"
#include "temp_dir.h"

namespace ps = parley::storage;
using parley::keys::KeyBuilder;
using parley::keys::KeyReader;
using ps::testing::TempDir;

namespace {

class ScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ps::Options o;
    o.path = tmp_.sub("db");
    o.durability = ps::Durability::kAsync;
    ASSERT_TRUE(ps::Db::open(o, &db_).is_ok());
    ASSERT_TRUE(db_->open_namespace("rooms", &ns_).is_ok());
    // Rooms "a", "ab" and "b", each with messages 1..10 (u64 seq), inserted
    // out of order.
    ps::Batch b;
    for (const char* room : {"b", "ab", "a"})
      for (uint64_t seq : {10, 3, 1, 7, 2, 9, 5, 4, 8, 6})
        b.put(ns_, KeyBuilder().str(room).u64(seq).done(),
              std::string(room) + "#" + std::to_string(seq));
    b.put(ns_, std::string("\xFF\xFF", 2), "last");
    ASSERT_TRUE(db_->write_sync(std::move(b)).is_ok());
  }

  std::vector<uint64_t> seqs(const ps::ScanResult& r) {
    std::vector<uint64_t> out;
    for (const auto& kv : r.items) {
      KeyReader reader(kv.key);
      reader.str();
      out.push_back(reader.u64());
    }
    return out;
  }

  TempDir tmp_;
  std::unique_ptr<ps::Db> db_;
  ps::Ns ns_;
};

}  // namespace

TEST_F(ScanTest, PrefixForwardIsInNumericOrderAndStaysInsideThePrefix) {
  ps::ScanResult r;
  ASSERT_TRUE(db_->scan_prefix(ns_, KeyBuilder().str("a").done(), false, 0, &r).is_ok());
  EXPECT_EQ(seqs(r), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_FALSE(r.more);
  EXPECT_EQ(r.items.front().value, "a#1");  // not room "ab"
}

TEST_F(ScanTest, PrefixReverseWithLimitReportsMore) {
  ps::ScanResult r;
  ASSERT_TRUE(db_->scan_prefix(ns_, KeyBuilder().str("ab").done(), true, 3, &r).is_ok());
  EXPECT_EQ(seqs(r), (std::vector<uint64_t>{10, 9, 8}));
  EXPECT_TRUE(r.more);
  EXPECT_EQ(r.items[0].value, "ab#10");
}

TEST_F(ScanTest, LimitEqualToTheCountIsNotMore) {
  ps::ScanResult r;
  ASSERT_TRUE(db_->scan_prefix(ns_, KeyBuilder().str("b").done(), false, 10, &r).is_ok());
  EXPECT_EQ(r.items.size(), 10u);
  EXPECT_FALSE(r.more);
}

TEST_F(ScanTest, RangeIsHalfOpenForwardAndReverse) {
  ps::ScanRange range;
  range.start = KeyBuilder().str("a").u64(3).done();
  range.end = KeyBuilder().str("a").u64(7).done();
  ps::ScanResult r;
  ASSERT_TRUE(db_->scan(ns_, range, &r).is_ok());
  EXPECT_EQ(seqs(r), (std::vector<uint64_t>{3, 4, 5, 6}));
  range.reverse = true;
  ASSERT_TRUE(db_->scan(ns_, range, &r).is_ok());
  EXPECT_EQ(seqs(r), (std::vector<uint64_t>{6, 5, 4, 3}));
  // Reverse, paging: the next page ends where the last one stopped.
  range.limit = 2;
  ASSERT_TRUE(db_->scan(ns_, range, &r).is_ok());
  EXPECT_EQ(seqs(r), (std::vector<uint64_t>{6, 5}));
  EXPECT_TRUE(r.more);
  range.end = r.items.back().key;
  ASSERT_TRUE(db_->scan(ns_, range, &r).is_ok());
  EXPECT_EQ(seqs(r), (std::vector<uint64_t>{4, 3}));
  EXPECT_FALSE(r.more);
}

TEST_F(ScanTest, ReverseFromAnEndBetweenKeys) {
  ps::ScanRange range;
  range.start = KeyBuilder().str("a").done();
  // 5.5 does not exist: the greatest key below it is seq 5.
  range.end = KeyBuilder().str("a").u64(5).u8(0).done();
  range.reverse = true;
  range.limit = 1;
  ps::ScanResult r;
  ASSERT_TRUE(db_->scan(ns_, range, &r).is_ok());
  EXPECT_EQ(seqs(r), (std::vector<uint64_t>{5}));
}

TEST_F(ScanTest, WholeNamespaceBothWays) {
  ps::ScanResult fwd, rev;
  ASSERT_TRUE(db_->scan(ns_, ps::ScanRange{}, &fwd).is_ok());
  ps::ScanRange all;
  all.reverse = true;
  ASSERT_TRUE(db_->scan(ns_, all, &rev).is_ok());
  ASSERT_EQ(fwd.items.size(), 31u);
  ASSERT_EQ(rev.items.size(), 31u);
  EXPECT_EQ(rev.items.front().value, "last");
  for (size_t i = 0; i < fwd.items.size(); ++i) {
    EXPECT_EQ(fwd.items[i].key, rev.items[rev.items.size() - 1 - i].key);
    if (i > 0) {
      EXPECT_LT(fwd.items[i - 1].key, fwd.items[i].key);
    }
  }
}

TEST_F(ScanTest, PrefixOfAllFFBytesHasNoUpperBound) {
  ps::ScanResult r;
  ASSERT_TRUE(db_->scan_prefix(ns_, std::string("\xFF", 1), false, 0, &r).is_ok());
  ASSERT_EQ(r.items.size(), 1u);
  EXPECT_EQ(r.items[0].value, "last");
}

TEST_F(ScanTest, EmptyAndInvertedRangesAreEmpty) {
  ps::ScanRange range;
  range.start = "b";
  range.end = "a";
  ps::ScanResult r;
  ASSERT_TRUE(db_->scan(ns_, range, &r).is_ok());
  EXPECT_TRUE(r.items.empty());
  ASSERT_TRUE(db_->scan_prefix(ns_, KeyBuilder().str("zzz").done(), true, 5, &r).is_ok());
  EXPECT_TRUE(r.items.empty());
  EXPECT_FALSE(r.more);
}
