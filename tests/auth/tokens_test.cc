#include "tokens.h"

#include <gtest/gtest.h>

#include <set>

#include "credentials.h"

using namespace parley::auth;

TEST(Tokens, AreBase64Url256Bits) {
  ASSERT_TRUE(crypto_init());
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string t = new_token();
    EXPECT_EQ(t.size(), 43u);
    EXPECT_TRUE(token_well_formed(t)) << t;
    EXPECT_EQ(t.find('='), std::string::npos);
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(Tokens, WellFormedRejectsOtherShapes) {
  EXPECT_FALSE(token_well_formed(""));
  EXPECT_FALSE(token_well_formed(std::string(42, 'a')));
  EXPECT_FALSE(token_well_formed(std::string(44, 'a')));
  EXPECT_FALSE(token_well_formed(std::string(42, 'a') + "+"));
  EXPECT_TRUE(token_well_formed(std::string(41, 'a') + "-_"));
}

TEST(Tokens, HashIsSha256) {
  // SHA-256("abc"), FIPS 180-2 test vector.
  std::string h = token_hash("abc");
  ASSERT_EQ(h.size(), 32u);
  EXPECT_EQ(token_tag(h), "ba7816bf");
}

TEST(Tokens, ConstantTimeEquality) {
  EXPECT_TRUE(equal_constant_time("abcd", "abcd"));
  EXPECT_FALSE(equal_constant_time("abcd", "abce"));
  EXPECT_FALSE(equal_constant_time("abcd", "abc"));
}
