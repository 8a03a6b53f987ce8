// The seam between the kernel's two halves:
//  - the connection layer (listeners, TLS, framing, output queues, timeouts,
//    sys.* methods, shutdown) implements `Core`;
//  - the plugin host (loader, router, SDK API) implements `Dispatcher`.
// Everything here runs on the loop thread.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parley/plugin.h"

namespace parley::kernel {

using ConnId = uint64_t;

// One encoded, immutable frame: the 4-byte little-endian length followed by
// the Envelope buffer. Encoded once and shared by every connection it is
// queued to (fanout never copies per recipient).
struct Frame {
  std::vector<uint8_t> bytes;  // prefix + Envelope
  std::span<const uint8_t> with_prefix() const { return bytes; }
  std::span<const uint8_t> envelope() const {
    return std::span<const uint8_t>(bytes).subspan(4);
  }
};
using FramePtr = std::shared_ptr<const Frame>;

// Limits and timeouts the connection layer enforces (config `limits`,
// `timeouts`).
struct Limits {
  uint32_t max_frame_bytes = 1u << 20;
  uint32_t max_inflight_requests = 256;
  uint64_t max_pending_bytes = 8ull << 20;
  // The same limit while no user is bound to the connection: a client that
  // has not authenticated gets far less server memory (the smaller of the
  // two applies).
  uint64_t max_pending_bytes_unauthenticated = 64ull << 10;
  uint32_t max_connections = 10000;
  uint64_t handshake_ms = 10000;
  uint64_t idle_ms = 120000;
  uint64_t drain_ms = 5000;
};

// What the dispatch layer sees of a connection. Valid until the callback it
// was passed to returns (or, from Core::find, until the loop runs again).
struct ConnInfo {
  ConnId id = 0;
  std::string peer;       // "ip:port", or a virtual transport's string
  std::string transport;  // "tcp", "tls", or the virtual transport's name
  std::string user_id;    // empty until authenticated
};

// Implemented by the plugin host.
class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  virtual void on_conn_opened(const ConnInfo& conn) = 0;
  // After the connection is gone: responses to it are dropped from now on.
  virtual void on_conn_closed(const ConnInfo& conn) = 0;
  // A verified Request (after sys.hello) whose method is not sys.*. The
  // dispatcher answers it exactly once with Core::respond (also with
  // Unimplemented / Unauthenticated), unless the connection closes first.
  virtual void on_request(const ConnInfo& conn, uint64_t request_id,
                          std::string_view method,
                          std::span<const uint8_t> payload) = 0;
  // For sys.hello's Welcome.
  struct PluginDesc {
    std::string name, version;
  };
  virtual std::vector<PluginDesc> plugins() const = 0;
  virtual std::vector<std::string> methods() const = 0;
};

// Implemented by the connection layer.
class Core {
 public:
  virtual ~Core() = default;
  virtual uv_loop_t* loop() = 0;
  virtual const Limits& limits() const = 0;
  virtual const std::string& data_dir() const = 0;
  virtual bool shutting_down() const = 0;

  // nullptr when the connection is unknown or closed.
  virtual const ConnInfo* find(ConnId id) const = 0;

  // Answers request_id on conn: encodes a Response (method echoed) and
  // queues it; releases one in-flight slot. Returns false (and drops the
  // reply) when the connection is gone.
  virtual bool respond(ConnId conn, uint64_t request_id,
                       std::string_view method, uint16_t status,
                       std::string_view error,
                       std::span<const uint8_t> payload) = 0;

  // Queues an already encoded frame. False when the connection is gone.
  virtual bool queue(ConnId conn, const FramePtr& frame) = 0;
  // Every connection authenticated as user_id, except `except`. Returns how
  // many it was queued to. All user -> connections lookups go through here
  // (a later cluster layer forwards what has no local connection).
  virtual size_t queue_to_user(std::string_view user_id, const FramePtr& frame,
                               ConnId except) = 0;

  // Binds (non-empty user_id) or clears (empty) the connection's user.
  // Returns PARLEY_OK or PARLEY_ECLOSED.
  virtual int set_user(ConnId conn, std::string_view user_id) = 0;

  // Sends sys.closing(status, message), flushes what it can and closes.
  virtual int close(ConnId conn, uint16_t status, std::string_view message) = 0;

  // Virtual connections (SDK conn_open_virtual & co). Return 0 / errors as
  // in plugin.h.
  virtual ConnId open_virtual(const parley_virtual_ops& ops, void* ud,
                              std::string_view peer,
                              std::string_view transport) = 0;
  virtual int feed(ConnId conn, std::span<const uint8_t> envelope) = 0;
  virtual int virtual_gone(ConnId conn) = 0;

  virtual void set_dispatcher(Dispatcher* dispatcher) = 0;
};

// Encoding helpers (envelope_codec.cc). Each returns a shared frame.
FramePtr encode_response(uint64_t request_id, std::string_view method,
                         uint16_t status, std::string_view error,
                         std::span<const uint8_t> payload);
FramePtr encode_event(std::string_view method, std::span<const uint8_t> payload);
FramePtr encode_closing(uint16_t status, std::string_view error);

}  // namespace parley::kernel
