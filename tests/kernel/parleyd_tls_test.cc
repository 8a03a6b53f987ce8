// TLS policy: 1.3 preferred, 1.2 accepted, 1.1 refused, ALPN parley/1
// required when ALPN is offered, the development certificate; plus the
// command line (--check-config, --version) and listener logging.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "parleyd_test_util.h"

namespace parley::kernel_test {
namespace {

class Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = start_server();
    ASSERT_TRUE(server_);
  }
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(Tls, DefaultNegotiatesTls13WithAlpn) {
  auto c = healthy(*server_);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->tls_version(), "TLSv1.3");
  EXPECT_EQ(c->alpn_selected(), "parley/1");
}

TEST_F(Tls, Tls12IsAccepted) {
  ClientOptions o;
  o.max_tls = TLS1_2_VERSION;
  auto c = healthy(*server_, o);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->tls_version(), "TLSv1.2");
}

TEST_F(Tls, Tls11IsRefused) {
  ClientOptions o;
  o.min_tls = TLS1_1_VERSION;
  o.max_tls = TLS1_1_VERSION;
  std::string error;
  EXPECT_FALSE(Client::connect("127.0.0.1", server_->port(), o, &error));
  auto good = healthy(*server_);
  ASSERT_TRUE(good);
  expect_still_serves(*good);
}

TEST_F(Tls, AlpnWithoutParleyIsRefused) {
  ClientOptions o;
  o.alpn = "h2,http/1.1";
  std::string error;
  EXPECT_FALSE(Client::connect("127.0.0.1", server_->port(), o, &error));
  EXPECT_TRUE(server_->wait_for_log("no application protocol", 2000));
  auto good = healthy(*server_);
  ASSERT_TRUE(good);
  expect_still_serves(*good);
}

TEST_F(Tls, NoAlpnIsAccepted) {
  ClientOptions o;
  o.alpn = "";
  auto c = healthy(*server_, o);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->alpn_selected(), "");
  expect_still_serves(*c);
}

TEST_F(Tls, AlpnListContainingParleyIsAccepted) {
  ClientOptions o;
  o.alpn = "h2,parley/1";
  auto c = healthy(*server_, o);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->alpn_selected(), "parley/1");
}

// A raw OpenSSL client (the support Client does not expose sessions): one
// TLS connection that says hello, remembering the tickets it received.
struct TicketClient {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  std::vector<SSL_SESSION*> tickets;

  explicit TicketClient(int max_version) {
    static const unsigned char kAlpn[] = {8, 'p', 'a', 'r', 'l', 'e', 'y', '/', '1'};
    SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn);
    SSL_CTX_set_max_proto_version(ctx, max_version);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_set_ex_data(ctx, 0, this);
    SSL_CTX_sess_set_new_cb(ctx, [](SSL* ssl, SSL_SESSION* session) {
      auto* self = static_cast<TicketClient*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), 0));
      self->tickets.push_back(session);
      return 1;  // keeps the reference
    });
  }
  ~TicketClient() {
    for (SSL_SESSION* t : tickets) SSL_SESSION_free(t);
    SSL_CTX_free(ctx);
  }

  // Connects (resuming `resume` if given), sends sys.hello and reads its
  // answer (TLS 1.3 tickets arrive before it). Returns whether the session
  // was resumed; *ok false when anything failed.
  bool session(int port, SSL_SESSION* resume, bool* ok) {
    *ok = false;
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return false;
    }
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (resume) SSL_set_session(ssl, resume);
    bool reused = false;
    if (SSL_connect(ssl) == 1) {
      reused = SSL_session_reused(ssl) == 1;
      auto hello = parley::test::native_frame(parley::Kind::Request, 1, "sys.hello",
                                              parley::test::hello_payload());
      parley::test::FrameReader reader;
      if (SSL_write(ssl, hello.data(), static_cast<int>(hello.size())) > 0) {
        uint8_t buf[4096];
        int n;
        while (!reader.next() && (n = SSL_read(ssl, buf, sizeof buf)) > 0) {
          reader.feed({buf, static_cast<size_t>(n)});
          if (reader.buffered() > 0 || n > 0) *ok = true;
        }
      }
    }
    SSL_shutdown(ssl);
    SSL_free(ssl);
    ::close(fd);
    return reused;
  }
};

TEST_F(Tls, Tls13ResumesWithTheOneTicketPerHandshake) {
  TicketClient client(TLS1_3_VERSION);
  bool ok = false;
  EXPECT_FALSE(client.session(server_->port(), nullptr, &ok));
  ASSERT_TRUE(ok);
  // One ticket per full handshake (OpenSSL's default would be two).
  ASSERT_EQ(client.tickets.size(), 1u);
  EXPECT_TRUE(client.session(server_->port(), client.tickets.back(), &ok));
  EXPECT_TRUE(ok);
}

TEST_F(Tls, Tls12ResumesWithATicketWithoutAServerCache) {
  TicketClient client(TLS1_2_VERSION);
  bool ok = false;
  EXPECT_FALSE(client.session(server_->port(), nullptr, &ok));
  ASSERT_TRUE(ok);
  ASSERT_FALSE(client.tickets.empty());
  EXPECT_TRUE(client.session(server_->port(), client.tickets.back(), &ok));
  EXPECT_TRUE(ok);
}

TEST_F(Tls, DevCertificateIsGeneratedAndLogged) {
  EXPECT_NE(server_->log().find("generated a self-signed development certificate"),
            std::string::npos);
  EXPECT_EQ(server_->count_in_log("listening name=main address=127.0.0.1 port="), 1u);
}

// Runs parleyd with `args`; returns the exit code and fills *out.
int run_parleyd(const std::string& args, std::string* out) {
  std::string cmd = parley::test::parleyd_path() + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out->append(buf, n);
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Cli, CheckConfigAcceptsTheShippedConfigs) {
  std::string out;
  EXPECT_EQ(run_parleyd("--check-config --config " + std::string(PARLEY_KERNEL_TEST_SOURCE_DIR) +
                            "/config/parley.yaml", &out), 0) << out;
  EXPECT_EQ(run_parleyd("--check-config --config " + std::string(PARLEY_KERNEL_TEST_SOURCE_DIR) +
                            "/config/parley.example.yaml", &out), 0) << out;
}

TEST(Cli, CheckConfigReportsPathLineAndKey) {
  parley::test::TempDir dir;
  std::string path = dir.path() + "/bad.yaml";
  ASSERT_TRUE(parley::test::write_file(path, "data_dir: /tmp\nlimits:\n  max_frame_bytes: 1\n"));
  std::string out;
  EXPECT_EQ(run_parleyd("--check-config --config " + path, &out), 1);
  EXPECT_NE(out.find(path + ":3: limits.max_frame_bytes: expected an integer between 64 and"),
            std::string::npos) << out;
  out.clear();
  EXPECT_EQ(run_parleyd("--check-config --config " + path + " --set limits.max_frame_bytes=512",
                        &out), 0) << out;
}

TEST(Cli, VersionAndHelp) {
  std::string out;
  EXPECT_EQ(run_parleyd("--version", &out), 0);
  EXPECT_EQ(out.rfind("parleyd ", 0), 0u) << out;
  out.clear();
  EXPECT_EQ(run_parleyd("--help", &out), 0);
  EXPECT_NE(out.find("--check-config"), std::string::npos);
  out.clear();
  EXPECT_EQ(run_parleyd("--bogus", &out), 1);
}

}  // namespace
}  // namespace parley::kernel_test

namespace parley::kernel_test {
namespace {

TEST(Cli, PluginHostRefusalExitsTwoWithOneLine) {
  parley::test::TempDir dir;
  std::string out;
  int code = run_parleyd("--set data_dir=" + dir.path() +
                             " --set listeners.0.name=main --set listeners.0.port=0"
                             " --set listeners.0.tls=off --set 'plugins.no_such_plugin={}'",
                         &out);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("no_such_plugin"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

TEST(Cli, ListenerThatCannotBindExitsOne) {
  parley::test::TempDir dir;
  std::string out;
  int code = run_parleyd("--set data_dir=" + dir.path() +
                             " --set listeners.0.name=main --set listeners.0.port=0"
                             " --set listeners.0.tls=off --set listeners.0.address=203.0.113.7",
                         &out);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("listener main"), std::string::npos) << out;
}

}  // namespace
}  // namespace parley::kernel_test
