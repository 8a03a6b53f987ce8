// Self-test of parley_test_support: frame helpers, child processes, the
// Client against an in-process fake server (plain and TLS), and — when the
// build has parleyd — a round trip against the real server.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "parley_test.h"

namespace parley::test {
namespace {

std::vector<uint8_t> request_frame(uint64_t id, std::string_view method,
                                   std::span<const uint8_t> payload = {}) {
  return frame(envelope_bytes(parley::Kind::Request, id, method, payload));
}

TEST(Frames, EnvelopeRoundTripsThroughTheReaderOneByteAtATime) {
  std::vector<uint8_t> payload = {1, 2, 3, 4, 5};
  auto f1 = request_frame(7, "test.one", payload);
  auto f2 = frame(envelope_bytes(parley::Kind::Response, 9, "test.two", {}, 4, "nope"));
  std::vector<uint8_t> stream = f1;
  stream.insert(stream.end(), f2.begin(), f2.end());

  FrameReader reader;
  std::vector<std::vector<uint8_t>> frames;
  for (uint8_t b : stream) {
    reader.feed({&b, 1});
    while (auto f = reader.next()) frames.push_back(*f);
  }
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(reader.buffered(), 0u);

  auto a = parse_envelope(frames[0]);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, parley::Kind::Request);
  EXPECT_EQ(a->id, 7u);
  EXPECT_EQ(a->method, "test.one");
  EXPECT_EQ(std::vector<uint8_t>(a->payload().begin(), a->payload().end()), payload);

  auto b = parse_envelope(frames[1]);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->kind, parley::Kind::Response);
  EXPECT_EQ(b->status, 4);
  EXPECT_EQ(b->error, "nope");
  EXPECT_TRUE(b->payload().empty());
}

TEST(Frames, FrameHasLittleEndianLengthPrefix) {
  auto env = envelope_bytes(parley::Kind::Event, 0, "x.y");
  auto f = frame(env);
  ASSERT_EQ(f.size(), env.size() + 4);
  uint32_t len = f[0] | f[1] << 8 | f[2] << 16 | static_cast<uint32_t>(f[3]) << 24;
  EXPECT_EQ(len, env.size());
  EXPECT_TRUE(flatbuffers::BufferHasIdentifier(env.data(), "PRLY"));
  EXPECT_EQ(length_prefix(0x01020304), (std::vector<uint8_t>{4, 3, 2, 1}));
}

TEST(Frames, IncomingCopiesStayValid) {
  auto in = parse_envelope(envelope_bytes(parley::Kind::Event, 0, "a.b", hello_payload(1, "c")));
  ASSERT_TRUE(in);
  Incoming copy = *in;
  in.reset();
  const auto* hello = payload_as<parley::sys::Hello>(copy, "PSYS");
  ASSERT_NE(hello, nullptr);
  EXPECT_EQ(hello->protocol(), 1);
  EXPECT_EQ(hello->client()->str(), "c");
  EXPECT_EQ(payload_as<parley::sys::Hello>(copy, "PAUT"), nullptr);
}

TEST(Frames, VerificationRejectsGarbageAndWrongIdentifier) {
  std::vector<uint8_t> garbage(64, 0xAB);
  EXPECT_FALSE(parse_envelope(garbage));
  EXPECT_FALSE(parse_envelope(std::vector<uint8_t>{1, 2, 3}));
  // A valid FlatBuffer with another file identifier is not an Envelope.
  EXPECT_FALSE(parse_envelope(hello_payload()));
}

TEST(Frames, ReaderRefusesLengthAboveItsMaximum) {
  FrameReader reader(1024);
  auto big = length_prefix(4096);
  reader.feed(big);
  EXPECT_FALSE(reader.next());
  EXPECT_TRUE(reader.broken());
}

TEST(Processes, RunProgramCapturesOutputAndExitCode) {
  std::string out;
  int code = run_program("/bin/sh", {"-c", "echo out; echo err >&2; exit 3"}, &out);
  EXPECT_EQ(code, 3);
  EXPECT_NE(out.find("out\n"), std::string::npos);
  EXPECT_NE(out.find("err\n"), std::string::npos);
}

TEST(Processes, RunProgramKillsAfterTimeout) {
  std::string out;
  EXPECT_EQ(run_program("/bin/sleep", {"5"}, &out, 200), -SIGKILL);
}

TEST(Processes, RunProgramPassesEnvironment) {
  std::string out;
  EXPECT_EQ(run_program("/bin/sh", {"-c", "echo $PARLEY_SELFTEST"}, &out, 5000,
                        {"PARLEY_SELFTEST=yes"}),
            0);
  EXPECT_EQ(out, "yes\n");
}

TEST(Processes, MissingExecutableExits127) {
  std::string out;
  EXPECT_EQ(run_program("/nonexistent/parleyd", {}, &out), 127);
  EXPECT_NE(out.find("execve failed"), std::string::npos);
}

TEST(Paths, TempDirIsRemoved) {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    ASSERT_TRUE(write_file(path + "/f", "x"));
    EXPECT_EQ(read_file(path + "/f").value_or(""), "x");
  }
  EXPECT_FALSE(read_file(path + "/f"));
  EXPECT_NE(parleyd_path().find("/bin/parleyd"), std::string::npos);
}

// An in-process server for one connection, to test the Client without
// parleyd. It answers test.echo with its payload, test.events with two
// Events then the Response, and test.close with sys.closing and a close.
class FakeServer {
 public:
  explicit FakeServer(SSL_CTX* tls = nullptr) : tls_(tls) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(listen_fd_, 4);
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeServer() {
    shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    close(listen_fd_);
  }
  int port() const { return port_; }
  int requests() const { return requests_; }

 private:
  void serve() {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    SSL* ssl = nullptr;
    if (tls_) {
      ssl = SSL_new(tls_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) != 1) {
        SSL_free(ssl);
        close(fd);
        return;
      }
    }
    auto io_read = [&](uint8_t* buf, size_t n) -> ssize_t {
      return ssl ? SSL_read(ssl, buf, static_cast<int>(n)) : ::read(fd, buf, n);
    };
    auto io_write = [&](const std::vector<uint8_t>& b) {
      if (ssl)
        SSL_write(ssl, b.data(), static_cast<int>(b.size()));
      else
        (void)!::write(fd, b.data(), b.size());
    };
    FrameReader reader;
    uint8_t buf[4096];
    bool open = true;
    while (open) {
      ssize_t n = io_read(buf, sizeof buf);
      if (n <= 0) break;
      reader.feed({buf, static_cast<size_t>(n)});
      while (auto bytes = reader.next(/*with_prefix=*/true)) {
        auto in = parse_frame(*bytes);
        if (!in) continue;
        ++requests_;
        if (in->method == "test.events") {
          io_write(frame(envelope_bytes(parley::Kind::Event, 0, "test.tick")));
          io_write(frame(envelope_bytes(parley::Kind::Event, 0, "test.tock")));
        }
        if (in->method == "test.close") {
          io_write(frame(envelope_bytes(parley::Kind::Event, 0, "sys.closing", {}, 9,
                                        "shutting down")));
          open = false;
          break;
        }
        std::vector<uint8_t> reply(in->payload().begin(), in->payload().end());
        io_write(native_frame(parley::Kind::Response, in->id, in->method, reply));
      }
    }
    if (ssl) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
    }
    close(fd);
  }

  SSL_CTX* tls_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::thread thread_;
};

TEST(ClientPlain, CallMatchesResponsesAndQueuesEvents) {
  FakeServer server;
  std::string error;
  ClientOptions opts;
  opts.tls = false;
  auto c = Client::connect("127.0.0.1", server.port(), opts, &error);
  ASSERT_TRUE(c) << error;

  std::vector<uint8_t> payload = {9, 8, 7};
  Incoming echo = c->call("test.echo", payload);
  ASSERT_TRUE(echo.ok()) << echo.error;
  EXPECT_EQ(echo.id, 1u);
  EXPECT_EQ(std::vector<uint8_t>(echo.payload().begin(), echo.payload().end()), payload);

  Incoming ev = c->call("test.events");
  EXPECT_TRUE(ev.ok());
  auto tock = c->next_event("test.tock", 1000);
  ASSERT_TRUE(tock);
  auto rest = c->drain_events(100);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].method, "test.tick");

  // Pipelined requests come back matched by id, whatever the read order.
  uint64_t a = c->send("test.echo");
  uint64_t b = c->send("test.echo");
  EXPECT_EQ(c->read_response(b, 1000).value().id, b);
  EXPECT_EQ(c->read_response(a, 1000).value().id, a);

  c->send("test.close");
  EXPECT_TRUE(c->wait_closed(2000));
  ASSERT_TRUE(c->last_closing());
  EXPECT_EQ(c->last_closing()->status, 9);
  EXPECT_EQ(c->last_closing()->error, "shutting down");
  // wait_closed keeps what it read: the sys.closing, then nothing.
  auto closing = c->read(50);
  ASSERT_TRUE(closing);
  EXPECT_EQ(closing->method, "sys.closing");
  EXPECT_FALSE(c->read(50));
  EXPECT_EQ(c->bad_frames(), 0);
}

TEST(ClientPlain, ReadTimesOutWithoutTraffic) {
  FakeServer server;
  ClientOptions opts;
  opts.tls = false;
  auto c = Client::connect("127.0.0.1", server.port(), opts);
  ASSERT_TRUE(c);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(c->read(150));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(140));
  EXPECT_FALSE(c->closed());
}

TEST(ClientPlain, ConnectToClosedPortFails) {
  int port;
  {
    FakeServer server;  // bind a port, then free it
    port = server.port();
    ClientOptions opts;
    opts.tls = false;
    Client::connect("127.0.0.1", port, opts);  // let the server thread finish
  }
  std::string error;
  ClientOptions opts;
  opts.tls = false;
  EXPECT_FALSE(Client::connect("127.0.0.1", port, opts, &error));
  EXPECT_NE(error.find("connect"), std::string::npos) << error;
}

int select_parley_alpn(SSL*, const unsigned char** out, unsigned char* outlen,
                       const unsigned char* in, unsigned int inlen, void*) {
  static const unsigned char want[] = {8, 'p', 'a', 'r', 'l', 'e', 'y', '/', '1'};
  unsigned char* sel = nullptr;
  if (SSL_select_next_proto(&sel, outlen, want, sizeof want, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = sel;
  return SSL_TLSEXT_ERR_OK;
}

TEST(ClientTls, HandshakeNegotiatesAlpnAndTls13) {
  SelfSignedCert cert;
  ASSERT_TRUE(cert.ok) << cert.output;
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  ASSERT_EQ(SSL_CTX_use_certificate_file(ctx, cert.cert.c_str(), SSL_FILETYPE_PEM), 1);
  ASSERT_EQ(SSL_CTX_use_PrivateKey_file(ctx, cert.key.c_str(), SSL_FILETYPE_PEM), 1);
  SSL_CTX_set_alpn_select_cb(ctx, select_parley_alpn, nullptr);
  {
    FakeServer server(ctx);
    std::string error;
    auto c = Client::connect("127.0.0.1", server.port(), {}, &error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(c->alpn_selected(), "parley/1");
    EXPECT_EQ(c->tls_version(), "TLSv1.3");
    EXPECT_TRUE(c->call("test.echo").ok());

    ClientOptions verify;
    verify.ca_file = cert.cert;
    // The fake server takes one connection; this just checks the CA loads.
    EXPECT_FALSE(Client::connect("127.0.0.1", 1, verify, &error));
  }
  {
    FakeServer server(ctx);
    std::string error;
    ClientOptions opts;
    opts.alpn = "h2";
    EXPECT_FALSE(Client::connect("127.0.0.1", server.port(), opts, &error));
    EXPECT_NE(error.find("TLS handshake failed"), std::string::npos) << error;
  }
  SSL_CTX_free(ctx);
}

#ifdef PARLEY_HAVE_PARLEYD
TEST(RealServer, HelloPingAndGracefulStop) {
  std::string error;
  auto server = ServerProcess::start({}, &error);
  ASSERT_TRUE(server) << error;
  ASSERT_GT(server->port(), 0);
  auto c = Client::connect("127.0.0.1", server->port(), {}, &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->alpn_selected(), "parley/1");
  Incoming welcome = c->hello("support_selftest");
  const auto* w = payload_as<parley::sys::Welcome>(welcome, "PSYS");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->protocol(), 1);
  EXPECT_TRUE(c->call("sys.ping").ok());
  EXPECT_EQ(server->stop(SIGTERM), 0) << server->log();
  EXPECT_TRUE(c->wait_closed(2000));
}

TEST(RealServer, RestartKeepsDataDirAndRebinds) {
  std::string error;
  ServerOptions opts;
  opts.tls = false;
  auto server = ServerProcess::start(opts, &error);
  ASSERT_TRUE(server) << error;
  std::string dir = server->data_dir();
  ClientOptions plain;
  plain.tls = false;
  ASSERT_TRUE(Client::connect("127.0.0.1", server->port(), plain));
  ASSERT_TRUE(server->restart(&error)) << error;
  EXPECT_EQ(server->data_dir(), dir);
  auto c = Client::connect("127.0.0.1", server->port(), plain, &error);
  ASSERT_TRUE(c) << error;
  c->hello();
  server->kill9();
  EXPECT_FALSE(server->alive());
}

TEST(RealServer, GeneratedConfigPassesCheckConfig) {
  TempDir dir;
  ServerOptions opts;
  opts.sets = {"limits.max_pending_bytes=65536"};
  opts.extra_yaml = "timeouts: {idle_ms: 1000}\nlogging: {level: debug}";
  std::string path = dir.path() + "/parley.yaml";
  ASSERT_TRUE(write_file(path, server_config_yaml(opts, dir.path())));
  std::string out;
  EXPECT_EQ(ServerProcess::run_to_exit({"--config", path, "--check-config"}, &out), 0)
      << out << "\n" << read_file(path).value_or("");
  opts.tls = false;
  ASSERT_TRUE(write_file(path, server_config_yaml(opts, dir.path())));
  EXPECT_EQ(ServerProcess::run_to_exit({"--config", path, "--check-config"}, &out), 0) << out;
}

TEST(RealServer, StartFailureReportsTheLog) {
  ServerOptions opts;
  opts.extra_yaml = "limits: {max_frame_bytes: 1}";
  std::string error;
  EXPECT_FALSE(ServerProcess::start(opts, &error));
  EXPECT_NE(error.find("limits.max_frame_bytes"), std::string::npos) << error;
}

TEST(RealServer, RunToExitReportsVersionAndBadConfig) {
  std::string out;
  EXPECT_EQ(ServerProcess::run_to_exit({"--version"}, &out), 0) << out;
  TempDir dir;
  write_file(dir.path() + "/bad.yaml", "no_such_key: 1\n");
  EXPECT_EQ(ServerProcess::run_to_exit({"--config", dir.path() + "/bad.yaml", "--check-config"},
                                       &out),
            1)
      << out;
  EXPECT_NE(out.find("no_such_key"), std::string::npos) << out;
}
#endif

}  // namespace
}  // namespace parley::test
