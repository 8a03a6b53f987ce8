// Envelope verification (file identifier, garbage, truncation) and the
// encode_* helpers of core.h.
#include "envelope_codec.h"

#include <gtest/gtest.h>
#include <parley/sys_generated.h>

#include <cstring>
#include <vector>

namespace parley::kernel {
namespace {

std::vector<uint8_t> envelope_of(const FramePtr& f) {
  auto e = f->envelope();
  return {e.begin(), e.end()};
}

TEST(EnvelopeCodec, ResponseRoundTrips) {
  uint8_t payload[] = {1, 2, 3};
  auto f = encode_response(42, "auth.login", 2, "nope", payload);
  uint32_t len;
  std::memcpy(&len, f->bytes.data(), 4);
  EXPECT_EQ(len + 4, f->bytes.size());
  // Laid out by FinishSizePrefixed: verified relative to the prefix.
  EXPECT_EQ(verify_envelope(envelope_of(f)), nullptr);
  const parley::Envelope* e = verify_envelope(f->envelope(), /*prefix_precedes=*/true);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->kind(), parley::Kind::Response);
  EXPECT_EQ(envelope_id(e), 42u);
  EXPECT_EQ(e->method()->str(), "auth.login");
  EXPECT_EQ(e->status(), parley::Status::Unauthenticated);
  EXPECT_EQ(e->error()->str(), "nope");
  ASSERT_EQ(e->payload()->size(), 3u);
  EXPECT_EQ(e->payload()->Get(2), 3);
}

TEST(EnvelopeCodec, EventAndClosing) {
  const parley::Envelope* e = nullptr;
  auto ev = encode_event("rooms.message", {});
  ASSERT_NE(e = verify_envelope(ev->envelope()), nullptr);
  EXPECT_EQ(e->kind(), parley::Kind::Event);
  EXPECT_EQ(envelope_id(e), 0u);
  auto closing = encode_closing(static_cast<uint16_t>(parley::Status::Unavailable), "bye");
  ASSERT_NE(e = verify_envelope(closing->envelope()), nullptr);
  EXPECT_EQ(e->method()->str(), "sys.closing");
  EXPECT_EQ(e->status(), parley::Status::Unavailable);
  EXPECT_EQ(e->error()->str(), "bye");
}

TEST(EnvelopeCodec, WrongFileIdentifierFailsVerification) {
  auto bytes = envelope_of(encode_event("x.y", {}));
  ASSERT_EQ(std::memcmp(bytes.data() + 4, "PRLY", 4), 0);
  std::memcpy(bytes.data() + 4, "PRLX", 4);
  EXPECT_EQ(verify_envelope(bytes), nullptr);
}

TEST(EnvelopeCodec, GarbageFailsVerification) {
  std::vector<uint8_t> garbage(64);
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = uint8_t(i * 37 + 11);
  EXPECT_EQ(verify_envelope(garbage), nullptr);
  std::memcpy(garbage.data() + 4, "PRLY", 4);  // right identifier, bad offsets
  EXPECT_EQ(verify_envelope(garbage), nullptr);
}

TEST(EnvelopeCodec, TruncatedEnvelopeFailsVerification) {
  auto bytes = envelope_of(encode_response(1, "a.b", 0, "some error text", {}));
  for (size_t n = 0; n < bytes.size(); n += 3) {
    EXPECT_EQ(verify_envelope({bytes.data(), n}), nullptr) << n;
  }
}

TEST(EnvelopeCodec, WelcomePayloadVerifiesAsPSYS) {
  auto w = encode_welcome(1, "parleyd/x", 4096, {{"auth", "1.0"}}, {"sys.hello", "auth.login"});
  ASSERT_TRUE(flatbuffers::BufferHasIdentifier(w.data(), "PSYS"));
  flatbuffers::Verifier v(w.data(), w.size());
  ASSERT_TRUE(v.VerifyBuffer<parley::sys::Welcome>("PSYS"));
  auto* welcome = flatbuffers::GetRoot<parley::sys::Welcome>(w.data());
  EXPECT_EQ(welcome->protocol(), 1);
  EXPECT_EQ(welcome->server()->str(), "parleyd/x");
  EXPECT_EQ(welcome->max_frame_bytes(), 4096u);
  EXPECT_EQ(welcome->plugins()->Get(0)->name()->str(), "auth");
  EXPECT_EQ(welcome->methods()->size(), 2u);
}

// A conforming native client verifies the whole frame as FlatBuffers'
// size-prefixed buffer, alignment checks on (PROTOCOL.md §1); a WebSocket
// client verifies the Envelope alone. Events satisfy both from one encoding.
bool verifies_size_prefixed(const FramePtr& f) {
  flatbuffers::Verifier v(f->bytes.data(), f->bytes.size());
  return parley::VerifySizePrefixedEnvelopeBuffer(v);
}
bool verifies_standalone(const FramePtr& f) {
  auto e = envelope_of(f);  // a fresh, 8-aligned heap copy
  flatbuffers::Verifier v(e.data(), e.size());
  return parley::VerifyEnvelopeBuffer(v);
}

TEST(EnvelopeCodec, NativeResponseIsExactlyFinishSizePrefixed) {
  uint8_t payload[] = {9, 8, 7};
  auto f = encode_response(0x0102030405060708ull, "a.b", 0, {}, payload,
                           FrameLayout::SizePrefixed);
  EXPECT_TRUE(verifies_size_prefixed(f));
  auto* e = parley::GetSizePrefixedEnvelope(f->bytes.data());
  EXPECT_EQ(e->id(), 0x0102030405060708ull);
}

TEST(EnvelopeCodec, StandaloneResponseVerifiesWithoutPrefix) {
  auto f = encode_response(77, "a.b", 0, {}, {}, FrameLayout::Standalone);
  EXPECT_TRUE(verifies_standalone(f));
  EXPECT_EQ(envelope_id(verify_envelope(f->envelope())), 77u);
}

TEST(EnvelopeCodec, EventsVerifyInBothLayouts) {
  uint8_t payload[] = {1, 2, 3, 4, 5};
  auto ev = encode_event("rooms.message", payload);
  EXPECT_TRUE(verifies_size_prefixed(ev));
  EXPECT_TRUE(verifies_standalone(ev));
  auto closing = encode_closing(9, "shutting down");
  EXPECT_TRUE(verifies_size_prefixed(closing));
  EXPECT_TRUE(verifies_standalone(closing));
}

TEST(EnvelopeCodec, StringAtAnOddOffsetIsRejected) {
  // An Envelope whose method offset points one byte past a 4-byte boundary
  // (what the frame fuzzer found): reading through it would be a misaligned
  // access, so verification must fail whatever the layout.
  auto ok = envelope_of(encode_event("ab.cd", {}));
  auto* root = parley::GetEnvelope(ok.data());
  const uint8_t* field = reinterpret_cast<const uint8_t*>(root->method()) ;
  size_t string_at = static_cast<size_t>(field - ok.data());
  // The uoffset that points at the string is the only one whose target is it.
  std::vector<uint8_t> bad = ok;
  bad.resize(ok.size() + 16, 0);
  bool moved = false;
  for (size_t i = 0; i + 4 <= ok.size(); i += 4) {
    uint32_t v;
    std::memcpy(&v, ok.data() + i, 4);
    if (v != 0 && i + v == string_at) {
      size_t odd = ok.size() + 1;
      uint32_t len = 5, nv = static_cast<uint32_t>(odd - i);
      std::memcpy(bad.data() + odd, &len, 4);
      std::memcpy(bad.data() + odd + 4, "ab.cd", 5);
      std::memcpy(bad.data() + i, &nv, 4);
      moved = true;
    }
  }
  ASSERT_TRUE(moved);
  std::vector<uint64_t> words((bad.size() + 7) / 8);
  std::memcpy(words.data(), bad.data(), bad.size());
  std::span<const uint8_t> view(reinterpret_cast<const uint8_t*>(words.data()), bad.size());
  EXPECT_EQ(verify_envelope(view), nullptr);
}

TEST(EnvelopeCodec, StatusNames) {
  EXPECT_STREQ(status_name(11), "Malformed");
  EXPECT_STREQ(status_name(13), "Timeout");
  EXPECT_STREQ(status_name(999), "Unknown");
}

}  // namespace
}  // namespace parley::kernel
