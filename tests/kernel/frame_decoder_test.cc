// FrameDecoder: frames split across reads, many per read, the length limits,
// sticky errors and the zero-copy path.
#include "frame_decoder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "envelope_codec.h"

namespace parley::kernel {
namespace {

// Builds the bytes of `n` real frames, each a Request "m<i>", back to back.
std::vector<uint8_t> frames(int n, std::vector<size_t>* sizes = nullptr) {
  std::vector<uint8_t> out;
  for (int i = 0; i < n; ++i) {
    auto f = encode_frame(parley::Kind::Request, i + 1, "m" + std::to_string(i), 0, {}, {});
    out.insert(out.end(), f->bytes.begin(), f->bytes.end());
    if (sizes) sizes->push_back(f->bytes.size() - 4);
  }
  return out;
}

// An 8-byte aligned copy, like the kernel's read buffer.
struct AlignedCopy {
  explicit AlignedCopy(const std::vector<uint8_t>& v) : words((v.size() + 7) / 8 + 1) {
    std::memcpy(words.data(), v.data(), v.size());
    size = v.size();
  }
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(words.data()); }
  std::vector<uint64_t> words;
  size_t size;
};

struct Collector {
  std::vector<uint64_t> ids;
  FrameDecoder::Sink sink() {
    return [this](std::span<const uint8_t> env) {
      const parley::Envelope* e = verify_envelope(env, /*prefix_precedes=*/true);
      ids.push_back(e ? envelope_id(e) : 0);
      return true;
    };
  }
};

TEST(FrameDecoder, ManyFramesInOneReadAreAllDelivered) {
  auto bytes = frames(50);
  AlignedCopy buf(bytes);
  FrameDecoder d(1 << 20);
  Collector c;
  EXPECT_EQ(d.feed({buf.data(), buf.size}, c.sink()), FrameDecoder::Status::Ok);
  ASSERT_EQ(c.ids.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(c.ids[i], uint64_t(i + 1));
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameDecoder, AlignedWholeFrameIsNotCopied) {
  auto bytes = frames(1);
  AlignedCopy buf(bytes);
  FrameDecoder d(1 << 20);
  const uint8_t* seen = nullptr;
  d.feed({buf.data(), buf.size}, [&](std::span<const uint8_t> env) {
    seen = env.data();
    return true;
  });
  EXPECT_EQ(seen, buf.data() + 4);
  EXPECT_EQ(d.copied_bytes(), 0u);
}

TEST(FrameDecoder, EveryOneByteSplitReassembles) {
  auto bytes = frames(3);
  FrameDecoder d(1 << 20);
  Collector c;
  for (uint8_t b : bytes) {
    ASSERT_EQ(d.feed({&b, 1}, c.sink()), FrameDecoder::Status::Ok);
  }
  EXPECT_EQ(c.ids, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameDecoder, SplitAtEveryOffsetReassembles) {
  auto bytes = frames(4);
  for (size_t cut = 1; cut < bytes.size(); ++cut) {
    FrameDecoder d(1 << 20);
    Collector c;
    d.feed({bytes.data(), cut}, c.sink());
    d.feed({bytes.data() + cut, bytes.size() - cut}, c.sink());
    ASSERT_EQ(c.ids, (std::vector<uint64_t>{1, 2, 3, 4})) << "cut at " << cut;
  }
}

TEST(FrameDecoder, PartialTailIsKeptForTheNextRead) {
  auto bytes = frames(2);
  FrameDecoder d(1 << 20);
  Collector c;
  d.feed({bytes.data(), bytes.size() - 3}, c.sink());
  EXPECT_EQ(c.ids.size(), 1u);
  EXPECT_GT(d.buffered(), 0u);
  d.feed({bytes.data() + bytes.size() - 3, 3}, c.sink());
  EXPECT_EQ(c.ids.size(), 2u);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameDecoder, LengthAboveMaximumIsFrameTooLarge) {
  FrameDecoder d(1024);
  uint8_t prefix[4] = {0x01, 0x04, 0, 0};  // 1025
  Collector c;
  EXPECT_EQ(d.feed({prefix, 4}, c.sink()), FrameDecoder::Status::FrameTooLarge);
  EXPECT_EQ(d.rejected_length(), 1025u);
  EXPECT_TRUE(c.ids.empty());
}

TEST(FrameDecoder, LengthAtMaximumIsAccepted) {
  FrameDecoder d(1024);
  uint8_t prefix[4] = {0x00, 0x04, 0, 0};  // 1024: waits for the body
  Collector c;
  EXPECT_EQ(d.feed({prefix, 4}, c.sink()), FrameDecoder::Status::Ok);
  EXPECT_EQ(d.buffered(), 4u);
}

TEST(FrameDecoder, OversizedPrefixSplitAcrossReadsIsDetected) {
  FrameDecoder d(1024);
  uint8_t prefix[4] = {0xff, 0xff, 0xff, 0x7f};
  Collector c;
  EXPECT_EQ(d.feed({prefix, 2}, c.sink()), FrameDecoder::Status::Ok);
  EXPECT_EQ(d.feed({prefix + 2, 2}, c.sink()), FrameDecoder::Status::FrameTooLarge);
}

TEST(FrameDecoder, LengthBelowEightIsMalformed) {
  for (uint8_t len = 0; len < 8; ++len) {
    FrameDecoder d(1024);
    uint8_t bytes[12] = {len, 0, 0, 0};
    Collector c;
    EXPECT_EQ(d.feed({bytes, sizeof bytes}, c.sink()), FrameDecoder::Status::Malformed) << int(len);
  }
}

TEST(FrameDecoder, ErrorsAreSticky) {
  FrameDecoder d(1024);
  uint8_t bad[4] = {1, 0, 0, 0};
  Collector c;
  EXPECT_EQ(d.feed({bad, 4}, c.sink()), FrameDecoder::Status::Malformed);
  auto good = frames(1);
  EXPECT_EQ(d.feed({good.data(), good.size()}, c.sink()), FrameDecoder::Status::Malformed);
  EXPECT_TRUE(c.ids.empty());
}

TEST(FrameDecoder, FramesBeforeABadPrefixAreDelivered) {
  auto bytes = frames(2);
  bytes.insert(bytes.end(), {0xff, 0xff, 0xff, 0xff});
  FrameDecoder d(1024);
  Collector c;
  EXPECT_EQ(d.feed({bytes.data(), bytes.size()}, c.sink()), FrameDecoder::Status::FrameTooLarge);
  EXPECT_EQ(c.ids.size(), 2u);
}

TEST(FrameDecoder, SinkReturningFalseStopsDecoding) {
  auto bytes = frames(5);
  FrameDecoder d(1 << 20);
  int calls = 0;
  d.feed({bytes.data(), bytes.size()}, [&](std::span<const uint8_t>) { return ++calls < 2; });
  EXPECT_EQ(calls, 2);
}

TEST(FrameDecoder, MisalignedFramesAreCopiedToAlignedMemory) {
  auto bytes = frames(1);
  std::vector<uint64_t> words(bytes.size() / 8 + 2);
  uint8_t* start = reinterpret_cast<uint8_t*>(words.data()) + 1;  // odd address
  std::memcpy(start, bytes.data(), bytes.size());
  FrameDecoder d(1 << 20);
  uintptr_t addr = 0;
  d.feed({start, bytes.size()}, [&](std::span<const uint8_t> env) {
    addr = reinterpret_cast<uintptr_t>(env.data());
    return verify_envelope(env, /*prefix_precedes=*/true) != nullptr;
  });
  EXPECT_EQ(addr % 8, 4u);
  EXPECT_EQ(d.copied_bytes(), bytes.size());
}

}  // namespace
}  // namespace parley::kernel

namespace parley::kernel {
namespace {

TEST(FrameDecoder, NoBufferIsKeptAfterASplitFrame) {
  // Idle connections must not hold decoder memory after a frame that
  // arrived in pieces.
  FrameDecoder d(1 << 20);
  std::vector<uint8_t> frame = {12, 0, 0, 0, 8, 0, 0, 0, 'P', 'R', 'L', 'Y', 0, 0, 0, 0};
  int frames = 0;
  auto sink = [&](std::span<const uint8_t>) { return ++frames > 0; };
  d.feed({frame.data(), 6}, sink);
  EXPECT_GT(d.capacity(), 0u);
  d.feed({frame.data() + 6, frame.size() - 6}, sink);
  EXPECT_EQ(frames, 1);
  EXPECT_EQ(d.buffered(), 0u);
  EXPECT_EQ(d.capacity(), 0u);
}

TEST(FrameDecoder, AnnouncedBigFrameIsNotAllocatedUpFront) {
  FrameDecoder d(1 << 20);
  uint8_t prefix[6] = {0x00, 0x00, 0x10, 0x00, 1, 2};  // L = 1 MiB, 2 body bytes
  d.feed({prefix, sizeof prefix}, [](std::span<const uint8_t>) { return true; });
  EXPECT_EQ(d.buffered(), 6u);
  EXPECT_LT(d.capacity(), 4096u);
}

}  // namespace
}  // namespace parley::kernel
