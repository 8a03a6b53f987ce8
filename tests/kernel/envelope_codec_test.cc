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
  const parley::Envelope* e = verify_envelope(f->envelope());
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

TEST(EnvelopeCodec, StatusNames) {
  EXPECT_STREQ(status_name(11), "Malformed");
  EXPECT_STREQ(status_name(13), "Timeout");
  EXPECT_STREQ(status_name(999), "Unknown");
}

}  // namespace
}  // namespace parley::kernel
