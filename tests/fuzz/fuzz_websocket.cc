// Fuzz target: the WebSocket bridge's input path (plugins/websocket) without
// sockets — the HTTP/1.1 request-head parser and upgrade checks as the
// session drives them (the head grows chunk by chunk and is re-parsed), then
// the bytes after the head through the RFC 6455 FrameValidator and, for what
// it accepts, libwslay's server side, exactly as Session::on_plaintext does.
//
// Besides crashes and sanitizer reports it checks a differential oracle:
// the validator must catch every violation before wslay sees it, so wslay,
// given only the accepted bytes, never fails the connection on its own
// (recv error, or a close frame sent without the peer's close), every text
// message it delivers is valid UTF-8 within the size limit, and the two
// agree on whether the peer's close frame arrived.
//
// Input: byte 0 selects the mode (bits 0-1) and the chunk size (bits 2-7,
// 1..64 bytes); the rest is the stream.
//   mode 0, 1: WebSocket frames only (masked with key 0 = plain payloads)
//   mode 2:    an HTTP request head (parse, upgrade checks, response text)
//   mode 3:    an HTTP head, and after an accepted upgrade the frames
#include <wslay/wslay.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <parley/util/utf8.hpp>

#include "frame_validator.h"
#include "handshake.h"
#include "http_request.h"

namespace {

namespace ws = parley::websocket;

constexpr uint64_t kMaxMessage = 1024;  // small, so 1009 is reachable

struct Wire {
  std::string in;
  size_t off = 0;
  size_t sent = 0;
  bool closed_seen_by_msg = false;
};

ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t* buf, size_t len, int, void* ud) {
  auto* w = static_cast<Wire*>(ud);
  size_t avail = w->in.size() - w->off;
  if (avail == 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  size_t n = avail < len ? avail : len;
  std::memcpy(buf, w->in.data() + w->off, n);
  w->off += n;
  return static_cast<ssize_t>(n);
}

ssize_t send_cb(wslay_event_context_ptr, const uint8_t*, size_t len, int, void* ud) {
  static_cast<Wire*>(ud)->sent += len;
  return static_cast<ssize_t>(len);
}

void msg_cb(wslay_event_context_ptr, const wslay_event_on_msg_recv_arg* arg, void* ud) {
  auto* w = static_cast<Wire*>(ud);
  if (arg->msg_length > kMaxMessage) __builtin_trap();
  std::string_view msg(reinterpret_cast<const char*>(arg->msg), arg->msg_length);
  if (arg->opcode == WSLAY_TEXT_FRAME && !parley::util::utf8_valid(msg)) __builtin_trap();
  if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
    w->closed_seen_by_msg = true;
    if (arg->status_code != 0 && !ws::valid_close_code(arg->status_code)) __builtin_trap();
    if (msg.size() >= 2 && !parley::util::utf8_valid(msg.substr(2))) __builtin_trap();
  }
}

void frames(std::string_view stream, size_t chunk) {
  Wire wire;
  wslay_event_callbacks cbs = {recv_cb, send_cb, nullptr, nullptr, nullptr, nullptr, msg_cb};
  wslay_event_context_ptr ctx = nullptr;
  if (wslay_event_context_server_init(&ctx, &cbs, &wire) != 0) return;
  wslay_event_config_set_max_recv_msg_length(ctx, kMaxMessage);
  ws::FrameValidator validator(kMaxMessage);
  std::string held;  // a close frame still arriving
  while (!stream.empty()) {
    std::string_view piece = stream.substr(0, chunk);
    stream.remove_prefix(piece.size());
    ws::FrameValidator::Verdict v = validator.feed(piece);
    if (v.accepted > piece.size() || v.forward > v.accepted) __builtin_trap();
    if (v.close_code != 0 && v.close_code != 1002 && v.close_code != 1007 && v.close_code != 1009)
      __builtin_trap();
    if (v.close_code && v.forward != v.accepted) __builtin_trap();
    // As the session: forward now, hold a close frame until it is complete.
    wire.in.append(piece.substr(0, v.forward));
    if (wslay_event_recv(ctx) != 0) __builtin_trap();  // wslay found a violation we let through
    held.append(piece.substr(v.forward, v.accepted - v.forward));
    if (v.close_complete) {
      wire.in.append(held);
      held.clear();
      if (wslay_event_recv(ctx) != 0) __builtin_trap();
    }
    if (wslay_event_send(ctx) != 0) __builtin_trap();
    if (wslay_event_get_close_sent(ctx) && !wslay_event_get_close_received(ctx)) __builtin_trap();
    if (validator.close_seen() != (wslay_event_get_close_received(ctx) != 0)) __builtin_trap();
    if (v.close_code != 0 || validator.close_seen()) {
      // Sticky: nothing more is accepted.
      if (validator.feed(stream).accepted != 0) __builtin_trap();
      break;
    }
  }
  wslay_event_context_free(ctx);
}

// The session's HTTP side; returns the bytes after an accepted upgrade's
// head, or nullptr-like empty with *upgraded false.
std::string http(std::string_view stream, size_t chunk, bool* upgraded) {
  *upgraded = false;
  ws::HttpLimits limits;
  limits.max_request_line = 512;
  limits.max_header_bytes = 2048;
  limits.max_headers = 16;
  ws::OriginPolicy origins;
  origins.allowed = {"https://good.example"};
  std::string head;
  while (!stream.empty()) {
    std::string_view piece = stream.substr(0, chunk);
    stream.remove_prefix(piece.size());
    head.append(piece);
    ws::HttpParse p = ws::parse_http_request(head, limits);
    if (p.result == ws::HttpParse::Result::Incomplete) {
      if (head.size() > limits.max_header_bytes) __builtin_trap();  // the bound holds
      continue;
    }
    if (p.result == ws::HttpParse::Result::Error) {
      if (p.status != 400 && p.status != 431) __builtin_trap();
      (void)ws::http_response(p.status, "text/plain", p.reason);
      return {};
    }
    if (p.head_bytes > head.size() || p.head_bytes > limits.max_header_bytes) __builtin_trap();
    const ws::HttpRequest& req = p.request;
    if (req.path.empty() || req.path[0] != '/') __builtin_trap();
    (void)req.header("content-length");
    (void)req.header_has_token("connection", "upgrade");
    ws::UpgradeCheck c = ws::check_upgrade(req, origins);
    if (c.status != 101) {
      (void)ws::http_response(c.status, "text/plain", c.reason);
      return {};
    }
    if (c.accept.size() != 28) __builtin_trap();  // base64 of a SHA-1
    (void)ws::upgrade_response(c.accept);
    *upgraded = true;
    return head.substr(p.head_bytes) + std::string(stream);
  }
  return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const unsigned mode = data[0] & 3;
  const size_t chunk = static_cast<size_t>(data[0] >> 2) + 1;
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (mode <= 1) {
    frames(stream, chunk);
  } else {
    bool upgraded = false;
    std::string rest = http(stream, chunk, &upgraded);
    if (mode == 3 && upgraded) frames(rest, chunk);
  }
  return 0;
}
