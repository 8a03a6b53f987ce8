// Timeouts, slow consumers, max_connections and graceful shutdown. Each bad
// case checks that a healthy second connection keeps working.
#include <chrono>
#include <thread>

#include "parleyd_test_util.h"

namespace parley::kernel_test {
namespace {

using namespace std::chrono_literals;

TEST(Limits, HandshakeTimeoutClosesWithTimeout) {
  ServerOptions o;
  o.sets = {"timeouts.handshake_ms=300"};
  auto server = start_server(o);
  ASSERT_TRUE(server);
  auto silent = connect(*server);
  auto good = healthy(*server);
  ASSERT_TRUE(silent && good);
  auto start = std::chrono::steady_clock::now();
  expect_closed_with(*silent, parley::Status::Timeout, 3000);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
  expect_still_serves(*good);
}

TEST(Limits, IdleTimeoutClosesWithTimeoutButActivityKeepsAlive) {
  ServerOptions o;
  o.sets = {"timeouts.idle_ms=600"};
  auto server = start_server(o);
  ASSERT_TRUE(server);
  auto idle = healthy(*server);
  auto busy = healthy(*server);
  ASSERT_TRUE(idle && busy);
  // The busy connection pings every 150 ms across more than one idle period.
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(150ms);
    expect_still_serves(*busy);
  }
  expect_closed_with(*idle, parley::Status::Timeout, 2000);
  expect_still_serves(*busy);
}

TEST(Limits, SlowConsumerIsDisconnected) {
  ServerOptions o;
  o.sets = {"limits.max_pending_bytes=262144"};
  auto server = start_server(o);
  ASSERT_TRUE(server);
  ClientOptions small;
  small.rcvbuf = 4096;
  auto slow = healthy(*server, small);
  auto good = healthy(*server);
  ASSERT_TRUE(slow && good);
  // Each unknown sys.* request is answered Unimplemented with its (long)
  // method echoed: ~16 KiB out per request. The client never reads, so the
  // answers pile up until the server gives up on it (a server that buffered
  // without bound would hold ~24 MiB here).
  std::string method = "sys." + std::string(16000, 'x');
  auto frame = parley::test::frame(
      parley::test::envelope_bytes(parley::Kind::Request, 1, method));
  bool write_failed = false;
  for (int i = 0; i < 1500 && !write_failed; ++i) {
    write_failed = !slow->send_raw(frame);
    if (server->count_in_log("slow consumer") > 0) break;
  }
  EXPECT_TRUE(server->wait_for_log("slow consumer", 10000)) << server->log();
  EXPECT_TRUE(slow->wait_closed(10000));
  expect_still_serves(*good);
  // A connection that reads while it sends the same traffic is not cut off.
  for (int i = 0; i < 40; ++i) {
    auto id = good->send("sys." + std::string(16000, 'y'));
    auto r = good->read_response(id, 5000);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, status_of(parley::Status::Unimplemented));
  }
}

TEST(Limits, MaxConnectionsRefusesTheExtraConnection) {
  ServerOptions o;
  o.sets = {"limits.max_connections=2"};
  auto server = start_server(o);
  ASSERT_TRUE(server);
  auto a = healthy(*server);
  auto b = healthy(*server);
  ASSERT_TRUE(a && b);
  std::string error;
  auto extra = Client::connect("127.0.0.1", server->port(), {}, &error);
  if (extra) {
    // The TCP connection was accepted and then closed before TLS finished.
    EXPECT_TRUE(extra->wait_closed(3000));
  }
  EXPECT_TRUE(server->wait_for_log("limits.max_connections reached", 3000));
  expect_still_serves(*a);
  // Freeing a slot lets a new connection in.
  b->close();
  b.reset();
  std::this_thread::sleep_for(200ms);
  auto c = healthy(*server);
  ASSERT_TRUE(c);
  expect_still_serves(*c);
}

TEST(Limits, GracefulShutdownSendsUnavailableAndExitsZero) {
  auto server = start_server();
  ASSERT_TRUE(server);
  auto a = healthy(*server);
  auto b = healthy(*server);
  auto pre = connect(*server);  // no hello yet
  ASSERT_TRUE(a && b && pre);
  EXPECT_EQ(server->stop(SIGTERM, 10000), 0) << server->log();
  expect_closed_with(*a, parley::Status::Unavailable);
  expect_closed_with(*b, parley::Status::Unavailable);
  expect_closed_with(*pre, parley::Status::Unavailable);
  std::string log = server->log();
  EXPECT_NE(log.find("received SIGTERM"), std::string::npos);
  EXPECT_NE(log.find("server stopped"), std::string::npos) << log;  // uv_loop_close ok
  EXPECT_EQ(log.find("LeakSanitizer"), std::string::npos) << log;
}

TEST(Limits, SigintAlsoShutsDownCleanly) {
  auto server = start_server();
  ASSERT_TRUE(server);
  auto a = healthy(*server);
  ASSERT_TRUE(a);
  EXPECT_EQ(server->stop(SIGINT, 10000), 0) << server->log();
  expect_closed_with(*a, parley::Status::Unavailable);
}

}  // namespace
}  // namespace parley::kernel_test
