// Password and display-name rules (PROTOCOL.md §5) and argon2id password
// hashing with libsodium. Pure functions; hash_password and verify_password
// are slow by design and run on the worker pool, never on the loop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::auth {

// 8 to 128 bytes of valid UTF-8. The upper bound also caps the work one
// request can ask of the hasher.
bool password_ok(std::string_view password);

// 1 to 64 code points of valid UTF-8.
bool display_name_ok(std::string_view name);

// argon2id (v1.3) cost. p is always 1 with libsodium. The defaults are
// OWASP's minimum recommendation for argon2id: m = 19 MiB, t = 2, p = 1.
struct Argon2Params {
  uint64_t memory_kib = 19 * 1024;
  uint64_t iterations = 2;
};

// Call once before any other function here (idempotent, thread-safe).
// False if libsodium cannot initialise.
bool crypto_init();

// The PHC-format string ("$argon2id$v=19$m=...,t=...,p=1$salt$hash") with a
// fresh random salt, or std::nullopt when the memory could not be
// allocated. Thread-safe.
std::optional<std::string> hash_password(std::string_view password,
                                         const Argon2Params& params);

// True when `password` matches `stored` (a string from hash_password; its
// own parameters are used). False for a mismatch or a malformed `stored`.
// Thread-safe.
bool verify_password(std::string_view stored, std::string_view password);

// True when `stored` was made with other parameters than `params` (the
// caller may re-hash after a successful login).
bool needs_rehash(std::string_view stored, const Argon2Params& params);

// Overwrites the string's bytes with zeros (a password no longer needed),
// in a way the compiler may not optimise away.
void wipe(std::string& secret);

}  // namespace parley::auth
