// One client connection of the load generator: libuv TCP with TLS through
// OpenSSL memory BIOs (or plain TCP), size-prefixed framing, and output
// coalesced per loop pass: send() only appends to the connection's buffer;
// a uv_prepare handle (run once per pass, before the loop polls) seals each
// dirty connection's buffer into as few TLS records as fit and hands the
// ciphertext to one uv_write. That keeps the client from being the
// bottleneck when it drives hundreds of connections from one core.
#pragma once

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <uv.h>

#include <cstdint>
#include <string>
#include <vector>

#include "wire.h"

namespace parley::loadgen {

class Conn;

// What every connection shares: the loop, the TLS context, the flush list.
class Net {
 public:
  // tls: false for a `tls: off` listener. insecure: skip certificate checks.
  Net(uv_loop_t* loop, bool tls, bool insecure, const std::string& ca_file);
  ~Net();
  uv_loop_t* loop() const { return loop_; }
  SSL_CTX* ctx() const { return ctx_; }
  void mark_dirty(Conn* c);
  // Reuse TLS sessions (tickets) for new connections: resumed handshakes.
  bool resume_tls = false;
  SSL_SESSION* session = nullptr;  // the last ticket seen (owned)

 private:
  static void on_prepare(uv_prepare_t* p);
  uv_loop_t* loop_;
  SSL_CTX* ctx_ = nullptr;
  uv_prepare_t prepare_{};
  std::vector<Conn*> dirty_;
  std::vector<Conn*> flushing_;
};

class Conn {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // TCP connected and, with TLS, the handshake done.
    virtual void on_open(Conn& c) = 0;
    // One verified Envelope (valid during the call).
    virtual void on_envelope(Conn& c, const parley::Envelope& e) = 0;
    // The connection is gone (after close() or a transport error); its
    // handle is closed, the object may be destroyed after this returns.
    virtual void on_closed(Conn& c, const char* why) = 0;
  };

  Conn(Net& net, Handler& handler);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  void connect(const sockaddr_in& addr);
  // Appends one Request frame; goes out with the next flush.
  void send(uint64_t id, std::string_view method, std::span<const uint8_t> payload);
  void close(const char* why);
  bool is_open() const { return open_ && !closing_; }
  bool closed() const { return closed_; }
  // The TLS handshake resumed a session (a ticket from an earlier one).
  bool tls_resumed() const { return ssl_ && SSL_session_reused(ssl_); }

 private:
  friend class Net;
  static void on_connect(uv_connect_t* req, int status);
  static void on_alloc(uv_handle_t*, size_t, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_close(uv_handle_t* h);

  void on_bytes(const char* data, size_t len);
  bool drive_handshake();
  void read_plaintext();
  void parse_frames();
  void flush();
  void write_ciphertext();

  Net& net_;
  Handler& handler_;
  uv_tcp_t tcp_{};
  uv_connect_t connect_req_{};
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;
  BIO* wbio_ = nullptr;
  std::string tx_;            // plaintext frames waiting for the flush
  std::vector<uint8_t> rx_;   // plaintext received, not yet parsed
  size_t rx_len_ = 0;
  bool open_ = false, closing_ = false, closed_ = false, dirty_ = false;
  bool session_saved_ = false;
  const char* why_ = "closed";
};

}  // namespace parley::loadgen
