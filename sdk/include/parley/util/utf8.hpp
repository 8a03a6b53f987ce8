// Strict UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing
// above U+10FFFF) and code-point counting. Header-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace parley::util {

// Returns the number of code points, or -1 if `s` is not valid UTF-8.
inline long utf8_length(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  long count = 0;
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
    } else if (c >= 0xC2 && c <= 0xDF) {
      if (end - p < 2 || (p[1] & 0xC0) != 0x80) return -1;
      p += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return -1;
      if (c == 0xE0 && p[1] < 0xA0) return -1;   // overlong
      if (c == 0xED && p[1] > 0x9F) return -1;   // surrogate
      p += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      if (end - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
          (p[3] & 0xC0) != 0x80)
        return -1;
      if (c == 0xF0 && p[1] < 0x90) return -1;   // overlong
      if (c == 0xF4 && p[1] > 0x8F) return -1;   // above U+10FFFF
      p += 4;
    } else {
      return -1;
    }
    ++count;
  }
  return count;
}

inline bool utf8_valid(std::string_view s) { return utf8_length(s) >= 0; }

}  // namespace parley::util
