#include "frame_decoder.h"

#include <algorithm>
#include <cstring>

namespace parley::kernel {
namespace {

constexpr size_t kPrefix = 4;
// Past this capacity the internal buffer is released once its frame has been
// delivered. Zero: an idle connection holds no decoder memory at all (split
// frames are rare; one allocation each is cheap next to the reads).
constexpr size_t kKeepCapacity = 0;

uint32_t read_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 |
         uint32_t(p[3]) << 24;
}

// FlatBuffers reads offsets (4 bytes) in place; the one 8-byte field of an
// Envelope (id) is read with envelope_id(), which does not need alignment.
bool well_placed(const uint8_t* envelope) {
  return reinterpret_cast<uintptr_t>(envelope) % 4 == 0;
}

}  // namespace

FrameDecoder::FrameDecoder(uint32_t max_frame_bytes)
    : max_frame_bytes_(max_frame_bytes) {}

FrameDecoder::Status FrameDecoder::check_length(uint32_t length) {
  if (length > max_frame_bytes_) {
    rejected_length_ = length;
    status_ = Status::FrameTooLarge;
  } else if (length < kMinFrameBytes) {
    rejected_length_ = length;
    status_ = Status::Malformed;
  }
  return status_;
}

void FrameDecoder::reserve(size_t bytes) {
  if (capacity_ >= bytes) return;
  size_t words = (bytes + 7) / 8;
  auto bigger = std::make_unique<uint64_t[]>(words);
  if (have_ > 0) std::memcpy(bigger.get(), words_.get(), have_);
  words_ = std::move(bigger);
  capacity_ = words * 8;
}

FrameDecoder::Status FrameDecoder::feed(std::span<const uint8_t> data,
                                        const Sink& sink) {
  if (status_ != Status::Ok) return status_;
  const uint8_t* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    if (have_ == 0 && left >= kPrefix) {
      // Fast path: the prefix is in the read buffer.
      uint32_t length = read_le32(p);
      if (check_length(length) != Status::Ok) return status_;
      size_t total = kPrefix + length;
      if (left >= total) {
        const uint8_t* envelope = p + kPrefix;
        p += total;
        left -= total;
        if (well_placed(envelope)) {
          if (!sink({envelope, length})) return status_;
        } else {
          reserve(total);
          std::memcpy(buf(), envelope - kPrefix, total);
          copied_ += total;
          bool go_on = sink({buf() + kPrefix, length});
          if (capacity_ > kKeepCapacity) {
            words_.reset();
            capacity_ = 0;
          }
          if (!go_on) return status_;
        }
        continue;
      }
    }
    // Slow path: accumulate a frame split across reads.
    if (need_ == 0) {
      reserve(kPrefix);
      size_t take = std::min(left, kPrefix - have_);
      std::memcpy(buf() + have_, p, take);
      have_ += take;
      copied_ += take;
      p += take;
      left -= take;
      if (have_ < kPrefix) break;
      uint32_t length = read_le32(buf());
      if (check_length(length) != Status::Ok) return status_;
      need_ = kPrefix + length;
    }
    size_t take = std::min(left, need_ - have_);
    // Grow with the bytes that actually arrived (doubling, capped at the
    // frame): a peer announcing a big frame and sending nothing more does
    // not make the server allocate it.
    if (capacity_ < have_ + take)
      reserve(std::min(need_, std::max(have_ + take, capacity_ * 2)));
    std::memcpy(buf() + have_, p, take);
    have_ += take;
    copied_ += take;
    p += take;
    left -= take;
    if (have_ < need_) break;
    size_t length = need_ - kPrefix;
    have_ = 0;
    need_ = 0;
    bool go_on = sink({buf() + kPrefix, length});
    if (capacity_ > kKeepCapacity) {
      words_.reset();
      capacity_ = 0;
    }
    if (!go_on) return status_;
  }
  return status_;
}

}  // namespace parley::kernel
