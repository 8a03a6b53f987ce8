// An in-process parleyd for the `dispatch` fuzz target: the real connection
// layer (kernel Server, without listeners) and the real plugin host with the
// real plugins (persistence on a temporary RocksDB directory, auth with cheap
// argon2 parameters, rooms, receipts, echo), loaded from the build tree's
// plugin directory. Requests enter through a virtual connection — the same
// path the WebSocket bridge uses (Core::open_virtual / feed / virtual_gone) —
// so they are verified and dispatched exactly as a client's frames are.
//
// Started once per process (Harness::get); everything runs on the calling
// thread's loop. Each fuzz input uses a fresh connection that is closed and
// drained (every reply produced, deferred work done) before the next one.
#pragma once

#include <uv.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"
#include "dispatch_input.h"
#include "host/plugin_host.h"
#include "server.h"

namespace parley::fuzz::dispatch {

class Harness;

// One virtual connection. Tracks the Responses it receives, so that the
// exactly-once rule (PROTOCOL.md: every Request is answered once, unless the
// connection closes) is checked on every input.
class Conn {
 public:
  Conn(Harness& h, std::string_view peer);
  ~Conn();  // ends the connection (transport gone) if still open
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Feeds a Request; returns its id (0 when the connection is closed).
  uint64_t send(std::string_view method, std::string_view payload);
  // Feeds bytes as a whole Envelope (not necessarily valid).
  void send_envelope(std::string_view bytes);
  // Runs the loop until every Request sent was answered (or the connection
  // closed) and the host has no request or worker job left. Aborts with a
  // message when a Request is answered twice, or never within the watchdog.
  void drain();
  bool closed() const { return closed_; }
  // The reply to `id` once drained (status, payload); nullptr if none.
  struct Reply {
    uint16_t status = 0;
    std::string method, payload;
  };
  const Reply* reply(uint64_t id) const;

 private:
  static int64_t on_write(void* ud, const uint8_t* bytes, size_t len);
  static void on_close(void* ud, uint16_t status, const char* message);
  void learn(const std::string& method, const std::string& payload);

  Harness& h_;
  kernel::ConnId id_ = 0;
  bool closed_ = false;
  uint64_t next_request_ = 1;
  std::vector<uint64_t> sent_;
  std::map<uint64_t, Reply> replies_;
};

class Harness {
 public:
  // The process-wide instance, started on first use. Aborts (with a
  // message) when the plugins cannot be loaded or the setup fails.
  static Harness& get();

  // The loop-level state of one input: setup values and replies seen.
  Context& context() { return ctx_; }
  // Restores the per-input parts of the context (last room, last seq).
  void reset_input_context();
  // Registered methods (sorted), as sys.hello's Welcome lists them.
  const std::vector<std::string>& methods() const { return methods_; }
  // Runs sys.hello on c (aborts if it fails).
  void hello(Conn& c);
  // Authenticates c as the setup user: auth.resume with the cached token,
  // or auth.login (and a new cached token) when the token stopped working
  // (an input logged out or rotated it). Aborts if both fail.
  void authenticate(Conn& c);

  uv_loop_t* loop() { return &loop_; }
  kernel::Server& server() { return *server_; }
  // Requests and worker jobs the host still holds.
  size_t host_busy() const;

 private:
  Harness();
  void setup();

  uv_loop_t loop_{};
  std::string dir_;
  kernel::Config config_;
  std::unique_ptr<kernel::Server> server_;
  std::unique_ptr<kernel::PluginHost> host_;
  std::vector<std::string> methods_;
  Context ctx_;
};

}  // namespace parley::fuzz::dispatch
