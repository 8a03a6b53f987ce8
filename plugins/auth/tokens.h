// Bearer tokens: 256 random bits, base64url without padding (43 chars).
// Only their SHA-256 is stored, so a leaked database yields no usable token.
#pragma once

#include <string>
#include <string_view>

namespace parley::auth {

inline constexpr size_t kTokenChars = 43;  // base64url of 32 bytes, no '='
inline constexpr size_t kTokenHashBytes = 32;

// A fresh token from libsodium's CSPRNG. Needs crypto_init().
std::string new_token();

// True for a string that could be a token (43 base64url characters): lets
// the plugin refuse garbage without a storage read.
bool token_well_formed(std::string_view token);

// SHA-256 of the token text, 32 raw bytes.
std::string token_hash(std::string_view token);

// Constant-time equality for secrets of equal length (false otherwise).
bool equal_constant_time(std::string_view a, std::string_view b);

// A short, non-secret tag for audit logs: the first 8 hex digits of the
// token's hash (never of the token itself).
std::string token_tag(std::string_view hash);

}  // namespace parley::auth
