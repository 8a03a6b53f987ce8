// The bad-input matrix of issue 11 through the real protocol (TLS, parleyd
// with persistence + auth + rooms): each hostile input gets its status, and
// the connection closes (framing and Envelope errors, PROTOCOL.md §1) or
// stays (payload errors: a Response, §1/§3) within 100 ms — while healthy
// clients alongside keep sending messages and see no error at all.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "hostile_util.h"

namespace parley::hostile {
namespace {

namespace afb = parley::auth;
namespace rfb = parley::rooms;
using parley::test::envelope_bytes;
using parley::test::frame;
using parley::test::length_prefix;

// The contract is "within 100 ms" (issue 11). Every latency is measured and
// the maximum printed at the end; the assertion allows 1 s so that a loaded
// 2-core CI machine (with 100 healthy clients running alongside) does not
// make it flaky, while still far below the server's handshake timeout
// (500 ms would show as Timeout, not as the expected status) and idle
// timeout (30 s): a close this fast came from the bad input, not a timer.
constexpr int kContractMs = 100;
constexpr int kPromptMs = 1000;
constexpr int kHealthyClients = 100;

// Measured latencies of the matrix (closes and refusals, microseconds
// since the bad input was sent), for the summary.
struct Latencies {
  long max_close_us = 0, max_answer_us = 0;
  int closes = 0, answers = 0, over_contract = 0;
  static long us_since(Clock::time_point t) {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count());
  }
  void close(Clock::time_point sent) {
    long us = us_since(sent);
    ++closes;
    max_close_us = std::max(max_close_us, us);
    over_contract += us > kContractMs * 1000;
  }
  void answer(Clock::time_point sent) {
    long us = us_since(sent);
    ++answers;
    max_answer_us = std::max(max_answer_us, us);
    over_contract += us > kContractMs * 1000;
  }
};
Latencies latencies;

class BadInput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = start_hostile_server().release();
    ASSERT_TRUE(server_);
    healthy_ = new HealthyClients(*server_, kHealthyClients);
  }
  static void TearDownTestSuite() {
    if (healthy_) {
      int errors = healthy_->stop();
      EXPECT_EQ(errors, 0) << healthy_->errors_text();
      EXPECT_GT(healthy_->requests(), 0u);
      std::printf(
          "healthy clients: %d in rooms of 4, requests answered: %llu, messages received: "
          "%llu, errors: %d\n",
          kHealthyClients, static_cast<unsigned long long>(healthy_->requests()),
          static_cast<unsigned long long>(healthy_->events()), errors);
      std::printf(
          "bad input: %d closes, slowest %.1f ms; %d refusals answered, slowest %.1f ms; over "
          "the %d ms contract: %d (asserted < %d ms)\n",
          latencies.closes, latencies.max_close_us / 1000.0, latencies.answers,
          latencies.max_answer_us / 1000.0,
          kContractMs, latencies.over_contract, kPromptMs);
    }
    delete healthy_;
    healthy_ = nullptr;
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(server_); }

  // The server closes `c` promptly after sys.closing with `status`.
  void expect_prompt_close(Client& c, Clock::time_point sent, parley::Status status) {
    ASSERT_TRUE(c.wait_closed(2000)) << "the server did not close the connection";
    long took = ms_since(sent);
    latencies.close(sent);
    auto closing = c.last_closing();
    ASSERT_TRUE(closing.has_value()) << "no sys.closing before the close";
    EXPECT_EQ(closing->status, status_of(status)) << closing->error;
    EXPECT_LE(took, kPromptMs) << "close took " << took << " ms";
  }

  // A Request with `payload` gets a Response with `status` within 100 ms
  // and the connection keeps serving.
  void expect_refused_and_stays(Client& c, const std::string& method,
                                std::span<const uint8_t> payload, parley::Status status) {
    auto sent = Clock::now();
    uint64_t id = c.send(method, payload);
    auto r = c.read_response(id, 5000);
    long took = ms_since(sent);
    latencies.answer(sent);
    const std::string name = method.substr(0, 40);
    auto closing = c.last_closing();
    ASSERT_TRUE(r.has_value()) << name << ": no response; closed=" << c.closed()
                               << " closing=" << (closing ? closing->error : "none");
    EXPECT_EQ(r->status, status_of(status)) << name << ": " << r->error.substr(0, 200);
    EXPECT_FALSE(r->error.empty()) << name << ": a refusal says why";
    EXPECT_LE(took, kPromptMs) << name << " answered after " << took << " ms";
    Incoming pong = c.call("sys.ping");
    EXPECT_TRUE(pong.ok()) << "the connection did not stay usable after " << name;
  }

  // A connection that said hello and registered (rooms.* need a session).
  std::unique_ptr<Client> authed(User* user = nullptr) {
    auto c = connect_hello(*server_);
    if (!c) return c;
    User u = register_user(*c);
    if (user) *user = u;
    return c;
  }

  static ServerProcess* server_;
  static HealthyClients* healthy_;
};
ServerProcess* BadInput::server_ = nullptr;
HealthyClients* BadInput::healthy_ = nullptr;

// ----------------------------------------------------------- framing ----

TEST_F(BadInput, LengthZeroIsMalformedAndCloses) {
  auto c = connect_hello(*server_);
  ASSERT_TRUE(c);
  auto sent = Clock::now();
  ASSERT_TRUE(c->send_raw(length_prefix(0)));
  expect_prompt_close(*c, sent, parley::Status::Malformed);
}

TEST_F(BadInput, LengthBelowMinimumIsMalformedAndCloses) {
  auto c = connect_hello(*server_);
  ASSERT_TRUE(c);
  auto sent = Clock::now();
  ASSERT_TRUE(c->send_raw(length_prefix(7)));
  expect_prompt_close(*c, sent, parley::Status::Malformed);
}

TEST_F(BadInput, LengthAboveLimitIsFrameTooLargeAndCloses) {
  for (uint32_t length : {kMaxFrameBytes + 1, 0xFFFFFFFFu}) {
    auto c = connect_hello(*server_);
    ASSERT_TRUE(c);
    auto sent = Clock::now();
    ASSERT_TRUE(c->send_raw(length_prefix(length)));
    expect_prompt_close(*c, sent, parley::Status::FrameTooLarge);
  }
}

TEST_F(BadInput, LengthAboveLimitBeforeHelloAlsoCloses) {
  auto c = connect_raw(*server_);
  ASSERT_TRUE(c);
  auto sent = Clock::now();
  ASSERT_TRUE(c->send_raw(length_prefix(kMaxFrameBytes + 1)));
  expect_prompt_close(*c, sent, parley::Status::FrameTooLarge);
}

TEST_F(BadInput, TruncatedHeaderThenSilenceIsReapedByTheHandshakeTimeout) {
  auto c = connect_raw(*server_);
  ASSERT_TRUE(c);
  auto sent = Clock::now();
  const uint8_t half[2] = {0x20, 0x00};
  ASSERT_TRUE(c->send_raw(half));
  ASSERT_TRUE(c->wait_closed(kHandshakeMs + 2000));
  long took = ms_since(sent);
  auto closing = c->last_closing();
  ASSERT_TRUE(closing.has_value());
  EXPECT_EQ(closing->status, status_of(parley::Status::Timeout)) << closing->error;
  EXPECT_GE(took, kHandshakeMs - 100);
}

TEST_F(BadInput, TruncatedFrameAfterHelloStaysUntilCompleted) {
  // Half a frame is not an error by itself: the rest may still come.
  auto c = connect_hello(*server_);
  ASSERT_TRUE(c);
  auto ping = frame(envelope_bytes(parley::Kind::Request, 77, "sys.ping"));
  ASSERT_TRUE(c->send_raw(std::span(ping).first(6)));
  EXPECT_FALSE(c->read(200).has_value());
  EXPECT_FALSE(c->closed());
  ASSERT_TRUE(c->send_raw(std::span(ping).subspan(6)));
  auto r = c->read_response(77, 2000);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->ok());
}

// ---------------------------------------------------------- envelopes ---

TEST_F(BadInput, VerifierFailureIsMalformedAndCloses) {
  // "PRLY" where the identifier goes, and a root offset pointing far
  // outside the buffer.
  std::vector<uint8_t> env = {0xF0, 0xFF, 0x00, 0x00, 'P', 'R', 'L', 'Y',
                              0,    0,    0,    0,    0,   0,   0,   0};
  auto c = connect_hello(*server_);
  ASSERT_TRUE(c);
  auto sent = Clock::now();
  ASSERT_TRUE(c->send_raw(frame(env)));
  expect_prompt_close(*c, sent, parley::Status::Malformed);
}

TEST_F(BadInput, CorruptedValidEnvelopeIsMalformedAndCloses) {
  // A real Request whose method string's length is made huge.
  auto env = envelope_bytes(parley::Kind::Request, 5, "sys.ping");
  auto pos = std::search(env.begin(), env.end(), std::begin("sys.ping"), std::end("sys.ping") - 1);
  ASSERT_NE(pos, env.end());
  size_t at = static_cast<size_t>(pos - env.begin()) - 4;
  env[at + 2] = 0x7F;
  auto c = connect_hello(*server_);
  ASSERT_TRUE(c);
  auto sent = Clock::now();
  ASSERT_TRUE(c->send_raw(frame(env)));
  expect_prompt_close(*c, sent, parley::Status::Malformed);
}

TEST_F(BadInput, MisalignedEnvelopeFieldsDoNotTakeTheServerDown) {
  // The fuzzer's reproducer (tests/fuzz/corpus/frame/regress-misaligned-
  // method, minus its chunk-size byte): a frame that verifies only without
  // alignment checks, its strings at odd offsets. Reading them is undefined
  // behaviour; a sanitizer build of parleyd aborts here until the kernel
  // verifies alignment (docs/security.md, "Known finding"). Whatever the
  // answer, the server must survive and keep serving.
  auto bytes = parley::test::read_file(parley::test::source_dir() +
                                       "/tests/fuzz/corpus/frame/regress-misaligned-method");
  ASSERT_TRUE(bytes.has_value() && bytes->size() > 1);
  std::vector<uint8_t> stream(bytes->begin() + 1, bytes->end());
  auto c = connect_raw(*server_);
  ASSERT_TRUE(c);
  c->send_raw(stream);
  c->wait_closed(300);  // closed or answered: both acceptable here
  ASSERT_TRUE(server_->alive()) << "parleyd died on a misaligned frame";
  auto probe = connect_hello(*server_);
  ASSERT_TRUE(probe);
  EXPECT_TRUE(probe->call("sys.ping").ok());
}

TEST_F(BadInput, WrongFileIdentifierIsMalformedAndCloses) {
  auto env = envelope_bytes(parley::Kind::Request, 9, "sys.ping");
  ASSERT_EQ(std::memcmp(env.data() + 4, "PRLY", 4), 0);
  std::memcpy(env.data() + 4, "XRLY", 4);
  auto c = connect_hello(*server_);
  ASSERT_TRUE(c);
  auto sent = Clock::now();
  ASSERT_TRUE(c->send_raw(frame(env)));
  expect_prompt_close(*c, sent, parley::Status::Malformed);
}

TEST_F(BadInput, UnknownMethodIsUnimplementedAndStays) {
  auto c = connect_hello(*server_);
  ASSERT_TRUE(c);
  expect_refused_and_stays(*c, "nosuch.method", {}, parley::Status::Unimplemented);
  expect_refused_and_stays(*c, "rooms.nosuch", {}, parley::Status::Unimplemented);
  // A long method name: answered, not a crash. (The answer echoes the name
  // twice, in `method` and in `error`; kept under max_frame_bytes here.)
  expect_refused_and_stays(*c, "x." + std::string(kMaxFrameBytes / 4, 'm'), {},
                           parley::Status::Unimplemented);
}

TEST_F(BadInput, RequestBeforeHelloIsFailedPrecondition) {
  auto c = connect_raw(*server_);
  ASSERT_TRUE(c);
  auto sent = Clock::now();
  uint64_t id = c->send("auth.whoami");
  auto r = c->read_response(id, 2000);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, status_of(parley::Status::FailedPrecondition)) << r->error;
  latencies.answer(sent);
  EXPECT_LE(ms_since(sent), kPromptMs);
}

// ----------------------------------------------------------- payloads ---

TEST_F(BadInput, WrongPayloadIdentifierIsInvalidArgumentAndStays) {
  auto c = connect_hello(*server_);
  ASSERT_TRUE(c);
  // A valid Login table, finished with the rooms identifier.
  auto login = payload("PROM", [](flatbuffers::FlatBufferBuilder& fbb) {
    return afb::CreateLoginDirect(fbb, "+15550102030", "correct horse battery");
  });
  expect_refused_and_stays(*c, "auth.login", login, parley::Status::InvalidArgument);
  auto garbage = std::vector<uint8_t>(64, 0xA5);
  expect_refused_and_stays(*c, "auth.register", garbage, parley::Status::InvalidArgument);
  User u;
  auto a = authed(&u);
  ASSERT_TRUE(a);
  auto send = payload("PAUT", [](flatbuffers::FlatBufferBuilder& fbb) {
    return afb::CreateResumeDirect(fbb, "not a send");
  });
  expect_refused_and_stays(*a, "rooms.send", send, parley::Status::InvalidArgument);
  expect_refused_and_stays(*a, "rooms.send", garbage, parley::Status::InvalidArgument);
}

TEST_F(BadInput, OversizedStringsAreInvalidArgumentAndStay) {
  auto c = connect_hello(*server_);
  ASSERT_TRUE(c);
  std::string long_name(1000, 'n');  // display name: 1 to 64 characters
  auto reg = payload("PAUT", [&](flatbuffers::FlatBufferBuilder& fbb) {
    return afb::CreateRegisterDirect(fbb, "+15550109999", "correct horse battery",
                                     long_name.c_str());
  });
  expect_refused_and_stays(*c, "auth.register", reg, parley::Status::InvalidArgument);
  std::string long_password(4000, 'p');  // password: 8 to 128 bytes
  auto login = payload("PAUT", [&](flatbuffers::FlatBufferBuilder& fbb) {
    return afb::CreateLoginDirect(fbb, "+15550109999", long_password.c_str());
  });
  expect_refused_and_stays(*c, "auth.login", login, parley::Status::InvalidArgument);

  auto a = authed();
  ASSERT_TRUE(a);
  std::string room = create_room(*a);
  ASSERT_FALSE(room.empty());
  std::string long_text(16385, 't');  // max_text_bytes defaults to 16 KiB
  auto send = payload("PROM", [&](flatbuffers::FlatBufferBuilder& fbb) {
    return rfb::CreateSendDirect(fbb, room.c_str(), "big", long_text.c_str());
  });
  expect_refused_and_stays(*a, "rooms.send", send, parley::Status::InvalidArgument);
  std::string long_msg_id(65, 'c');  // client_msg_id: 1 to 64 bytes
  auto send2 = payload("PROM", [&](flatbuffers::FlatBufferBuilder& fbb) {
    return rfb::CreateSendDirect(fbb, room.c_str(), long_msg_id.c_str(), "hi");
  });
  expect_refused_and_stays(*a, "rooms.send", send2, parley::Status::InvalidArgument);
  std::string long_room_name(101 * 4, 'r');
  auto create = payload("PROM", [&](flatbuffers::FlatBufferBuilder& fbb) {
    return rfb::CreateCreateDirect(fbb, long_room_name.c_str(), nullptr);
  });
  expect_refused_and_stays(*a, "rooms.create", create, parley::Status::InvalidArgument);
}

TEST_F(BadInput, InvalidUtf8IsInvalidArgumentAndStays) {
  // Overlong, surrogate, truncated sequence, above U+10FFFF, stray byte.
  const char* bad[] = {"\xc0\xaf", "a\xed\xa0\x80z", "abc\xe2\x82", "\xf4\x90\x80\x80", "\xff"};
  auto c = connect_hello(*server_);
  ASSERT_TRUE(c);
  int n = 0;
  for (const char* s : bad) {
    std::string phone = "+1555011" + std::to_string(1000 + n++);
    auto reg = payload("PAUT", [&](flatbuffers::FlatBufferBuilder& fbb) {
      return afb::CreateRegisterDirect(fbb, phone.c_str(), "correct horse battery", s);
    });
    expect_refused_and_stays(*c, "auth.register", reg, parley::Status::InvalidArgument);
  }
  auto a = authed();
  ASSERT_TRUE(a);
  std::string room = create_room(*a);
  ASSERT_FALSE(room.empty());
  for (const char* s : bad) {
    auto send = payload("PROM", [&](flatbuffers::FlatBufferBuilder& fbb) {
      return rfb::CreateSendDirect(fbb, room.c_str(), "u", s);
    });
    expect_refused_and_stays(*a, "rooms.send", send, parley::Status::InvalidArgument);
    auto create = payload("PROM", [&](flatbuffers::FlatBufferBuilder& fbb) {
      return rfb::CreateCreateDirect(fbb, s, nullptr);
    });
    expect_refused_and_stays(*a, "rooms.create", create, parley::Status::InvalidArgument);
  }
  // Nothing of the refused sends was stored.
  auto hist = payload("PROM", [&](flatbuffers::FlatBufferBuilder& fbb) {
    return rfb::CreateHistoryDirect(fbb, room.c_str());
  });
  Incoming h = a->call("rooms.history", hist);
  ASSERT_TRUE(h.ok()) << h.error;
  auto* list = parley::test::payload_as<rfb::MessageList>(h, "PROM");
  ASSERT_TRUE(list);
  EXPECT_TRUE(!list->messages() || list->messages()->size() == 0);
}

TEST_F(BadInput, HugeVectorsAreRefusedAndStay) {
  auto a = authed();
  ASSERT_TRUE(a);
  // 3000 member ids (max_members 1000), in a frame under the limit.
  auto create = payload("PROM", [](flatbuffers::FlatBufferBuilder& fbb) {
    std::vector<flatbuffers::Offset<flatbuffers::String>> ids;
    for (int i = 0; i < 3000; ++i) ids.push_back(fbb.CreateString("u" + std::to_string(i)));
    return rfb::CreateCreateDirect(fbb, "huge", &ids);
  });
  ASSERT_LT(create.size(), kMaxFrameBytes - 64);
  expect_refused_and_stays(*a, "rooms.create", create, parley::Status::InvalidArgument);
  // A vector whose declared length runs past the buffer: the payload
  // Verifier refuses it.
  auto add = payload("PROM", [](flatbuffers::FlatBufferBuilder& fbb) {
    std::vector<flatbuffers::Offset<flatbuffers::String>> ids = {fbb.CreateString("x")};
    return rfb::CreateAddMembersDirect(fbb, "r", &ids);
  });
  // Find the vector length 1 followed by an offset and make it 1e6.
  for (size_t i = 8; i + 4 <= add.size(); i += 4) {
    if (add[i] == 1 && add[i + 1] == 0 && add[i + 2] == 0 && add[i + 3] == 0) {
      add[i + 2] = 0x0F;
      break;
    }
  }
  expect_refused_and_stays(*a, "rooms.add_members", add, parley::Status::InvalidArgument);
  // An Envelope payload vector of 60 KB of zeros for a method with an empty
  // request: refused or ignored, never a crash, and the connection stays.
  std::vector<uint8_t> zeros(60000, 0);
  uint64_t id = a->send("rooms.list", zeros);
  auto r = a->read_response(id, 2000);
  ASSERT_TRUE(r.has_value());
  Incoming pong = a->call("sys.ping");
  EXPECT_TRUE(pong.ok());
}

TEST_F(BadInput, BadTokensAreUnauthenticatedAndStay) {
  auto c = connect_hello(*server_);
  ASSERT_TRUE(c);
  for (std::string token : {std::string("garbage"), std::string(""), std::string(4000, 'A'),
                            std::string("\xff\xfe\x00zz", 5),
                            std::string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")}) {
    auto resume = payload("PAUT", [&](flatbuffers::FlatBufferBuilder& fbb) {
      return afb::CreateResume(fbb, fbb.CreateString(token));
    });
    auto sent = Clock::now();
    uint64_t id = c->send("auth.resume", resume);
    auto r = c->read_response(id, 5000);
    ASSERT_TRUE(r.has_value());
    // A malformed token may be refused as InvalidArgument; a well-formed
    // unknown one must be Unauthenticated. Never Ok.
    EXPECT_TRUE(r->status == status_of(parley::Status::Unauthenticated) ||
                r->status == status_of(parley::Status::InvalidArgument))
        << r->status << " " << r->error;
    latencies.answer(sent);
    EXPECT_LE(ms_since(sent), kPromptMs);
  }
  auto refresh = payload("PAUT", [](flatbuffers::FlatBufferBuilder& fbb) {
    return afb::CreateRefreshDirect(fbb, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  });
  uint64_t id = c->send("auth.refresh", refresh);
  auto r = c->read_response(id, 5000);
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->status, 0);
  // Still not authenticated: a session method is refused.
  Incoming who = c->call("auth.whoami");
  EXPECT_EQ(who.status, status_of(parley::Status::Unauthenticated));
  Incoming list = c->call("rooms.list");
  EXPECT_EQ(list.status, status_of(parley::Status::Unauthenticated));
}

}  // namespace
}  // namespace parley::hostile
