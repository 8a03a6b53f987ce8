// Key encoding: every part round-trips, and byte order is logical order.
#include <gtest/gtest.h>

#include <algorithm>
#include <parley/util/keys.hpp>
#include <random>
#include <vector>

using parley::keys::KeyBuilder;
using parley::keys::KeyReader;
using parley::keys::prefix_successor;

TEST(Keys, AllPartsRoundTrip) {
  std::string s = KeyBuilder()
                      .u8(0xAB)
                      .u16(0xBEEF)
                      .u32(0xDEADBEEF)
                      .u64(0x0123456789ABCDEFull)
                      .i64(-42)
                      .str(std::string("room\0id", 7))
                      .ordered_str(std::string("a\0\xFF" "b", 4))
                      .raw("tail")
                      .done();
  KeyReader r(s);
  EXPECT_EQ(r.u8(), 0xAB);
  EXPECT_EQ(r.u16(), 0xBEEF);
  EXPECT_EQ(r.u32(), 0xDEADBEEFu);
  EXPECT_EQ(r.u64(), 0x0123456789ABCDEFull);
  EXPECT_EQ(r.i64(), -42);
  EXPECT_EQ(r.str(), std::string("room\0id", 7));
  EXPECT_EQ(r.ordered_str(), std::string("a\0\xFF" "b", 4));
  EXPECT_EQ(r.raw(4), "tail");
  EXPECT_TRUE(r.at_end());
}

TEST(Keys, BigEndianIntegersSortNumerically) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> nums = {0, 1, 255, 256, 65535, 65536, UINT64_MAX};
  for (int i = 0; i < 500; ++i) nums.push_back(rng() >> (rng() % 64));
  for (uint64_t a : nums)
    for (size_t j = 0; j < 20; ++j) {
      uint64_t b = nums[(a + j) % nums.size()];
      EXPECT_EQ(a < b, KeyBuilder().u64(a).done() < KeyBuilder().u64(b).done()) << a << " " << b;
    }
}

TEST(Keys, SignedIntegersSortNumerically) {
  std::vector<int64_t> nums = {INT64_MIN, -1000, -1, 0, 1, 1000, INT64_MAX};
  for (size_t i = 0; i + 1 < nums.size(); ++i)
    EXPECT_LT(KeyBuilder().i64(nums[i]).done(), KeyBuilder().i64(nums[i + 1]).done());
  for (int64_t n : nums) EXPECT_EQ(KeyReader(KeyBuilder().i64(n).done()).i64(), n);
}

TEST(Keys, LengthPrefixMakesCompositeKeysUnambiguous) {
  // Without the length, "ab"+"c" and "a"+"bc" would be the same bytes.
  EXPECT_NE(KeyBuilder().str("ab").str("c").done(), KeyBuilder().str("a").str("bc").done());
  // A prefix for room "a" never matches keys of room "ab".
  std::string prefix_a = KeyBuilder().str("a").done();
  std::string key_ab = KeyBuilder().str("ab").u64(1).done();
  EXPECT_NE(key_ab.compare(0, prefix_a.size(), prefix_a), 0);
}

TEST(Keys, OrderedStringsSortLexicographically) {
  std::vector<std::string> words = {"", std::string("\0", 1), std::string("\0\0", 2), "a",
                                    std::string("a\0", 2), "ab", "b", "\xFF"};
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    // Followed by another part, so termination matters too.
    EXPECT_LT(KeyBuilder().ordered_str(words[i]).u64(UINT64_MAX).done(),
              KeyBuilder().ordered_str(words[i + 1]).u64(0).done())
        << i;
  }
  for (const auto& w : words) EXPECT_EQ(KeyReader(KeyBuilder().ordered_str(w).done()).ordered_str(), w);
}

TEST(Keys, PrefixSuccessorBoundsThePrefix) {
  EXPECT_EQ(prefix_successor("abc"), "abd");
  EXPECT_EQ(prefix_successor(std::string("a\xFF\xFF", 3)), "b");
  EXPECT_EQ(prefix_successor(std::string("\xFF\xFF", 2)), "");
  EXPECT_EQ(prefix_successor(""), "");
  std::string p = KeyBuilder().str("room").done();
  std::string end = prefix_successor(p);
  EXPECT_LT(KeyBuilder(p).u64(UINT64_MAX).done(), end);
  EXPECT_GT(KeyBuilder().str("roon").done(), p);
}

TEST(Keys, ReaderThrowsOnShortOrMalformedKeys) {
  EXPECT_THROW(KeyReader("abc").u64(), std::out_of_range);
  EXPECT_THROW(KeyReader(KeyBuilder().u32(10).raw("abc").done()).str(), std::out_of_range);
  EXPECT_THROW(KeyReader("abc").ordered_str(), std::out_of_range);
  EXPECT_THROW(KeyReader(std::string("a\0\x05", 3)).ordered_str(), std::out_of_range);
}

TEST(Keys, DecodeU64NeedsExactlyEightBytes) {
  EXPECT_EQ(parley::keys::decode_u64(parley::keys::encode_u64(99)), 99u);
  EXPECT_FALSE(parley::keys::decode_u64("1234567").has_value());
}
