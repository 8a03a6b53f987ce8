// How much heap OpenSSL keeps per idle server-side TLS connection, counted
// exactly (not RSS): OpenSSL's allocator is replaced before its first
// allocation, and only what is allocated while server-side calls run is
// attributed to the server. The server side is the kernel's own: the SSL_CTX
// of make_server_tls_context and the tls_bio BIO; the client is a plain
// OpenSSL client over memory BIOs. Its own binary, because the allocator hook
// must come before any other OpenSSL use in the process.
#include <gtest/gtest.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "config.h"
#include "tls_bio.h"
#include "tls_context.h"

namespace parley::kernel {
namespace {

// Live bytes per side: 0 = everything else, 1 = server-side calls.
int g_side = 0;
long long g_live[2];

// 16 bytes, so the block after it keeps malloc's 16-byte alignment.
struct alignas(16) Header {
  size_t size;
  int side;
};
static_assert(sizeof(Header) == 16);

void* counted_malloc(size_t n, const char*, int) {
  auto* h = static_cast<Header*>(std::malloc(n + sizeof(Header)));
  if (!h) return nullptr;
  h->size = n;
  h->side = g_side;
  g_live[g_side] += static_cast<long long>(n);
  return h + 1;
}

void counted_free(void* p, const char*, int) {
  if (!p) return;
  Header* h = static_cast<Header*>(p) - 1;
  g_live[h->side] -= static_cast<long long>(h->size);
  std::free(h);
}

void* counted_realloc(void* p, size_t n, const char* file, int line) {
  if (!p) return counted_malloc(n, file, line);
  if (n == 0) {
    counted_free(p, file, line);
    return nullptr;
  }
  Header* h = static_cast<Header*>(p) - 1;
  long long old = static_cast<long long>(h->size);
  int side = h->side;
  auto* moved = static_cast<Header*>(std::realloc(h, n + sizeof(Header)));
  if (!moved) return nullptr;
  moved->size = n;
  g_live[side] += static_cast<long long>(n) - old;
  return moved + 1;
}

// Runs `f` with its allocations counted as the server's.
template <class F>
auto as_server(F f) {
  g_side = 1;
  auto r = f();
  g_side = 0;
  return r;
}

struct ServerSide {
  SSL* ssl = nullptr;
  TlsIo io;
};

struct ClientSide {
  SSL* ssl = nullptr;
  BIO* in = nullptr;   // server -> client
  BIO* out = nullptr;  // client -> server
};

// Moves the client's output into the server and runs `server_step` on it,
// then the server's output to the client.
template <class F>
void exchange(ClientSide& c, ServerSide& s, F server_step) {
  std::vector<uint8_t> bytes(static_cast<size_t>(BIO_ctrl_pending(c.out)));
  if (!bytes.empty()) BIO_read(c.out, bytes.data(), static_cast<int>(bytes.size()));
  s.io.in = bytes.data();
  s.io.in_len = bytes.size();
  as_server(server_step);
  s.io.in = nullptr;
  s.io.in_len = 0;
  if (!s.io.out.empty()) {
    BIO_write(c.in, s.io.out.data(), static_cast<int>(s.io.out.size()));
    s.io.out.clear();
    s.io.out.shrink_to_fit();
  }
}

TEST(TlsMemory, IdleServerConnectionKeepsLittleOpenSslState) {
  ASSERT_EQ(CRYPTO_set_mem_functions(counted_malloc, counted_realloc, counted_free), 1)
      << "OpenSSL allocated before the test could count";
  std::string dir = std::filesystem::temp_directory_path() /
                    ("parley-tls-memory-" + std::to_string(::getpid()));
  TlsConfig tls;
  tls.dev = true;
  tls.cert = dir + "/cert.pem";
  tls.key = dir + "/key.pem";
  std::string error;
  SSL_CTX* server_ctx = make_server_tls_context(tls, &error);
  ASSERT_TRUE(server_ctx) << error;
  SSL_CTX* client_ctx = SSL_CTX_new(TLS_client_method());
  static const unsigned char kAlpn[] = {8, 'p', 'a', 'r', 'l', 'e', 'y', '/', '1'};
  SSL_CTX_set_alpn_protos(client_ctx, kAlpn, sizeof kAlpn);

  constexpr int kWarmup = 3, kConnections = 50;
  std::vector<ServerSide> servers(kWarmup + kConnections);
  std::vector<ClientSide> clients(kWarmup + kConnections);
  long long server_before = 0;
  for (int i = 0; i < kWarmup + kConnections; ++i) {
    if (i == kWarmup) server_before = g_live[1];
    ServerSide& s = servers[static_cast<size_t>(i)];
    ClientSide& c = clients[static_cast<size_t>(i)];
    as_server([&] {
      s.ssl = SSL_new(server_ctx);
      BIO* bio = new_tls_io_bio(&s.io);
      SSL_set_bio(s.ssl, bio, bio);
      SSL_set_accept_state(s.ssl);
      return 0;
    });
    c.ssl = SSL_new(client_ctx);
    c.in = BIO_new(BIO_s_mem());
    c.out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(c.in, -1);
    SSL_set_bio(c.ssl, c.in, c.out);
    SSL_set_connect_state(c.ssl);
    for (int round = 0; round < 8 && !SSL_is_init_finished(s.ssl); ++round) {
      SSL_do_handshake(c.ssl);
      exchange(c, s, [&] { return SSL_do_handshake(s.ssl); });
    }
    ASSERT_TRUE(SSL_is_init_finished(s.ssl));
    // One request and one answer, as after sys.hello; the client reads the
    // session ticket on the way.
    char buf[256];
    ASSERT_EQ(SSL_write(c.ssl, "hello", 5), 5);
    int got = 0;
    exchange(c, s, [&] {
      got = SSL_read(s.ssl, buf, sizeof buf);
      return SSL_write(s.ssl, "welcome", 7);
    });
    ASSERT_EQ(got, 5);
    ASSERT_EQ(SSL_read(c.ssl, buf, sizeof buf), 7);
  }
  double per_connection = double(g_live[1] - server_before) / kConnections;
  std::printf("OpenSSL heap per idle server TLS connection (%s, %s): %.0f bytes\n",
              SSL_get_version(servers.back().ssl), SSL_get_cipher_name(servers.back().ssl),
              per_connection);
  // OpenSSL 3.0: the SSL object alone is ~7.6 KiB, the AEAD contexts ~1.9
  // KiB, the session ~0.9 KiB. Two memory BIOs used to add ~1.4 KiB more.
  EXPECT_LT(per_connection, 14.5 * 1024);

  for (auto& s : servers) SSL_free(s.ssl);
  for (auto& c : clients) SSL_free(c.ssl);
  SSL_CTX_free(client_ctx);
  SSL_CTX_free(server_ctx);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace parley::kernel
