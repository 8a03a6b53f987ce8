// One client connection of the connection layer. Two kinds share the session
// logic in Server: StreamConnection (TCP, optionally TLS through OpenSSL and
// tls_bio.h) and VirtualConnection (a plugin-provided transport, e.g. the
// WebSocket bridge, carrying Envelopes without the size prefix).
//
// Lifecycle, as libuv handles: init, use, close; memory is released only in
// the last close callback. A connection that begins closing leaves the
// Server's live table at once (responses to it are dropped from then on) and
// lives on, owned by the Server's closing table, until its handles closed.
#pragma once

#include <openssl/ssl.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core.h"
#include "frame_decoder.h"
#include "tls_bio.h"

namespace parley::kernel {

class Server;

class Connection {
 public:
  enum class State {
    TlsHandshake,  // TLS not yet established; not visible to the dispatcher
    AwaitHello,    // visible; only sys.hello is served
    Open,          // sys.hello answered
    Closing,       // sys.closing queued or transport gone; input ignored
  };

  Connection(Server& server, ConnId id);
  virtual ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  ConnId id() const { return info_.id; }
  ConnInfo& info() { return info_; }
  const ConnInfo& info() const { return info_; }
  State state() const { return state_; }
  void set_state(State s) { state_ = s; }
  bool is_virtual() const { return virtual_; }

  // Output queue. enqueue() never writes: the Server flushes every dirty
  // connection once per loop pass (coalescing).
  void enqueue(const FramePtr& frame);
  size_t queued_frames() const { return out_.size(); }
  uint64_t queued_bytes() const { return out_bytes_; }
  // Bytes queued plus bytes the transport still holds unsent.
  virtual uint64_t pending_bytes() const = 0;
  // Hands everything queued to the transport. May end the connection (write
  // error, slow virtual consumer); the object stays valid until the next
  // loop pass either way.
  virtual void flush() = 0;
  // Ends the connection after what is queued (sys.closing included) went
  // out, within `linger_ms`; `abort` drops unsent output (slow consumer).
  virtual void finish(uint64_t linger_ms, bool abort) = 0;
  // sys.hello was answered: the handshake deadline gives way to the idle one.
  virtual void on_session_open() {}

  uint32_t inflight = 0;    // unanswered Requests handed to the dispatcher
  // Accepted past limits.max_connections: never enters the live table; gets
  // sys.closing Unavailable once TLS is up, then closes.
  bool refused = false;
  bool dirty = false;       // in the Server's flush list
  uint64_t last_rx_ms = 0;  // uv_now of the last frame received
  uint64_t opened_ms = 0;

 protected:
  Server& server_;
  ConnInfo info_;
  State state_ = State::AwaitHello;
  bool virtual_ = false;
  // A vector, not a deque: an empty std::deque still holds ~600 bytes,
  // an empty vector none (most connections are idle).
  std::vector<FramePtr> out_;
  uint64_t out_bytes_ = 0;  // bytes of out_ not yet handed to the transport
  // Empties out_ (everything was handed to the transport or dropped).
  void clear_queue();
};

class StreamConnection final : public Connection {
 public:
  // `ssl_ctx` null for a plaintext listener. Call accept() next.
  StreamConnection(Server& server, ConnId id, SSL_CTX* ssl_ctx,
                   uint32_t max_frame_bytes);
  ~StreamConnection() override;

  uv_tcp_t* tcp() { return &tcp_; }
  // After uv_accept into tcp(): starts reading and the handshake timer.
  bool start(uv_stream_t* listener);

  uint64_t pending_bytes() const override;
  void flush() override;
  void finish(uint64_t linger_ms, bool abort) override;
  void on_session_open() override { arm_timer(); }
  // Closes both handles now; the Server frees the object afterwards.
  void close_handles();

 private:
  static void on_alloc(uv_handle_t*, size_t, uv_buf_t*);
  static void on_read(uv_stream_t*, ssize_t, const uv_buf_t*);
  static void on_write(uv_write_t*, int);
  static void on_shutdown(uv_shutdown_t*, int);
  static void on_timer(uv_timer_t*);
  static void on_closed(uv_handle_t*);

  void on_bytes(const uint8_t* data, size_t len);
  void on_plaintext(const uint8_t* data, size_t len);
  // SSL_new + BIO; false (and the connection closed) when OpenSSL fails.
  bool make_ssl();
  bool drive_tls_handshake();
  void write_tls_output();
  void write_plain();
  void write_encrypted();
  void transport_gone(const char* why);
  void arm_timer();
  void maybe_shutdown();

  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_shutdown_t shutdown_req_{};
  SSL_CTX* ssl_ctx_ = nullptr;  // null: plaintext listener
  SSL* ssl_ = nullptr;          // made at the first bytes (make_ssl)
  TlsIo tls_io_;                // ciphertext in (this read) and out (unsent)
  FrameDecoder decoder_;
  int open_handles_ = 0;
  bool finishing_ = false;
  bool shutdown_sent_ = false;
  bool closing_handles_ = false;
  uint64_t linger_deadline_ms_ = 0;
};

class VirtualConnection final : public Connection {
 public:
  VirtualConnection(Server& server, ConnId id, const parley_virtual_ops& ops,
                    void* ud);
  uint64_t pending_bytes() const override;
  void flush() override;
  void finish(uint64_t linger_ms, bool abort) override;
  // The transport reported the peer gone: ops.close must not be called.
  void mark_gone() { gone_ = true; }

  // The closing status given to ops.close.
  uint16_t close_status = 0;
  std::string close_message;

 private:
  parley_virtual_ops ops_;
  void* ud_;
  int64_t transport_pending_ = 0;
  bool gone_ = false;
  bool closed_ = false;
};

}  // namespace parley::kernel
