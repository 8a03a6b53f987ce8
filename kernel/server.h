// The connection layer: listeners, the connection table, sessions (sys.*),
// the coalescing output path and graceful shutdown. Implements Core for the
// plugin host. Everything runs on the loop thread.
#pragma once

#include <openssl/ssl.h>
#include <parley/envelope_generated.h>
#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config.h"
#include "connection.h"
#include "core.h"

namespace parley::kernel {

class Server final : public Core {
 public:
  // `config` outlives the server.
  Server(uv_loop_t* loop, const Config& config);
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Creates TLS contexts (and the dev certificate) and binds every listener;
  // logs `listening name=.. address=.. port=..` for each. False with *error.
  bool start(std::string* error);
  // Graceful shutdown: stop accepting, sys.closing Unavailable to everyone,
  // flush, close within timeouts.drain_ms; then `done` runs (once) and the
  // server's own handles close.
  void shutdown(std::function<void()> done);
  // The bound port of a listener (tests, logs). 0 if unknown.
  uint16_t bound_port(const std::string& name) const;

  // ---- Core
  uv_loop_t* loop() override { return loop_; }
  const Limits& limits() const override { return config_.limits; }
  const std::string& data_dir() const override { return config_.data_dir; }
  bool shutting_down() const override { return shutting_down_; }
  const ConnInfo* find(ConnId id) const override;
  bool respond(ConnId conn, uint64_t request_id, std::string_view method,
               uint16_t status, std::string_view error,
               std::span<const uint8_t> payload) override;
  bool queue(ConnId conn, const FramePtr& frame) override;
  size_t queue_to_user(std::string_view user_id, const FramePtr& frame,
                       ConnId except) override;
  int set_user(ConnId conn, std::string_view user_id) override;
  int close(ConnId conn, uint16_t status, std::string_view message) override;
  ConnId open_virtual(const parley_virtual_ops& ops, void* ud,
                      std::string_view peer, std::string_view transport) override;
  int feed(ConnId conn, std::span<const uint8_t> envelope) override;
  int virtual_gone(ConnId conn) override;
  void set_dispatcher(Dispatcher* dispatcher) override { dispatcher_ = dispatcher; }

  // ---- For connections
  enum class CloseMode {
    Graceful,  // sys.closing, flush, close within the linger time
    Abort,     // slow consumer: sys.closing is not waited for, output dropped
    Silent,    // transport already gone: nothing is sent
  };
  // Takes the connection out of the live table and ends it.
  void close_connection(Connection& c, uint16_t status, std::string message,
                        CloseMode mode);
  // One verified-or-not Envelope buffer from a connection's input.
  void on_envelope(Connection& c, std::span<const uint8_t> envelope);
  void on_tls_established(StreamConnection& c);
  // The transport ended on its own; the connection leaves the live table.
  // `why` null: already logged.
  void on_transport_gone(Connection& c, const char* why);
  // The connection's handles are closed; the Server frees it.
  void on_released(Connection& c);
  // The most unsent output `c` may have: limits.max_pending_bytes, or the
  // smaller unauthenticated limit while no user is bound.
  uint64_t pending_limit(const Connection& c) const;
  // The sys.closing message for a connection over its pending_limit.
  std::string slow_consumer_reason(const Connection& c) const;
  std::span<uint8_t> read_buffer() { return {read_buf_.get(), kReadBufferBytes}; }
  std::span<uint8_t> plain_buffer() { return {plain_buf_.get(), kReadBufferBytes}; }
  std::span<uint8_t> staging_buffer() { return {staging_buf_.get(), kTlsRecordBytes}; }
  // Ciphertext buffers for uv_write, reused across connections and writes.
  CipherBufferPool& cipher_pool() { return cipher_pool_; }

 private:
  static constexpr size_t kReadBufferBytes = 64 * 1024;
  // Connections past limits.max_connections that are still being refused
  // politely (TLS handshake, then sys.closing). Beyond this many, further
  // ones are closed at accept, so a flood costs bounded memory.
  static constexpr uint32_t kMaxRefusalsInFlight = 64;
  // How long a refused connection waits for the peer to read sys.closing.
  static constexpr uint64_t kRefusalLingerMs = 2000;
  static constexpr size_t kTlsRecordBytes = 16 * 1024;

  struct Listener {
    Server* server = nullptr;
    ListenerConfig config;
    SSL_CTX* ssl_ctx = nullptr;
    uv_tcp_t tcp{};
    bool open = false;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using UserIndex = std::unordered_map<std::string, std::unordered_set<ConnId>,
                                       StringHash, std::equal_to<>>;

  static void on_connection(uv_stream_t* server, int status);
  static void on_check(uv_check_t* h);
  static void on_drain_timer(uv_timer_t* t);
  bool start_listener(Listener& l, std::string* error);
  void accept(Listener& l);
  // Past limits.max_connections: refuse politely (bounded) or close now.
  void refuse(StreamConnection& c);
  void send_refusal(Connection& c);
  Connection* live(ConnId id) const;
  bool enqueue(Connection& c, const FramePtr& frame);
  void mark_dirty(Connection& c);
  void flush_all();
  void answer(Connection& c, uint64_t id, std::string_view method,
              parley::Status status, std::string_view error,
              std::span<const uint8_t> payload = {});
  void on_hello(Connection& c, uint64_t id, const flatbuffers::Vector<uint8_t>* payload);
  void unindex_user(Connection& c);
  void leave_live_table(Connection& c, bool notify);
  void maybe_finish_shutdown();
  void close_own_handles();

  uv_loop_t* loop_;
  const Config& config_;
  Dispatcher* dispatcher_ = nullptr;
  std::vector<std::unique_ptr<Listener>> listeners_;
  int open_listeners_ = 0;
  ConnId next_id_ = 1;
  uint32_t refusals_ = 0;  // refused connections not yet released
  std::unordered_map<ConnId, std::unique_ptr<Connection>> conns_;    // live
  std::unordered_map<ConnId, std::unique_ptr<Connection>> closing_;  // ending
  std::vector<std::unique_ptr<Connection>> graveyard_;  // freed next pass
  UserIndex users_;
  std::vector<ConnId> dirty_;
  uv_check_t flush_check_{};
  uv_idle_t flush_idle_{};  // keeps the loop from blocking while dirty
  uv_timer_t drain_timer_{};
  bool handles_closed_ = false;
  bool shutting_down_ = false;
  bool shutdown_done_ = false;
  std::function<void()> on_shutdown_done_;
  std::unique_ptr<uint8_t[]> read_buf_, plain_buf_, staging_buf_;
  CipherBufferPool cipher_pool_;
};

}  // namespace parley::kernel
