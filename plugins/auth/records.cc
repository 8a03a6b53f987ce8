#include "records.h"

#include <stdexcept>

#include "parley/util/keys.hpp"

namespace parley::auth {
namespace {

constexpr uint8_t kUserV1 = 1;
constexpr uint8_t kTokenV1 = 1;
constexpr uint8_t kFamilyV1 = 1;

std::string tagged(char tag, std::string_view id) {
  std::string k(1, tag);
  k.append(id.data(), id.size());
  return k;
}

}  // namespace

std::string encode(const UserRecord& r) {
  keys::KeyBuilder b;
  b.u8(kUserV1).str(r.user_id).str(r.phone).str(r.display_name)
      .str(r.password_hash).u64(r.created_at).u64(r.updated_at);
  return b.done();
}

std::string encode(const TokenRecord& r) {
  keys::KeyBuilder b;
  b.u8(kTokenV1).str(r.user_id).u8(static_cast<uint8_t>(r.kind))
      .u8(static_cast<uint8_t>(r.state)).str(r.family_id).str(r.pair_hash)
      .u64(r.created_at).u64(r.expires_at);
  return b.done();
}

std::string encode(const FamilyRecord& r) {
  keys::KeyBuilder b;
  b.u8(kFamilyV1).str(r.user_id).u8(r.revoked ? 1 : 0).u64(r.created_at)
      .u64(r.revoked_at);
  return b.done();
}

std::optional<UserRecord> decode_user(std::string_view bytes) {
  try {
    keys::KeyReader r(bytes);
    if (r.u8() != kUserV1) return std::nullopt;
    UserRecord u;
    u.user_id = r.str();
    u.phone = r.str();
    u.display_name = r.str();
    u.password_hash = r.str();
    u.created_at = r.u64();
    u.updated_at = r.u64();
    return u;
  } catch (const std::out_of_range&) {
    return std::nullopt;
  }
}

std::optional<TokenRecord> decode_token(std::string_view bytes) {
  try {
    keys::KeyReader r(bytes);
    if (r.u8() != kTokenV1) return std::nullopt;
    TokenRecord t;
    t.user_id = r.str();
    uint8_t kind = r.u8();
    if (kind != 1 && kind != 2) return std::nullopt;
    t.kind = static_cast<TokenKind>(kind);
    uint8_t state = r.u8();
    if (state > 2) return std::nullopt;
    t.state = static_cast<TokenState>(state);
    t.family_id = r.str();
    t.pair_hash = r.str();
    t.created_at = r.u64();
    t.expires_at = r.u64();
    return t;
  } catch (const std::out_of_range&) {
    return std::nullopt;
  }
}

std::optional<FamilyRecord> decode_family(std::string_view bytes) {
  try {
    keys::KeyReader r(bytes);
    if (r.u8() != kFamilyV1) return std::nullopt;
    FamilyRecord f;
    f.user_id = r.str();
    f.revoked = r.u8() != 0;
    f.created_at = r.u64();
    f.revoked_at = r.u64();
    return f;
  } catch (const std::out_of_range&) {
    return std::nullopt;
  }
}

std::string user_key(std::string_view user_id) { return tagged('u', user_id); }
std::string phone_key(std::string_view phone) { return tagged('p', phone); }
std::string token_key(std::string_view hash) { return tagged('t', hash); }
std::string family_key(std::string_view id) { return tagged('f', id); }

}  // namespace parley::auth
