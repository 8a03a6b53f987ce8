#include "credentials.h"

#include <gtest/gtest.h>

#include <string>

using namespace parley::auth;

TEST(Credentials, PasswordBoundsInBytes) {
  EXPECT_FALSE(password_ok("1234567"));
  EXPECT_TRUE(password_ok("12345678"));
  EXPECT_TRUE(password_ok(std::string(128, 'x')));
  EXPECT_FALSE(password_ok(std::string(129, 'x')));
  // 4 two-byte characters = 8 bytes: allowed, bytes are what count.
  EXPECT_TRUE(password_ok("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"));
  EXPECT_FALSE(password_ok("abcdefg\xFF"));  // invalid UTF-8
}

TEST(Credentials, DisplayNameBoundsInCharacters) {
  EXPECT_FALSE(display_name_ok(""));
  EXPECT_TRUE(display_name_ok("A"));
  std::string sixty_four_e_acute;
  for (int i = 0; i < 64; ++i) sixty_four_e_acute += "\xC3\xA9";  // 128 bytes
  EXPECT_TRUE(display_name_ok(sixty_four_e_acute));
  EXPECT_FALSE(display_name_ok(sixty_four_e_acute + "x"));
  EXPECT_FALSE(display_name_ok("bad \xC0\xAF"));  // overlong
}

class Argon2 : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(crypto_init()); }
  Argon2Params light{1024, 1};  // 1 MiB, t=1: fast for tests of behaviour
};

TEST_F(Argon2, HashVerifiesOnlyTheSamePassword) {
  auto h = hash_password("correct horse", light);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->rfind("$argon2id$v=19$m=1024,t=1,p=1$", 0), 0u) << *h;
  EXPECT_TRUE(verify_password(*h, "correct horse"));
  EXPECT_FALSE(verify_password(*h, "correct horsf"));
  EXPECT_FALSE(verify_password("garbage", "correct horse"));
}

TEST_F(Argon2, SaltsDiffer) {
  EXPECT_NE(*hash_password("same password", light),
            *hash_password("same password", light));
}

TEST_F(Argon2, DefaultsAreOwaspMinimum) {
  Argon2Params d;
  EXPECT_EQ(d.memory_kib, 19456u);
  EXPECT_EQ(d.iterations, 2u);
  auto h = hash_password("password1", d);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << *h;
  EXPECT_FALSE(needs_rehash(*h, d));
  EXPECT_TRUE(needs_rehash(*h, light));
}

TEST_F(Argon2, WipeZeroes) {
  std::string s = "secret";
  wipe(s);
  EXPECT_EQ(s, std::string(6, '\0'));
}
