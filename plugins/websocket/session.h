// One accepted TCP connection of the bridge: optional TLS, then an HTTP/1.1
// request head, then either a plain HTTP response (and close) or the
// WebSocket upgrade, after which each binary message is one Envelope fed to
// a kernel virtual connection and each Envelope the kernel writes goes out
// as one binary message (RFC 6455 framing by libwslay).
#pragma once

#include <uv.h>
#include <wslay/wslay.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <parley/plugin.h>

#include "frame_validator.h"
#include "shared.h"

namespace parley::websocket {

class Session {
 public:
  // Accepts one pending connection on `server`; the session owns itself
  // from then on and is freed after its handles closed.
  static void accept(const std::shared_ptr<Shared>& shared, uv_stream_t* server);

  // Drops the TCP connection now (shutdown, slow consumer, fatal errors).
  void close_now();

  // Called by the kernel (parley_virtual_ops).
  int64_t on_kernel_write(const uint8_t* bytes, size_t len);
  void on_kernel_close(uint16_t status, const char* message);

  // wslay callbacks.
  ssize_t wslay_recv(uint8_t* buf, size_t len);
  ssize_t wslay_send(const uint8_t* data, size_t len);
  void wslay_message(const wslay_event_on_msg_recv_arg* arg);

 private:
  enum class State { Http, Body, Responding, WebSocket, Closing, Closed };

  explicit Session(std::shared_ptr<Shared> shared);
  ~Session();

  void on_read(std::string_view bytes);
  void on_plaintext(std::string_view bytes);
  void on_request_head(const HttpRequest& req);
  // Reads a Content-Length body into body_req_, then dispatches it.
  void on_body_bytes();
  void dispatch(const HttpRequest& req);
  void respond_http(const HttpResponse& res);
  void upgrade(const std::string& accept);
  void on_tick();

  // Runs wslay's send side unless inside wslay_event_recv (then later).
  void pump();
  // Queue a close frame, end the kernel connection, close after the peer
  // answers or close_timeout_ms.
  void fail(uint16_t code, std::string_view reason);
  // RFC 6455 §7.1.7 "Fail the WebSocket Connection" on a protocol violation:
  // stop reading (no later byte is processed, not even the peer's close),
  // send the close frame, then close the TCP connection.
  void fail_connection(uint16_t code, std::string_view reason);
  // Runs run_deferred() after the kernel's end-of-pass flush (a 0 ms timer:
  // timers run at the start of the next loop pass).
  void defer();
  void run_deferred();
  // Tell the kernel the transport is gone (once).
  void end_virtual();
  void after_wslay();

  // Raw bytes to the socket (already encrypted when TLS is on).
  void send_plain(std::string_view bytes);
  void write_socket(std::string_view bytes);
  // FIN after the queued writes, then close on EOF or close_timeout_ms.
  void close_when_flushed();
  uint64_t pending_bytes() const;

  std::shared_ptr<Shared> shared_;
  uint64_t id_ = 0;
  std::string peer_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  int open_handles_ = 0;
  State state_ = State::Http;
  std::unique_ptr<TlsChannel> tls_;
  std::string head_;        // HTTP request head bytes so far
  std::string in_;          // WebSocket bytes not yet consumed by wslay
  size_t in_off_ = 0;
  wslay_event_context_ptr ws_ = nullptr;
  std::unique_ptr<FrameValidator> frames_;  // checks every byte before wslay
  // Held until run_deferred(): a protocol failure's close code and reason,
  // or the peer's close frame (wslay would answer it at once, ahead of the
  // answers to the requests before it).
  uint16_t deferred_code_ = 0;
  std::string deferred_reason_;
  std::string held_close_;
  bool deferred_ = false;
  parley_conn_id conn_ = 0;
  bool in_recv_ = false;
  bool shutdown_sent_ = false;   // FIN queued: lingering until EOF
  std::string leftover_;         // bytes after the request head
  HttpRequest body_req_;         // State::Body: the request whose body is arriving
  size_t body_len_ = 0;          // its Content-Length
  uint16_t close_code_ = 0;      // a close we decided on (sent after queued data)
  std::string close_text_;
  bool close_queued_ = false;
  uint64_t opened_ms_ = 0, last_rx_ms_ = 0, last_ping_ms_ = 0, close_started_ms_ = 0;
  uint64_t writes_in_flight_ = 0;
};

}  // namespace parley::websocket
