// State shared by the listener and its sessions. Held by shared_ptr so that
// sessions whose libuv handles are still closing after the plugin object is
// gone (shutdown) never touch freed plugin state.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "handshake.h"
#include "http_request.h"
#include "http_router.h"
#include "tls_channel.h"

struct parley_plugin;

namespace parley::websocket {

class Session;

struct Settings {
  std::string address = "127.0.0.1";
  int port = 0;
  std::string path = "/ws";
  uint64_t max_frame_bytes = 1u << 20;   // default: the kernel's limit
  uint64_t ping_interval_ms = 30000;     // 0: no pings
  uint64_t handshake_timeout_ms = 10000; // accept → complete HTTP request head (and TLS)
  uint64_t idle_timeout_ms = 120000;     // nothing received for this long → close 1001
  uint64_t close_timeout_ms = 2000;      // wait for the peer's close frame, then drop TCP
  std::string static_dir;                // canonical; "" = no static files
  uint64_t max_static_file_bytes = 16u << 20;
  uint64_t max_body_bytes = 1u << 20;    // HTTP request bodies (Content-Length only); 413 above
};

struct Shared {
  parley_plugin* self = nullptr;  // nullptr once the plugin shut down
  uv_loop_t* loop = nullptr;
  Settings settings;
  OriginPolicy origins;
  HttpLimits limits;
  ssl_ctx_st* tls = nullptr;
  HttpRouter router;
  std::unordered_map<uint64_t, Session*> sessions;
  uint64_t next_session = 1;
  // Sessions waiting for the end of this loop pass (Session::defer): the
  // kernel flushes the answers to the requests it was fed at the end of the
  // pass, so a close frame decided on now goes out after them.
  std::vector<uint64_t> deferred;
  uint64_t deferred_timer = 0;  // parley_timer_id of the pending 0 ms timer
  // Metric ids (0 = not registered).
  uint64_t m_open = 0, m_upgrades = 0, m_refused = 0, m_http = 0;

  Shared() = default;
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
  ~Shared() {
    if (tls) free_tls_context(tls);
  }
};

}  // namespace parley::websocket
