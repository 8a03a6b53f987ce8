// UUIDv7 generation (RFC 9562): 48-bit Unix ms timestamp, then random bits,
// so ids sort by creation time. Header-only, compiled into the plugin.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace parley::util {

// Canonical lowercase text form, e.g. "0192f1c4-7d2a-7b3e-9f00-1a2b3c4d5e6f".
// Not thread-safe per thread_local generator; call from any one thread.
inline std::string uuid7(uint64_t unix_ms) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  // Monotonic within a millisecond: a counter in rand_a keeps ids from one
  // generator ordered even when the clock does not advance.
  thread_local uint64_t last_ms = 0;
  thread_local uint16_t counter = 0;
  if (unix_ms <= last_ms) {
    unix_ms = last_ms;
    if (++counter > 0x0FFF) {  // counter exhausted: borrow the next ms
      ++unix_ms;
      counter = 0;
    }
  } else {
    counter = static_cast<uint16_t>(rng() & 0x03FF);  // leave room to count up
  }
  last_ms = unix_ms;
  std::array<uint8_t, 16> b{};
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(unix_ms >> (40 - 8 * i));
  b[6] = static_cast<uint8_t>(0x70 | ((counter >> 8) & 0x0F));
  b[7] = static_cast<uint8_t>(counter & 0xFF);
  uint64_t r = rng();
  b[8] = static_cast<uint8_t>(0x80 | ((r >> 56) & 0x3F));
  for (int i = 9; i < 16; ++i) b[i] = static_cast<uint8_t>(r >> (8 * (15 - i)));
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(hex[b[i] >> 4]);
    out.push_back(hex[b[i] & 0xF]);
  }
  return out;
}

inline uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
}

inline std::string uuid7() { return uuid7(now_ms()); }

// True for a canonical lowercase UUID (any version).
inline bool is_canonical_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace parley::util
