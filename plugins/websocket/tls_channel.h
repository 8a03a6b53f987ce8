// Server-side TLS over OpenSSL memory BIOs, so the socket stays a libuv
// stream on the kernel's loop: ciphertext in via feed(), plaintext out via
// the callback; plaintext in via write(), ciphertext out via take_output().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct ssl_st;
struct ssl_ctx_st;

namespace parley::websocket {

// An SSL_CTX for wss:// from PEM files (TLS 1.2+). nullptr and *error on
// failure. Free with free_tls_context (SSL_CTX_free).
ssl_ctx_st* make_tls_context(const std::string& cert, const std::string& key, std::string* error);
void free_tls_context(ssl_ctx_st* ctx);

class TlsChannel {
 public:
  explicit TlsChannel(ssl_ctx_st* ctx);
  ~TlsChannel();
  TlsChannel(const TlsChannel&) = delete;
  TlsChannel& operator=(const TlsChannel&) = delete;

  // Ciphertext from the peer. Appends the decrypted plaintext to *plain.
  // False on a TLS failure (the connection must end).
  bool feed(std::string_view cipher, std::string* plain);
  // Plaintext to send; encrypted bytes become available in take_output().
  bool write(std::string_view plain);
  // Ciphertext to put on the socket (handshake records, application data).
  std::string take_output();
  bool handshake_done() const;

 private:
  ssl_st* ssl_ = nullptr;
};

}  // namespace parley::websocket
