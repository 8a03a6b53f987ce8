#include "records.h"

#include <gtest/gtest.h>

using namespace parley::auth;

TEST(Records, UserRoundTrip) {
  UserRecord u{"0192f1c4-7d2a-7b3e-9f00-1a2b3c4d5e6f", "+15550102030", "Ann",
               "$argon2id$v=19$m=1024,t=1,p=1$x$y", 1, 2};
  auto d = decode_user(encode(u));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->user_id, u.user_id);
  EXPECT_EQ(d->phone, u.phone);
  EXPECT_EQ(d->display_name, u.display_name);
  EXPECT_EQ(d->password_hash, u.password_hash);
  EXPECT_EQ(d->created_at, 1u);
  EXPECT_EQ(d->updated_at, 2u);
}

TEST(Records, TokenAndFamilyRoundTrip) {
  TokenRecord t{"u", TokenKind::Refresh, TokenState::Rotated, "fam",
                std::string(32, '\x01'), 10, 20};
  auto d = decode_token(encode(t));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, TokenKind::Refresh);
  EXPECT_EQ(d->state, TokenState::Rotated);
  EXPECT_EQ(d->family_id, "fam");
  EXPECT_EQ(d->pair_hash, std::string(32, '\x01'));
  EXPECT_EQ(d->expires_at, 20u);
  FamilyRecord f{"u", true, 5, 6};
  auto df = decode_family(encode(f));
  ASSERT_TRUE(df);
  EXPECT_TRUE(df->revoked);
  EXPECT_EQ(df->revoked_at, 6u);
}

TEST(Records, RejectsTruncatedAndUnknownVersions) {
  std::string bytes = encode(UserRecord{"a", "b", "c", "d", 1, 2});
  EXPECT_FALSE(decode_user(bytes.substr(0, bytes.size() - 1)));
  bytes[0] = 9;
  EXPECT_FALSE(decode_user(bytes));
  EXPECT_FALSE(decode_token(""));
  std::string t = encode(TokenRecord{});
  t[0] = 2;
  EXPECT_FALSE(decode_token(t));
}

TEST(Records, KeysAreTaggedPerTable) {
  EXPECT_EQ(user_key("x"), "ux");
  EXPECT_EQ(phone_key("+1"), "p+1");
  EXPECT_EQ(token_key("h"), "th");
  EXPECT_EQ(family_key("f"), "ff");
}
