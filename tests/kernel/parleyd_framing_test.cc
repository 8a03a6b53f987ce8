// Framing and verification failures: each gets the right sys.closing and a
// close, and a healthy second connection keeps working.
#include <cstring>

#include "parleyd_test_util.h"

namespace parley::kernel_test {
namespace {

class Framing : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.sets = {"limits.max_frame_bytes=4096"};
    server_ = start_server(o);
    ASSERT_TRUE(server_);
    bad_ = connect(*server_);
    good_ = healthy(*server_);
    ASSERT_TRUE(bad_ && good_);
    bad_->hello();
  }
  void TearDown() override {
    if (good_) expect_still_serves(*good_);
  }
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> bad_, good_;
};

TEST_F(Framing, OversizedLengthPrefixIsFrameTooLarge) {
  ASSERT_TRUE(bad_->send_raw(parley::test::length_prefix(4097)));
  expect_closed_with(*bad_, parley::Status::FrameTooLarge);
}

TEST_F(Framing, HugeLengthPrefixIsFrameTooLarge) {
  ASSERT_TRUE(bad_->send_raw(parley::test::length_prefix(0xFFFFFFFFu)));
  expect_closed_with(*bad_, parley::Status::FrameTooLarge);
}

TEST_F(Framing, FrameAtTheLimitIsAccepted) {
  // A Request whose method pads the frame to exactly max_frame_bytes.
  std::string method = "sys.";
  std::vector<uint8_t> env;
  for (size_t pad = 4000; pad > 3900; --pad) {
    method = "sys." + std::string(pad, 'x');
    env = parley::test::envelope_bytes(parley::Kind::Request, 77, method);
    if (env.size() <= 4096) break;
  }
  ASSERT_LE(env.size(), 4096u);
  ASSERT_TRUE(bad_->send_raw(parley::test::frame(env)));
  auto r = bad_->read_response(77, 5000);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, status_of(parley::Status::Unimplemented));
}

TEST_F(Framing, LengthBelowEightIsMalformed) {
  std::vector<uint8_t> bytes = parley::test::length_prefix(4);
  bytes.insert(bytes.end(), {1, 2, 3, 4});
  ASSERT_TRUE(bad_->send_raw(bytes));
  expect_closed_with(*bad_, parley::Status::Malformed);
}

TEST_F(Framing, GarbageBufferIsMalformed) {
  std::vector<uint8_t> garbage(100);
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = uint8_t(i * 131 + 7);
  ASSERT_TRUE(bad_->send_raw(parley::test::frame(garbage)));
  expect_closed_with(*bad_, parley::Status::Malformed);
}

TEST_F(Framing, WrongFileIdentifierIsMalformed) {
  auto env = parley::test::envelope_bytes(parley::Kind::Request, 5, "sys.ping");
  ASSERT_EQ(std::memcmp(env.data() + 4, "PRLY", 4), 0);
  std::memcpy(env.data() + 4, "PSYS", 4);
  ASSERT_TRUE(bad_->send_raw(parley::test::frame(env)));
  expect_closed_with(*bad_, parley::Status::Malformed);
}

TEST_F(Framing, NonRequestKindFromClientIsMalformed) {
  auto env = parley::test::envelope_bytes(parley::Kind::Response, 5, "sys.ping");
  ASSERT_TRUE(bad_->send_raw(parley::test::frame(env)));
  expect_closed_with(*bad_, parley::Status::Malformed);
}

TEST_F(Framing, FramesSplitAndMergedAcrossWritesAreDecoded) {
  std::vector<uint8_t> stream;
  for (uint64_t id = 100; id < 110; ++id) {
    auto f = parley::test::frame(parley::test::envelope_bytes(parley::Kind::Request, id, "sys.ping"));
    stream.insert(stream.end(), f.begin(), f.end());
  }
  // Uneven pieces: several frames per write and frames cut mid-prefix.
  size_t at = 0, piece = 3;
  while (at < stream.size()) {
    size_t n = std::min(piece, stream.size() - at);
    ASSERT_TRUE(bad_->send_raw({stream.data() + at, n}));
    at += n;
    piece = piece * 2 + 1;
  }
  for (uint64_t id = 100; id < 110; ++id) {
    auto r = bad_->read_response(id, 5000);
    ASSERT_TRUE(r.has_value()) << id;
    EXPECT_TRUE(r->ok());
  }
}

}  // namespace
}  // namespace parley::kernel_test
