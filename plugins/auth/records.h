// What the auth plugin stores, and where. Namespace "auth" of the storage
// service; every key starts with a one-byte table tag:
//
//   'u' user_id            -> UserRecord
//   'p' phone (normalised) -> user_id            (the unique phone index)
//   't' sha256(token)      -> TokenRecord        (access and refresh tokens)
//   'f' family_id          -> FamilyRecord       (one login and its refreshes)
//
// Values are a hand-rolled binary format: a version byte, then the fields
// in order (u64 big-endian, strings as u32 length + bytes; see keys.hpp).
// Decoders refuse unknown versions and truncated values; a new field goes at
// the end under a new version byte, and decoders keep reading the old ones.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::auth {

struct UserRecord {
  std::string user_id;
  std::string phone;
  std::string display_name;
  std::string password_hash;  // argon2id PHC string
  uint64_t created_at = 0;
  uint64_t updated_at = 0;
};

enum class TokenKind : uint8_t { Access = 1, Refresh = 2 };

enum class TokenState : uint8_t {
  Active = 0,
  Rotated = 1,  // a refresh token already exchanged; using it again is reuse
  Revoked = 2,  // an access token replaced by rotation, or logged out
};

struct TokenRecord {
  std::string user_id;
  TokenKind kind = TokenKind::Access;
  TokenState state = TokenState::Active;
  std::string family_id;
  std::string pair_hash;  // the other token of the pair (sha256)
  uint64_t created_at = 0;
  uint64_t expires_at = 0;
};

// A login and every token pair refreshed from it. Revoking the family
// revokes all of them with one write (logout, refresh-token reuse).
struct FamilyRecord {
  std::string user_id;
  bool revoked = false;
  uint64_t created_at = 0;
  uint64_t revoked_at = 0;
};

std::string encode(const UserRecord& r);
std::string encode(const TokenRecord& r);
std::string encode(const FamilyRecord& r);
std::optional<UserRecord> decode_user(std::string_view bytes);
std::optional<TokenRecord> decode_token(std::string_view bytes);
std::optional<FamilyRecord> decode_family(std::string_view bytes);

std::string user_key(std::string_view user_id);
std::string phone_key(std::string_view phone);
std::string token_key(std::string_view token_hash);
std::string family_key(std::string_view family_id);

}  // namespace parley::auth
