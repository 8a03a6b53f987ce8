// Unit tests of the bridge's RFC 6455 frame checks (plugins/websocket/
// frame_validator.h): what is forwarded to wslay, what is held, which close
// code a violation gets, and that the verdict does not depend on how the
// stream is split into reads.
#include <gtest/gtest.h>

#include <string>

#include "frame_validator.h"

namespace parley::websocket {
namespace {

// A masked client frame with mask key 0 (payload bytes appear as sent).
std::string frame(uint8_t first, const std::string& payload) {
  std::string f(1, static_cast<char>(first));
  size_t n = payload.size();
  if (n < 126) {
    f += static_cast<char>(0x80 | n);
  } else {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xFF);
  }
  return f + std::string(4, '\0') + payload;
}
std::string close_frame(uint16_t code, const std::string& reason) {
  return frame(0x88, std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)} + reason);
}

// Feeds `stream` in pieces of `chunk` bytes; returns the first violation's
// code (0 if none) and collects what was forwarded and held.
struct Fed {
  uint16_t code = 0;
  std::string forwarded, held;
  bool close_complete = false;
};
Fed run(const std::string& stream, size_t chunk, uint64_t max = 1024) {
  FrameValidator v(max);
  Fed r;
  for (size_t at = 0; at < stream.size(); at += chunk) {
    std::string piece = stream.substr(at, chunk);
    FrameValidator::Verdict d = v.feed(piece);
    r.forwarded += piece.substr(0, d.forward);
    r.held += piece.substr(d.forward, d.accepted - d.forward);
    r.close_complete = r.close_complete || d.close_complete;
    if (d.close_code) {
      r.code = d.close_code;
      break;
    }
  }
  return r;
}

TEST(FrameValidator, SameVerdictForEverySplit) {
  struct Case {
    std::string stream;
    uint16_t code;
  } cases[] = {
      {frame(0x82, "envelope") + frame(0x89, "ping"), 0},
      {frame(0x01, "\xce") + frame(0x89, "p") + frame(0x80, "\xba"), 0},  // κ across frames
      {frame(0x81, "ok\xed\xa0\x80"), 1007},                             // surrogate
      {frame(0x81, "\xe2\x82"), 1007},                                   // ends mid-sequence
      {frame(0xC2, "x"), 1002},                                          // RSV1
      {frame(0x83, "x"), 1002},                                          // reserved opcode
      {std::string("\x82\x01x"), 1002},                                  // unmasked
      {frame(0x09, "x"), 1002},                                          // fragmented ping
      {frame(0x89, std::string(126, 'x')), 1002},                        // control > 125
      {frame(0x80, "x"), 1002},                                          // nothing to continue
      {frame(0x02, "a") + frame(0x82, "b"), 1002},                       // data inside a message
      {std::string("\x82\xfe\x00\x05") + std::string(9, '\0'), 1002},    // non-minimal length
      {frame(0x82, std::string(1025, 'x')), 1009},                       // above max
      {frame(0x02, std::string(1000, 'x')) + frame(0x80, std::string(25, 'x')), 1009},
      {frame(0x88, "\x03"), 1002},                                       // 1-byte close payload
      {close_frame(1005, ""), 1002},                                     // reserved close code
      {close_frame(1000, "\xff"), 1007},                                 // bad close reason
  };
  for (const auto& c : cases) {
    for (size_t chunk : {1u, 2u, 3u, 7u, 4096u}) {
      Fed r = run(c.stream, chunk);
      EXPECT_EQ(r.code, c.code) << "chunk " << chunk << " stream of " << c.stream.size() << " bytes";
    }
  }
}

TEST(FrameValidator, ForwardsUpToTheViolatingFrame) {
  std::string good = frame(0x82, "envelope");
  Fed r = run(good + frame(0xA2, "bad") + frame(0x89, "after"), 4096);
  EXPECT_EQ(r.code, 1002);
  EXPECT_EQ(r.forwarded, good);  // the frame library never sees the bad frame
}

TEST(FrameValidator, HoldsTheCloseFrameUntilComplete) {
  std::string data = frame(0x82, "envelope");
  std::string close = close_frame(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5");  // κόσμε
  for (size_t chunk : {1u, 5u, 9u, 4096u}) {
    Fed r = run(data + close + frame(0x82, "after the close"), chunk);
    EXPECT_EQ(r.code, 0);
    EXPECT_TRUE(r.close_complete);
    EXPECT_EQ(r.forwarded, data) << chunk;
    EXPECT_EQ(r.held, close) << chunk;  // whole, and nothing after it
  }
}

TEST(FrameValidator, FailsFastOnInvalidUtf8) {
  FrameValidator v(1024);
  std::string start = frame(0x01, std::string(10, 'a'));
  EXPECT_EQ(v.feed(start).close_code, 0);
  // The continuation's first byte cannot follow: refused before the rest arrives.
  FrameValidator::Verdict d = v.feed(std::string("\x80\x85\0\0\0\0\xf4\x90", 8));
  EXPECT_EQ(d.close_code, 1007);
  EXPECT_TRUE(v.failed());
  EXPECT_EQ(v.feed(frame(0x89, "")).accepted, 0u);  // sticky
}

TEST(Utf8Stream, AcceptsTheBoundariesAndRejectsTheRest) {
  auto valid = [](const std::string& s) {
    Utf8Stream u;
    for (char c : s)
      if (!u.feed(static_cast<uint8_t>(c))) return false;
    return u.complete();
  };
  EXPECT_TRUE(valid("\x7f\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf\xed\x9f\xbf\xee\x80\x80"));
  EXPECT_FALSE(valid("\xc0\xaf"));          // overlong
  EXPECT_FALSE(valid("\xe0\x9f\xbf"));      // overlong
  EXPECT_FALSE(valid("\xf0\x8f\xbf\xbf"));  // overlong
  EXPECT_FALSE(valid("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(valid("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(valid("\xf8\x88\x80\x80\x80"));
  EXPECT_FALSE(valid("\xce"));              // incomplete
  EXPECT_TRUE(valid("\xef\xbf\xbe"));       // noncharacters are valid
  EXPECT_TRUE(valid("\xf4\x8f\xbf\xbf"));
}

}  // namespace
}  // namespace parley::websocket
