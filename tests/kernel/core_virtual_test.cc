// The Core seam in-process: a Server without listeners, a fake Dispatcher
// and virtual connections (the transport a WebSocket bridge plugs in). Checks
// sessions, in-flight limits, the user index, fanout without copies, slow
// virtual consumers and the close contract (ops.close exactly once).
#include <gtest/gtest.h>
#include <parley/sys_generated.h>

#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "envelope_codec.h"
#include "parley/errors.h"
#include "server.h"

namespace parley::kernel {
namespace {

struct FakeDispatcher : Dispatcher {
  std::vector<ConnId> opened, closed;
  struct Req {
    ConnId conn;
    uint64_t id;
    std::string method;
  };
  std::vector<Req> requests;
  void on_conn_opened(const ConnInfo& c) override { opened.push_back(c.id); }
  void on_conn_closed(const ConnInfo& c) override { closed.push_back(c.id); }
  void on_request(const ConnInfo& c, uint64_t id, std::string_view method,
                  std::span<const uint8_t>) override {
    requests.push_back({c.id, id, std::string(method)});
  }
  std::vector<PluginDesc> plugins() const override { return {{"fake", "1.2.3"}}; }
  std::vector<std::string> methods() const override { return {"fake.hold"}; }
};

// A virtual transport that records every Envelope written to it.
struct Transport {
  std::vector<std::vector<uint8_t>> written;
  int closes = 0;
  uint16_t close_status = 0;
  int64_t pending = 0;  // what write() reports as still unsent
  static int64_t write(void* ud, const uint8_t* bytes, size_t len) {
    auto* t = static_cast<Transport*>(ud);
    t->written.emplace_back(bytes, bytes + len);
    return t->pending;
  }
  static void close(void* ud, uint16_t status, const char*) {
    auto* t = static_cast<Transport*>(ud);
    ++t->closes;
    t->close_status = status;
  }
  parley_virtual_ops ops() {
    parley_virtual_ops o{};
    o.struct_size = sizeof o;
    o.write = write;
    o.close = close;
    return o;
  }
  // The decoded Envelope i (copied to aligned memory).
  struct Seen {
    parley::Kind kind;
    uint64_t id;
    std::string method;
    uint16_t status;
  };
  Seen at(size_t i) const {
    std::vector<uint64_t> aligned((written.at(i).size() + 7) / 8);
    std::memcpy(aligned.data(), written[i].data(), written[i].size());
    auto* e = verify_envelope({reinterpret_cast<const uint8_t*>(aligned.data()), written[i].size()});
    EXPECT_NE(e, nullptr);
    if (!e) return {};
    return {e->kind(), e->id(), e->method() ? e->method()->str() : "", uint16_t(e->status())};
  }
};

std::vector<uint8_t> request(uint64_t id, std::string_view method,
                             std::span<const uint8_t> payload = {}) {
  auto f = encode_frame(parley::Kind::Request, id, method, 0, {}, payload,
                        FrameLayout::Standalone);  // as a WebSocket client sends it
  auto e = f->envelope();
  return {e.begin(), e.end()};
}

std::vector<uint8_t> hello_payload(uint16_t protocol = 1) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(parley::sys::CreateHello(fbb, protocol, fbb.CreateString("t")), "PSYS");
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

class CoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    config_.limits.max_inflight_requests = 3;
    config_.limits.max_pending_bytes = 4096;
    server_ = std::make_unique<Server>(&loop_, config_);
    server_->set_dispatcher(&dispatcher_);
  }
  void TearDown() override {
    if (!server_->shutting_down()) {
      bool done = false;
      server_->shutdown([&] { done = true; });
      run();
      EXPECT_TRUE(done);
    }
    server_.reset();
    run();
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }
  void run() {
    for (int i = 0; i < 5; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
  }
  ConnId open(Transport& t) { return server_->open_virtual(t.ops(), &t, "peer:1", "test"); }
  void feed(ConnId c, const std::vector<uint8_t>& env) {
    EXPECT_EQ(server_->feed(c, env), PARLEY_OK);
  }
  ConnId open_with_hello(Transport& t) {
    ConnId c = open(t);
    feed(c, request(1, "sys.hello", hello_payload()));
    run();
    return c;
  }

  // Transports outlive the server's connections (ud points at them).
  Transport& make() { return transports_.emplace_back(); }

  std::deque<Transport> transports_;
  uv_loop_t loop_{};
  Config config_;
  FakeDispatcher dispatcher_;
  std::unique_ptr<Server> server_;
};

TEST_F(CoreTest, VirtualConnectionSpeaksTheSession) {
  Transport& t = make();
  ConnId c = open(t);
  ASSERT_NE(c, 0u);
  EXPECT_EQ(dispatcher_.opened, std::vector<ConnId>{c});
  ASSERT_NE(server_->find(c), nullptr);
  EXPECT_EQ(server_->find(c)->transport, "test");
  feed(c, request(7, "sys.ping"));
  feed(c, request(8, "sys.hello", hello_payload()));
  feed(c, request(9, "sys.ping"));
  EXPECT_TRUE(t.written.empty());  // nothing is written before the flush pass
  run();
  ASSERT_EQ(t.written.size(), 3u);
  EXPECT_EQ(t.at(0).status, uint16_t(parley::Status::FailedPrecondition));
  EXPECT_EQ(t.at(1).status, 0);
  EXPECT_EQ(t.at(1).method, "sys.hello");
  EXPECT_EQ(t.at(2).id, 9u);
}

TEST_F(CoreTest, RequestsGoToTheDispatcherAndInflightIsLimited) {
  Transport& t = make();
  ConnId c = open_with_hello(t);
  for (uint64_t id = 10; id < 15; ++id) feed(c, request(id, "fake.hold"));
  ASSERT_EQ(dispatcher_.requests.size(), 3u);  // the limit is 3
  run();
  ASSERT_EQ(t.written.size(), 3u);  // Welcome + 2 ResourceExhausted
  EXPECT_EQ(t.at(1).status, uint16_t(parley::Status::ResourceExhausted));
  EXPECT_EQ(t.at(2).id, 14u);
  // Answering frees a slot.
  EXPECT_TRUE(server_->respond(c, 10, "fake.hold", 0, {}, {}));
  feed(c, request(15, "fake.hold"));
  EXPECT_EQ(dispatcher_.requests.size(), 4u);
}

TEST_F(CoreTest, QueueToUserFansOutTheSameFrame) {
  Transport &a = make(), &b = make(), &other = make();
  ConnId ca = open_with_hello(a), cb = open_with_hello(b), co = open_with_hello(other);
  EXPECT_EQ(server_->set_user(ca, "u1"), PARLEY_OK);
  EXPECT_EQ(server_->set_user(cb, "u1"), PARLEY_OK);
  EXPECT_EQ(server_->set_user(co, "u2"), PARLEY_OK);
  EXPECT_EQ(server_->find(ca)->user_id, "u1");
  FramePtr ev = encode_event("fake.event", {});
  EXPECT_EQ(server_->queue_to_user("u1", ev, 0), 2u);
  EXPECT_EQ(server_->queue_to_user("u1", ev, ca), 1u);
  EXPECT_EQ(server_->queue_to_user("nobody", ev, 0), 0u);
  run();
  EXPECT_EQ(a.written.size(), 2u);  // Welcome + 1
  EXPECT_EQ(b.written.size(), 3u);  // Welcome + 2
  EXPECT_EQ(other.written.size(), 1u);
  // Clearing the user removes it from the index.
  EXPECT_EQ(server_->set_user(cb, ""), PARLEY_OK);
  EXPECT_EQ(server_->queue_to_user("u1", ev, 0), 1u);
}

TEST_F(CoreTest, CloseSendsClosingThenCallsOpsCloseOnce) {
  Transport& t = make();
  ConnId c = open_with_hello(t);
  EXPECT_EQ(server_->close(c, uint16_t(parley::Status::Unauthenticated), "revoked"), PARLEY_OK);
  EXPECT_EQ(server_->find(c), nullptr);
  EXPECT_EQ(server_->close(c, 0, "again"), PARLEY_ECLOSED);
  EXPECT_FALSE(server_->respond(c, 1, "x.y", 0, {}, {}));
  run();
  ASSERT_EQ(t.written.size(), 2u);
  EXPECT_EQ(t.at(1).method, "sys.closing");
  EXPECT_EQ(t.at(1).status, uint16_t(parley::Status::Unauthenticated));
  EXPECT_EQ(t.closes, 1);
  EXPECT_EQ(dispatcher_.closed, std::vector<ConnId>{c});
}

TEST_F(CoreTest, VirtualGoneNeverCallsOpsClose) {
  Transport& t = make();
  ConnId c = open_with_hello(t);
  EXPECT_EQ(server_->virtual_gone(c), PARLEY_OK);
  EXPECT_EQ(server_->feed(c, request(2, "sys.ping")), PARLEY_ECLOSED);
  run();
  EXPECT_EQ(t.closes, 0);
  EXPECT_EQ(dispatcher_.closed, std::vector<ConnId>{c});
}

TEST_F(CoreTest, MalformedFeedClosesWithMalformed) {
  Transport& t = make();
  ConnId c = open_with_hello(t);
  std::vector<uint8_t> garbage(40, 0xab);
  feed(c, garbage);
  run();
  ASSERT_EQ(t.written.size(), 2u);
  EXPECT_EQ(t.at(1).method, "sys.closing");
  EXPECT_EQ(t.at(1).status, uint16_t(parley::Status::Malformed));
  EXPECT_EQ(t.closes, 1);
  EXPECT_EQ(t.close_status, uint16_t(parley::Status::Malformed));
}

TEST_F(CoreTest, SlowVirtualConsumerIsClosed) {
  Transport& t = make();
  ConnId c = open_with_hello(t);
  t.pending = 5000;  // above max_pending_bytes (4096)
  server_->queue(c, encode_event("fake.event", {}));
  run();
  EXPECT_EQ(t.closes, 1);
  EXPECT_EQ(t.close_status, uint16_t(parley::Status::ResourceExhausted));
  EXPECT_EQ(server_->find(c), nullptr);
}

TEST_F(CoreTest, ShutdownSendsUnavailableToVirtualConnections) {
  Transport& t = make();
  open_with_hello(t);
  bool done = false;
  server_->shutdown([&] { done = true; });
  run();
  EXPECT_TRUE(done);
  EXPECT_TRUE(server_->shutting_down());
  ASSERT_EQ(t.written.size(), 2u);
  EXPECT_EQ(t.at(1).status, uint16_t(parley::Status::Unavailable));
  EXPECT_EQ(t.closes, 1);
  Transport& late = make();
  EXPECT_EQ(open(late), 0u);  // no new connections while shutting down
}

}  // namespace
}  // namespace parley::kernel
