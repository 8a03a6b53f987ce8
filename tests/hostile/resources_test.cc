// Resource exhaustion by clients that do not play along: slowloris (silent
// and trickling connections reaped by the handshake timeout while a probe is
// served), a client that never reads (cut off at max_pending_bytes while the
// sender is unaffected), and connect/disconnect churn (file descriptors and
// memory back to baseline).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "hostile_util.h"

namespace parley::hostile {
namespace {

namespace rfb = parley::rooms;
using namespace std::chrono_literals;

// A plain TCP socket connected to the server (no TLS), or -1.
int tcp_connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// True when the peer has closed `fd` (EOF or reset), without blocking long.
bool peer_closed(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char buf[4096];
  ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n == 0) return true;
  if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
  return false;  // data (a TLS alert, say): the close comes next
}

// Waits until the server's fd count is back to at most `baseline`.
int settle_fds(pid_t pid, int baseline, int timeout_ms) {
  auto start = Clock::now();
  int n = fd_count(pid);
  while (n > baseline && ms_since(start) < timeout_ms) {
    std::this_thread::sleep_for(20ms);
    n = fd_count(pid);
  }
  return n;
}

TEST(Slowloris, SilentAndTricklingConnectionsAreReapedWhileAProbeIsServed) {
  // A longer handshake timeout than the suite's: opening 340 connections
  // (40 of them TLS) on a loaded 2-core CI machine can take most of 500 ms.
  constexpr int kReapMs = 1500;
  ServerOptions options = hostile_server_options();
  options.sets.push_back("timeouts.handshake_ms=" + std::to_string(kReapMs));
  std::string error;
  auto server = ServerProcess::start(options, &error);
  ASSERT_TRUE(server) << error;
  // A warm connection first, so that lazily opened files are in the baseline.
  {
    auto warm = connect_hello(*server);
    ASSERT_TRUE(warm);
  }
  const int base_fds = settle_fds(server->pid(), 1 << 20, 0);
  const long base_rss = rss_kib(server->pid());

  constexpr int kSilent = 150, kTrickling = 150, kTlsSilent = 40;
  std::vector<int> silent, trickling;
  auto opened = Clock::now();
  for (int i = 0; i < kSilent; ++i) {
    int fd = tcp_connect(server->port());
    ASSERT_GE(fd, 0) << "connect " << i;
    silent.push_back(fd);
  }
  for (int i = 0; i < kTrickling; ++i) {
    int fd = tcp_connect(server->port());
    ASSERT_GE(fd, 0) << "connect " << i;
    trickling.push_back(fd);
  }
  // Connections that finish TLS but never say hello.
  std::vector<std::unique_ptr<Client>> tls_silent;
  for (int i = 0; i < kTlsSilent; ++i) {
    auto c = connect_raw(*server);
    ASSERT_TRUE(c);
    tls_silent.push_back(std::move(c));
  }
  // The server did hold them (accepted, not left in the listen backlog).
  const int peak_fds = fd_count(server->pid());
  EXPECT_GE(peak_fds, base_fds + 100);

  // Trickle: a TLS record header announcing 512 bytes, then one byte per
  // 100 ms — never enough for a ClientHello, always "making progress".
  const uint8_t header[5] = {0x16, 0x03, 0x01, 0x02, 0x00};
  std::vector<size_t> sent(trickling.size(), 0);
  std::vector<bool> closed(trickling.size(), false);
  // A probe meanwhile: a full session (hello, register, room, send).
  auto probe = connect_hello(*server);
  ASSERT_TRUE(probe);
  User u = register_user(*probe);
  std::string room = create_room(*probe);
  EXPECT_FALSE(room.empty());

  int trickle_rounds = 0;
  size_t silent_closed = 0, trickling_closed = 0;
  std::vector<bool> silent_seen(silent.size(), false);
  while (ms_since(opened) < kReapMs + 3000) {
    for (size_t i = 0; i < trickling.size(); ++i) {
      if (closed[i]) continue;
      if (peer_closed(trickling[i])) {
        closed[i] = true;
        ++trickling_closed;
        continue;
      }
      uint8_t b = sent[i] < sizeof header ? header[sent[i]] : 0x01;
      if (::send(trickling[i], &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) ++sent[i];
    }
    for (size_t i = 0; i < silent.size(); ++i)
      if (!silent_seen[i] && peer_closed(silent[i])) {
        silent_seen[i] = true;
        ++silent_closed;
      }
    // The probe is served all along.
    Incoming pong = probe->call("sys.ping", std::span<const uint8_t>(), 2000);
    EXPECT_TRUE(pong.ok()) << "probe not served during the flood: " << pong.error;
    ++trickle_rounds;
    if (silent_closed == silent.size() && trickling_closed == trickling.size()) break;
    std::this_thread::sleep_for(100ms);
  }
  long reaped_after = ms_since(opened);
  EXPECT_EQ(silent_closed, silent.size()) << "silent TCP connections not reaped";
  EXPECT_EQ(trickling_closed, trickling.size()) << "trickling connections not reaped";
  EXPECT_GE(trickle_rounds, 3) << "the trickle ran only briefly";
  int tls_reaped = 0;
  for (auto& c : tls_silent) {
    if (c->wait_closed(2000)) {
      ++tls_reaped;
      auto closing = c->last_closing();
      if (closing) {
        EXPECT_EQ(closing->status, status_of(parley::Status::Timeout));
      }
    }
  }
  EXPECT_EQ(tls_reaped, kTlsSilent);
  std::printf("slowloris: %d silent + %d trickling TCP + %d silent TLS (server fds peak %d) "
              "reaped after %ld ms (handshake timeout %d ms); probe pings meanwhile: %d\n",
              kSilent, kTrickling, kTlsSilent, peak_fds, reaped_after, kReapMs, trickle_rounds);

  // The probe still works end to end.
  auto send = payload("PROM", [&](flatbuffers::FlatBufferBuilder& fbb) {
    return rfb::CreateSendDirect(fbb, room.c_str(), "after-flood", "still served");
  });
  Incoming r = probe->call("rooms.send", send);
  EXPECT_TRUE(r.ok()) << r.error;

  for (int fd : silent) ::close(fd);
  for (int fd : trickling) ::close(fd);
  tls_silent.clear();
  // Server-side, every reaped socket was closed: back to the baseline plus
  // the probe's connection.
  int fds = settle_fds(server->pid(), base_fds + 1, 3000);
  EXPECT_LE(fds, base_fds + 1) << "file descriptors leaked by reaped connections";
  long rss = rss_kib(server->pid());
  std::printf("slowloris: server fds %d -> %d, RSS %ld KiB -> %ld KiB\n", base_fds, fds, base_rss,
              rss);
  EXPECT_LT(rss - base_rss, 64 * 1024) << "memory grew by more than 64 MiB";
}

TEST(NeverReads, ARecipientThatNeverReadsIsCutOffAndTheSenderIsNot) {
  auto server = start_hostile_server();
  ASSERT_TRUE(server);
  ClientOptions small;
  small.rcvbuf = 4096;
  auto reader = connect_hello(*server, small);
  auto sender = connect_hello(*server);
  ASSERT_TRUE(reader && sender);
  User r = register_user(*reader);
  User s = register_user(*sender);
  ASSERT_FALSE(r.id.empty());
  std::string room = create_room(*sender, {r.id});
  ASSERT_FALSE(room.empty());

  // Every send fans a rooms.message event (~16 KB) out to `reader`, which
  // never reads: its output piles up until the server cuts it off at
  // max_pending_bytes (64 KiB here). The sender must not be held back.
  std::string text(16000, 'x');
  int sends = 0;
  for (; sends < 600; ++sends) {
    std::string id = "nr-" + std::to_string(sends);
    auto p = payload("PROM", [&](flatbuffers::FlatBufferBuilder& fbb) {
      return rfb::CreateSendDirect(fbb, room.c_str(), id.c_str(), text.c_str());
    });
    Incoming ack = sender->call("rooms.send", p, 5000);
    ASSERT_TRUE(ack.ok()) << "send " << sends << ": " << ack.error;
    if (server->count_in_log("slow consumer") > 0) break;
  }
  EXPECT_TRUE(server->wait_for_log("slow consumer", 5000)) << server->log();
  std::printf("never-reads: cut off after %d sends of 16 KB (max_pending_bytes %llu)\n", sends,
              static_cast<unsigned long long>(kMaxPendingBytes));
  // Reading now: what was already in the socket, then the close.
  EXPECT_TRUE(reader->wait_closed(5000));
  if (auto closing = reader->last_closing()) {
    EXPECT_EQ(closing->status, status_of(parley::Status::ResourceExhausted)) << closing->error;
  }
  Incoming pong = sender->call("sys.ping");
  EXPECT_TRUE(pong.ok());
}

TEST(Churn, ConnectDisconnectCyclesReturnFdsAndMemoryToBaseline) {
  auto server = start_hostile_server();
  ASSERT_TRUE(server);
  auto cycle = [&](int n, bool hello) {
    for (int i = 0; i < n; ++i) {
      std::string error;
      auto c = Client::connect("127.0.0.1", server->port(), {}, &error);
      ASSERT_TRUE(c) << "cycle " << i << ": " << error;
      if (hello) {
        Incoming w = c->call("sys.hello", parley::test::hello_payload(1, "churn"), 5000);
        ASSERT_TRUE(w.ok()) << w.error;
      }
      c->close();
    }
  };
  // Warm up (TLS session caches, allocator arenas) before the baseline.
  cycle(100, true);
  const int base_fds = settle_fds(server->pid(), 0, 500);
  const long base_rss = rss_kib(server->pid());
  auto start = Clock::now();
  constexpr int kCycles = 1000;
  cycle(kCycles / 2, true);
  cycle(kCycles / 2, false);  // half of them leave before saying hello
  long took = ms_since(start);
  int fds = settle_fds(server->pid(), base_fds, 3000);
  long rss = rss_kib(server->pid());
  std::printf("churn: %d cycles in %ld ms; server fds %d -> %d; RSS %ld KiB -> %ld KiB\n",
              kCycles, took, base_fds, fds, base_rss, rss);
  EXPECT_LE(fds, base_fds) << "file descriptors leaked";
#if !defined(__SANITIZE_ADDRESS__)
  // ASan's quarantine holds freed memory on purpose: RSS says nothing there.
  EXPECT_LT(rss - base_rss, 16 * 1024) << "memory grew by more than 16 MiB";
#endif
  auto c = connect_hello(*server);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->call("sys.ping").ok());
}

}  // namespace
}  // namespace parley::hostile
