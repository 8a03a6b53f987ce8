// Incremental decoder for the wire framing (PROTOCOL.md §1): a 4-byte
// little-endian length L, then L bytes of Envelope. Pure: no I/O, no libuv,
// unit-tested on its own.
//
// Frames that lie whole inside one read buffer are handed out in place (no
// copy) when their Envelope starts on a 4-byte boundary (always, for a
// stream of well-formed frames read into an aligned buffer: FlatBuffers sizes
// are multiples of 4); otherwise, and for frames split across reads, the
// bytes go through one internal 8-byte aligned buffer (Envelope at offset 4).
// Reading unaligned offsets is undefined behaviour (UBSan flags it).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>

namespace parley::kernel {

class FrameDecoder {
 public:
  enum class Status { Ok, FrameTooLarge, Malformed };
  // The smallest legal L: a root offset plus the file identifier.
  static constexpr uint32_t kMinFrameBytes = 8;

  explicit FrameDecoder(uint32_t max_frame_bytes);

  // Receives one Envelope buffer (without the prefix), valid only during the
  // call. Return false to stop decoding (e.g. the connection was closed); the
  // rest of the input is then dropped.
  using Sink = std::function<bool(std::span<const uint8_t> envelope)>;

  // Splits `data` into frames and calls `sink` for each whole one, in order.
  // Keeps an incomplete tail for the next call. The first framing error is
  // returned and is sticky: later calls return it without decoding.
  Status feed(std::span<const uint8_t> data, const Sink& sink);

  // Bytes held for an incomplete frame.
  size_t buffered() const { return have_; }
  // The internal buffer's size (tests check it grows with the input).
  size_t capacity() const { return capacity_; }
  // Bytes copied into the internal buffer so far (tests check zero-copy).
  uint64_t copied_bytes() const { return copied_; }
  // The L of the last frame whose prefix was rejected (for error messages).
  uint32_t rejected_length() const { return rejected_length_; }

 private:
  Status check_length(uint32_t length);
  void reserve(size_t bytes);
  uint8_t* buf() { return reinterpret_cast<uint8_t*>(words_.get()); }

  uint32_t max_frame_bytes_;
  Status status_ = Status::Ok;
  // Internal buffer: 8-byte aligned, the prefix at offset 0, so the Envelope
  // starts at offset 4 (its 8-byte fields then fall on 8-byte addresses).
  std::unique_ptr<uint64_t[]> words_;
  size_t capacity_ = 0;  // bytes
  size_t have_ = 0;      // bytes of the current frame held (prefix included)
  size_t need_ = 0;      // 4 + L once the prefix is known, else 0
  uint64_t copied_ = 0;
  uint32_t rejected_length_ = 0;
};

}  // namespace parley::kernel
