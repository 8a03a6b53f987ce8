// Key encoding for the storage service. Header-only, C++17.
//
// Storage keys sort bytewise, so composite keys are built from parts whose
// byte order is their logical order:
//  - unsigned integers are big-endian (u8/u16/u32/u64): byte order is numeric
//    order;
//  - signed integers (i64) are big-endian with the sign bit flipped, so
//    negative numbers sort before positive ones;
//  - str() writes a u32 big-endian length then the bytes. The length makes a
//    prefix unambiguous ("ab"+"c" never collides with "a"+"bc") and lets a
//    reader split the key, but strings then sort by (length, bytes). That is
//    right for ids (fixed length, e.g. UUIDs) and exact lookups;
//  - ordered_str() writes the bytes with 0x00 escaped as 0x00 0xFF and ends
//    with 0x00 0x01: also unambiguous, and strings sort lexicographically
//    ("a" < "ab" < "b"). Use it when a scan must list names in order.
//
// Example: a room's messages by sequence, newest first:
//   auto prefix = parley::keys::KeyBuilder().str(room_id).done();
//   auto key = parley::keys::KeyBuilder().str(room_id).u64(seq).done();
//   storage.scan_prefix(ns, prefix, /*reverse=*/true, 50, cb);
//   ... KeyReader r(item.key); r.str(); uint64_t seq = r.u64();
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace parley::keys {

// --- appenders: write one part onto the end of a key --------------------

inline void append_u8(std::string& out, uint8_t v) {
  out.push_back(static_cast<char>(v));
}

inline void append_u16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

inline void append_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>(v >> shift));
}

inline void append_u64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>(v >> shift));
}

// Flipping the sign bit maps INT64_MIN..INT64_MAX onto 0..UINT64_MAX in order.
inline void append_i64(std::string& out, int64_t v) {
  append_u64(out, static_cast<uint64_t>(v) ^ (uint64_t{1} << 63));
}

// u32 big-endian length, then the bytes. Throws std::length_error for a
// string longer than 4 GiB - 1.
inline void append_str(std::string& out, std::string_view s) {
  if (s.size() > UINT32_MAX) throw std::length_error("key part too long");
  append_u32(out, static_cast<uint32_t>(s.size()));
  out.append(s.data(), s.size());
}

// Bytes with 0x00 escaped as 0x00 0xFF, terminated by 0x00 0x01.
inline void append_ordered_str(std::string& out, std::string_view s) {
  for (char c : s) {
    out.push_back(c);
    if (c == '\0') out.push_back(static_cast<char>(0xFF));
  }
  out.push_back('\0');
  out.push_back(static_cast<char>(0x01));
}

// --- decoding of single parts (for values or hand-rolled keys) -----------

// Reads a big-endian u64 from exactly 8 bytes; std::nullopt otherwise.
inline std::optional<uint64_t> decode_u64(std::string_view b) {
  if (b.size() != 8) return std::nullopt;
  uint64_t v = 0;
  for (char c : b) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

inline std::string encode_u64(uint64_t v) {
  std::string s;
  append_u64(s, v);
  return s;
}

// The smallest key greater than every key that starts with `prefix`, i.e.
// the exclusive end of a prefix scan: drop trailing 0xFF bytes and add one
// to the last remaining byte. An empty result means "no upper bound" (the
// prefix was empty or all 0xFF).
inline std::string prefix_successor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<uint8_t>(s.back()) == 0xFF) s.pop_back();
  if (!s.empty()) s.back() = static_cast<char>(static_cast<uint8_t>(s.back()) + 1);
  return s;
}

// --- KeyBuilder: chainable, e.g. KeyBuilder().str(room).u64(seq).done() ---

class KeyBuilder {
 public:
  KeyBuilder() = default;
  // Start from an existing prefix (copied).
  explicit KeyBuilder(std::string_view prefix) : buf_(prefix) {}

  KeyBuilder& u8(uint8_t v) { append_u8(buf_, v); return *this; }
  KeyBuilder& u16(uint16_t v) { append_u16(buf_, v); return *this; }
  KeyBuilder& u32(uint32_t v) { append_u32(buf_, v); return *this; }
  KeyBuilder& u64(uint64_t v) { append_u64(buf_, v); return *this; }
  KeyBuilder& i64(int64_t v) { append_i64(buf_, v); return *this; }
  KeyBuilder& str(std::string_view s) { append_str(buf_, s); return *this; }
  KeyBuilder& ordered_str(std::string_view s) {
    append_ordered_str(buf_, s);
    return *this;
  }
  // Raw bytes, no length: only as the last part (or for fixed-size parts).
  KeyBuilder& raw(std::string_view s) { buf_.append(s.data(), s.size()); return *this; }

  // The key so far (borrowed; valid until the builder changes).
  std::string_view view() const { return buf_; }
  size_t size() const { return buf_.size(); }
  // The finished key (moves the buffer out; the builder is then empty).
  std::string done() { return std::move(buf_); }

 private:
  std::string buf_;
};

// --- KeyReader: splits a key built by KeyBuilder, in the same order -------
//
// Each getter throws std::out_of_range when the key is too short or
// malformed, so a loop over scan results can catch one error for all parts.
class KeyReader {
 public:
  explicit KeyReader(std::string_view key) : rest_(key) {}

  uint8_t u8() { return static_cast<uint8_t>(take(1)[0]); }
  uint16_t u16() { return static_cast<uint16_t>(be(take(2))); }
  uint32_t u32() { return static_cast<uint32_t>(be(take(4))); }
  uint64_t u64() { return be(take(8)); }
  int64_t i64() { return static_cast<int64_t>(be(take(8)) ^ (uint64_t{1} << 63)); }
  // The returned view borrows the key passed to the constructor.
  std::string_view str() { return take(u32()); }
  std::string ordered_str() {
    std::string out;
    for (size_t i = 0; i + 1 < rest_.size(); ++i) {
      char c = rest_[i];
      if (c != '\0') {
        out.push_back(c);
        continue;
      }
      uint8_t next = static_cast<uint8_t>(rest_[i + 1]);
      if (next == 0x01) {  // terminator
        rest_.remove_prefix(i + 2);
        return out;
      }
      if (next != 0xFF) break;  // malformed escape
      out.push_back('\0');
      ++i;
    }
    throw std::out_of_range("key: unterminated ordered string");
  }
  // The next n raw bytes.
  std::string_view raw(size_t n) { return take(n); }
  std::string_view rest() const { return rest_; }
  bool at_end() const { return rest_.empty(); }

 private:
  std::string_view take(size_t n) {
    if (rest_.size() < n) throw std::out_of_range("key: too short");
    std::string_view part = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return part;
  }
  static uint64_t be(std::string_view b) {
    uint64_t v = 0;
    for (char c : b) v = (v << 8) | static_cast<uint8_t>(c);
    return v;
  }

  std::string_view rest_;
};

}  // namespace parley::keys
