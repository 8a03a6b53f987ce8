#include "credentials.h"

#include <sodium.h>

#include "parley/util/utf8.hpp"

namespace parley::auth {

bool password_ok(std::string_view password) {
  return password.size() >= 8 && password.size() <= 128 &&
         util::utf8_valid(password);
}

bool display_name_ok(std::string_view name) {
  long n = util::utf8_length(name);
  return n >= 1 && n <= 64;
}

bool crypto_init() { return sodium_init() >= 0; }

std::optional<std::string> hash_password(std::string_view password,
                                         const Argon2Params& params) {
  char out[crypto_pwhash_argon2id_STRBYTES];
  if (crypto_pwhash_argon2id_str(out, password.data(), password.size(),
                                 params.iterations,
                                 static_cast<size_t>(params.memory_kib) * 1024) != 0)
    return std::nullopt;
  return std::string(out);
}

bool verify_password(std::string_view stored, std::string_view password) {
  // libsodium wants a NUL-terminated string in a buffer of STRBYTES.
  if (stored.size() >= crypto_pwhash_argon2id_STRBYTES) return false;
  char buf[crypto_pwhash_argon2id_STRBYTES] = {};
  stored.copy(buf, stored.size());
  return crypto_pwhash_argon2id_str_verify(buf, password.data(),
                                           password.size()) == 0;
}

bool needs_rehash(std::string_view stored, const Argon2Params& params) {
  if (stored.size() >= crypto_pwhash_argon2id_STRBYTES) return true;
  char buf[crypto_pwhash_argon2id_STRBYTES] = {};
  stored.copy(buf, stored.size());
  return crypto_pwhash_argon2id_str_needs_rehash(
             buf, params.iterations,
             static_cast<size_t>(params.memory_kib) * 1024) != 0;
}

void wipe(std::string& secret) {
  if (!secret.empty()) sodium_memzero(secret.data(), secret.size());
}

}  // namespace parley::auth
