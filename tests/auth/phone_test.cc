#include "phone.h"

#include <gtest/gtest.h>

using parley::auth::normalize_phone;

TEST(Phone, NormalisesSeparators) {
  EXPECT_EQ(normalize_phone("+1 (555) 010-2030"), "+15550102030");
  EXPECT_EQ(normalize_phone("+44.20.7946.0958"), "+442079460958");
  EXPECT_EQ(normalize_phone("+4915112345678"), "+4915112345678");
}

TEST(Phone, AcceptsLengthBoundsOf8And15Digits) {
  EXPECT_EQ(normalize_phone("+12345678"), "+12345678");                // 8
  EXPECT_EQ(normalize_phone("+123456789012345"), "+123456789012345");  // 15
}

TEST(Phone, RejectsNonE164) {
  EXPECT_FALSE(normalize_phone("12345"));
  EXPECT_FALSE(normalize_phone("15550102030"));        // no '+'
  EXPECT_FALSE(normalize_phone("+0123456789"));        // leading 0
  EXPECT_FALSE(normalize_phone("+1234567"));           // 7 digits
  EXPECT_FALSE(normalize_phone("+1234567890123456"));  // 16 digits
  EXPECT_FALSE(normalize_phone("+1555010abcd"));       // letters
  EXPECT_FALSE(normalize_phone("+1 555 CALL NOW"));
  EXPECT_FALSE(normalize_phone(""));
  EXPECT_FALSE(normalize_phone("+"));
  EXPECT_FALSE(normalize_phone("++15550102030"));
  EXPECT_FALSE(normalize_phone("+1555\t0102030"));  // tabs are not separators
  EXPECT_FALSE(normalize_phone(std::string(200, '1')));
}
