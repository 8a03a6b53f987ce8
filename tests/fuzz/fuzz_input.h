// Splits one fuzz input into a selector byte and string pieces, so a single
// target can reach several decoders with independent inputs. The bytes after
// the selector are copied into owned (heap or SSO, so 8-byte aligned)
// storage: decoders read FlatBuffers in place, and stored values and
// payloads reach them aligned, never at the odd offset the selector byte
// would leave.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley::fuzz {

class Input {
 public:
  Input(const uint8_t* data, size_t size) {
    if (size > 0) {
      selector_ = data[0];
      owned_.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
    }
    s_ = owned_;
  }
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;
  // The first input byte (0 for an empty input).
  uint8_t selector() const { return selector_; }
  // One byte (0 when exhausted).
  uint8_t byte() {
    if (s_.empty()) return 0;
    uint8_t b = static_cast<uint8_t>(s_[0]);
    s_.remove_prefix(1);
    return b;
  }
  // A piece up to the next 0xFF separator (or the rest).
  std::string_view piece() {
    size_t at = s_.find('\xff');
    std::string_view out = s_.substr(0, at);
    s_.remove_prefix(at == std::string_view::npos ? s_.size() : at + 1);
    return out;
  }
  uint64_t u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | byte();
    return v;
  }
  std::string_view rest() const { return s_; }

 private:
  uint8_t selector_ = 0;
  std::string owned_;
  std::string_view s_;
};

}  // namespace parley::fuzz
