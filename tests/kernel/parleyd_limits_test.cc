// Timeouts, slow consumers, max_connections and graceful shutdown. Each bad
// case checks that a healthy second connection keeps working.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

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
  o.sets = {"limits.max_pending_bytes=262144",
            "limits.max_pending_bytes_unauthenticated=262144"};
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

std::span<const uint8_t> text_bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Limits, UnauthenticatedSlowConsumerIsCutOffAtTheSmallerLimit) {
  // tauth.login (a test plugin with the auth capability) binds a user, so
  // both kinds of connection are in one server.
  ServerOptions o;
  o.plugin_dir = parley::test::test_plugin_dir();
  o.plugins_yaml = "tauth: {}";
  o.sets = {"limits.max_pending_bytes=33554432",
            "limits.max_pending_bytes_unauthenticated=65536"};
  auto server = start_server(o);
  ASSERT_TRUE(server);
  ClientOptions small;
  small.rcvbuf = 4096;
  auto anon = healthy(*server, small);
  auto authed = healthy(*server, small);
  ASSERT_TRUE(anon && authed);
  ASSERT_TRUE(authed->call("tauth.login", text_bytes("alice")).ok());

  // ~16 KiB of output per request (the long method is echoed), never read.
  std::string method = "sys." + std::string(16000, 'x');
  auto frame = parley::test::frame(
      parley::test::envelope_bytes(parley::Kind::Request, 1, method));
  const std::string cut =
      "closing status=ResourceExhausted reason=\"slow consumer: more than "
      "limits.max_pending_bytes_unauthenticated (65536) unsent before authentication\"";
  int sends = 0;
  for (; sends < 1500; ++sends) {
    if (!anon->send_raw(frame) || server->count_in_log(cut) > 0) break;
  }
  ASSERT_TRUE(server->wait_for_log(cut, 10000)) << server->log();
  EXPECT_TRUE(anon->wait_closed(10000));

  // The authenticated connection queues what cut the other off plus
  // ~512 KiB more, and is still served: its limit is 32 MiB.
  int authed_sends = sends + 32;
  for (int i = 0; i < authed_sends; ++i)
    authed->send_with_id(1000 + i, "sys." + std::string(16000, 'y'));
  Incoming pong = authed->call("sys.ping", std::span<const uint8_t>(), 10000);
  EXPECT_TRUE(pong.ok()) << pong.error;
  int answered = 0;
  for (int i = 0; i < authed_sends; ++i) {
    auto r = authed->read_response(1000 + i, 5000);
    if (!r) break;
    EXPECT_EQ(r->status, status_of(parley::Status::Unimplemented));
    ++answered;
  }
  EXPECT_EQ(answered, authed_sends);
  EXPECT_EQ(server->count_in_log("slow consumer"), 1u) << server->log();
  std::printf("unauthenticated cut off after %d requests of ~16 KB; authenticated read %d\n",
              sends, answered);
}

TEST(Limits, MaxConnectionsRefusesTheExtraConnectionWithUnavailable) {
  ServerOptions o;
  o.sets = {"limits.max_connections=2"};
  auto server = start_server(o);
  ASSERT_TRUE(server);
  auto a = healthy(*server);
  auto b = healthy(*server);
  ASSERT_TRUE(a && b);
  // The extra connection completes TLS and reads why it is turned away.
  auto extra = connect(*server);
  ASSERT_TRUE(extra);
  expect_closed_with(*extra, parley::Status::Unavailable, 3000);
  ASSERT_TRUE(extra->last_closing());
  EXPECT_NE(extra->last_closing()->error.find("limits.max_connections"), std::string::npos);
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

int raw_tcp_connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(Limits, RefusalsInProgressAreBoundedThenClosedAtAccept) {
  // 64 (Server::kMaxRefusalsInFlight) silent TCP connections past the limit
  // hold every polite-refusal slot until the handshake timeout: the next one
  // is closed at accept, without TLS.
  constexpr int kSlots = 64;
  ServerOptions o;
  o.sets = {"limits.max_connections=1", "timeouts.handshake_ms=60000"};
  auto server = start_server(o);
  ASSERT_TRUE(server);
  auto a = healthy(*server);
  ASSERT_TRUE(a);
  std::vector<int> silent;
  for (int i = 0; i < kSlots; ++i) {
    int fd = raw_tcp_connect(server->port());
    ASSERT_GE(fd, 0);
    silent.push_back(fd);
  }
  ASSERT_TRUE(server->wait_for_log("(1 connections)", 3000));
  for (int i = 0; i < 100 && server->count_in_log("limits.max_connections reached (") <
                                 static_cast<size_t>(kSlots); ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(server->count_in_log("limits.max_connections reached ("), static_cast<size_t>(kSlots));
  std::string error;
  auto over = Client::connect("127.0.0.1", server->port(), {}, &error);
  if (over) {
    EXPECT_TRUE(over->wait_closed(3000));
    EXPECT_FALSE(over->last_closing().has_value());
  }
  EXPECT_TRUE(server->wait_for_log("64 refusals in progress, closed at once", 3000))
      << server->log();
  expect_still_serves(*a);
  // Slots come back when the silent peers leave.
  for (int fd : silent) ::close(fd);
  std::this_thread::sleep_for(300ms);
  auto polite = connect(*server);
  ASSERT_TRUE(polite);
  expect_closed_with(*polite, parley::Status::Unavailable, 3000);
  expect_still_serves(*a);
  // Shutdown does not wait for refusals, neither one stuck in its TLS
  // handshake (60 s here) nor one lingering after sys.closing (2 s).
  int stuck = raw_tcp_connect(server->port());
  ASSERT_GE(stuck, 0);
  ASSERT_TRUE(server->wait_for_log("(1 connections)", 3000));
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(server->stop(SIGTERM, 10000), 0) << server->log();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  ::close(stuck);
}

long rss_kib(pid_t pid) {
  auto status = parley::test::read_file("/proc/" + std::to_string(pid) + "/status");
  if (!status) return -1;
  size_t at = status->find("VmRSS:");
  return at == std::string::npos ? -1 : std::stol(status->substr(at + 6));
}

TEST(Limits, SilentTlsConnectionsHoldNoTlsState) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "RSS is not meaningful under ASan";
#endif
  // The SSL object (~9 KiB with OpenSSL 3.0) is made at a connection's
  // first bytes: 400 connections that never send cost ~1 KiB each, not ~10.
  constexpr int kSilent = 400;
  ServerOptions o;
  o.sets = {"timeouts.handshake_ms=60000"};
  auto server = start_server(o);
  ASSERT_TRUE(server);
  auto a = healthy(*server);  // warms up TLS and the allocator
  ASSERT_TRUE(a);
  std::this_thread::sleep_for(100ms);
  long before = rss_kib(server->pid());
  std::vector<int> silent;
  for (int i = 0; i < kSilent; ++i) {
    int fd = raw_tcp_connect(server->port());
    ASSERT_GE(fd, 0);
    silent.push_back(fd);
  }
  for (int i = 0; i < 200 && server->count_in_log("accepted peer=") < kSilent + 1u; ++i)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(server->count_in_log("accepted peer="), kSilent + 1u);
  long after = rss_kib(server->pid());
  std::printf("%d silent TLS connections: server RSS %ld -> %ld KiB (%.2f KiB each)\n", kSilent,
              before, after, double(after - before) / kSilent);
  EXPECT_LT(after - before, 3 * kSilent) << "more than 3 KiB per silent connection";
  expect_still_serves(*a);
  for (int fd : silent) ::close(fd);
}

TEST(Limits, IdleTlsSessionsStaySmall) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "RSS is not meaningful under ASan";
#endif
  // Idle TLS 1.3 sessions (hello answered) hold OpenSSL's state and little
  // else: no read, ciphertext, frame or queue buffers. ~15 KiB each today,
  // of which OpenSSL 3.0 is ~14 KiB (bench/README.md has the breakdown).
  constexpr int kIdle = 300;
  auto server = start_server();
  ASSERT_TRUE(server);
  auto warm = healthy(*server);
  ASSERT_TRUE(warm);
  std::this_thread::sleep_for(100ms);
  long before = rss_kib(server->pid());
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < kIdle; ++i) {
    idle.push_back(healthy(*server));
    ASSERT_TRUE(idle.back());
  }
  std::this_thread::sleep_for(100ms);
  long after = rss_kib(server->pid());
  std::printf("%d idle TLS sessions: server RSS %ld -> %ld KiB (%.2f KiB each)\n", kIdle, before,
              after, double(after - before) / kIdle);
  EXPECT_LT(after - before, 17 * kIdle) << "more than 17 KiB per idle TLS session";
  expect_still_serves(*idle.front());
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
