// The per-connection state machine of the bridge (see session.h).
#include "session.h"

#include <parley/plugin.hpp>
#include <parley/util/utf8.hpp>

#include <algorithm>
#include <cstring>

namespace parley::websocket {
namespace {

// PROTOCOL §2 statuses the kernel closes with → RFC 6455 close codes.
uint16_t close_code_for(uint16_t status) {
  switch (status) {
    case PARLEY_STATUS_OK: return 1000;
    case PARLEY_STATUS_MALFORMED: return 1002;      // protocol error
    case PARLEY_STATUS_FRAME_TOO_LARGE: return 1009; // message too big
    case PARLEY_STATUS_UNAVAILABLE: return 1001;     // going away (shutdown)
    case PARLEY_STATUS_INTERNAL: return 1011;
    default: return 1008;                            // policy violation
  }
}

// A close reason must fit the 125-byte control payload with the 2-byte code
// and be valid UTF-8: cut at a character boundary.
std::string close_reason(std::string_view text) {
  std::string r(text.substr(0, 123));
  while (!r.empty() && !util::utf8_valid(r)) r.pop_back();
  return r;
}

void log(const Shared& sh, int level, const char* fmt, const char* a, const char* b = "") {
  if (sh.self) api().log(sh.self, level, fmt, a, b);
}

const parley_virtual_ops kOps = {
    sizeof(parley_virtual_ops),
    [](void* ud, const uint8_t* bytes, size_t len) -> int64_t {
      return static_cast<Session*>(ud)->on_kernel_write(bytes, len);
    },
    [](void* ud, uint16_t status, const char* message) {
      static_cast<Session*>(ud)->on_kernel_close(status, message);
    },
    {}};

const wslay_event_callbacks kWsCallbacks = {
    [](wslay_event_context_ptr, uint8_t* buf, size_t len, int, void* ud) -> ssize_t {
      return static_cast<Session*>(ud)->wslay_recv(buf, len);
    },
    [](wslay_event_context_ptr, const uint8_t* data, size_t len, int, void* ud) -> ssize_t {
      return static_cast<Session*>(ud)->wslay_send(data, len);
    },
    nullptr, nullptr, nullptr, nullptr,
    [](wslay_event_context_ptr, const wslay_event_on_msg_recv_arg* arg, void* ud) {
      static_cast<Session*>(ud)->wslay_message(arg);
    }};

struct WriteReq {
  uv_write_t req;
  std::string bytes;
  Session* session;
};

}  // namespace

Session::Session(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

Session::~Session() {
  if (ws_) wslay_event_context_free(ws_);
}

void Session::accept(const std::shared_ptr<Shared>& shared, uv_stream_t* server) {
  auto* s = new Session(shared);
  s->id_ = shared->next_session++;
  uv_tcp_init(shared->loop, &s->tcp_);
  uv_timer_init(shared->loop, &s->timer_);
  s->tcp_.data = s->timer_.data = s;
  s->open_handles_ = 2;
  shared->sessions[s->id_] = s;
  if (shared->self) api().metric_add(shared->m_open, 1);  // close_now() subtracts it
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&s->tcp_)) != 0) {
    s->close_now();
    return;
  }
  uv_tcp_nodelay(&s->tcp_, 1);
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getpeername(&s->tcp_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    char ip[64] = "?";
    int port = 0;
    if (addr.ss_family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
      uv_ip6_name(a, ip, sizeof ip);
      port = ntohs(a->sin6_port);
      s->peer_ = std::string("[") + ip + "]:" + std::to_string(port);
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&addr);
      uv_ip4_name(a, ip, sizeof ip);
      port = ntohs(a->sin_port);
      s->peer_ = std::string(ip) + ":" + std::to_string(port);
    }
  }
  if (shared->tls) s->tls_ = std::make_unique<TlsChannel>(shared->tls);
  s->opened_ms_ = s->last_rx_ms_ = uv_now(shared->loop);
  const Settings& st = shared->settings;
  uint64_t tick = std::min({st.handshake_timeout_ms, st.idle_timeout_ms, st.close_timeout_ms,
                            st.ping_interval_ms ? st.ping_interval_ms : UINT64_MAX}) / 4;
  tick = std::clamp<uint64_t>(tick, 20, 1000);
  uv_timer_start(&s->timer_, [](uv_timer_t* t) { static_cast<Session*>(t->data)->on_tick(); },
                 tick, tick);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&s->tcp_),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        // One loop thread: a single static buffer is safe (consumed in read_cb).
        static char storage[65536];
        *buf = uv_buf_init(storage, sizeof storage);
      },
      [](uv_stream_t* st, ssize_t n, const uv_buf_t* buf) {
        auto* self = static_cast<Session*>(st->data);
        if (n < 0) {
          self->close_now();  // EOF or error: the peer is gone
          return;
        }
        if (n > 0) self->on_read(std::string_view(buf->base, static_cast<size_t>(n)));
      });
}

void Session::close_now() {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  end_virtual();
  shared_->sessions.erase(id_);
  if (shared_->self) api().metric_add(shared_->m_open, -1);
  auto closed = [](uv_handle_t* h) {
    auto* self = static_cast<Session*>(h->data);
    if (--self->open_handles_ == 0) delete self;
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), closed);
}

// ------------------------------------------------------------------ input ---

void Session::on_read(std::string_view bytes) {
  if (state_ == State::Closed) return;
  last_rx_ms_ = uv_now(shared_->loop);
  if (!tls_) return on_plaintext(bytes);
  std::string plain;
  bool ok = tls_->feed(bytes, &plain);
  write_socket(tls_->take_output());  // handshake records, alerts
  if (!ok) return close_now();
  if (!plain.empty()) on_plaintext(plain);
}

void Session::on_plaintext(std::string_view bytes) {
  if (shutdown_sent_) return;  // lingering: discard until EOF
  if (state_ == State::Http) {
    head_.append(bytes);
    HttpParse p = parse_http_request(head_, shared_->limits);
    if (p.result == HttpParse::Result::Incomplete) return;
    if (p.result == HttpParse::Result::Error) {
      if (shared_->self) api().metric_add(shared_->m_refused, 1);
      log(*shared_, PARLEY_LOG_DEBUG, "refused %s: %s", peer_.c_str(), p.reason.c_str());
      return respond_http({p.status, "text/plain; charset=utf-8", p.reason + "\n", ""});
    }
    std::string leftover = head_.substr(p.head_bytes);
    head_.clear();
    head_.shrink_to_fit();
    leftover_ = std::move(leftover);
    return on_request_head(p.request);
  }
  if (state_ == State::Body) {
    leftover_.append(bytes);
    return on_body_bytes();
  }
  if (!ws_ || state_ == State::Closed || state_ == State::Responding) return;
  FrameValidator::Verdict v = frames_->feed(bytes);
  in_.append(bytes.substr(0, v.forward));
  if (!v.close_code) held_close_.append(bytes.substr(v.forward, v.accepted - v.forward));
  in_recv_ = true;
  int rc = wslay_event_recv(ws_);
  in_recv_ = false;
  if (rc != 0) return close_now();
  if (v.close_code) {
    log(*shared_, PARLEY_LOG_DEBUG, "failing %s: %s", peer_.c_str(), v.reason.c_str());
    return fail_connection(v.close_code, v.reason);
  }
  if (v.close_complete) defer();  // the close goes to wslay after this pass's answers
  after_wslay();
}

void Session::on_request_head(const HttpRequest& req) {
  if (shared_->self) api().metric_add(shared_->m_http, 1);
  if (req.header("transfer-encoding"))
    return respond_http(
        {411, "text/plain; charset=utf-8", "chunked bodies are not accepted: send Content-Length\n", ""});
  size_t body_len = 0;
  if (std::count_if(req.headers.begin(), req.headers.end(),
                    [](const auto& h) { return h.first == "content-length"; }) > 1)
    return respond_http({400, "text/plain; charset=utf-8", "duplicate Content-Length\n", ""});
  if (auto cl = req.header("content-length")) {
    // Digits only (no sign, no list); bounded before any byte is buffered.
    if (cl->empty() || cl->size() > 18 ||
        !std::all_of(cl->begin(), cl->end(), [](char c) { return c >= '0' && c <= '9'; }))
      return respond_http({400, "text/plain; charset=utf-8", "malformed Content-Length\n", ""});
    body_len = static_cast<size_t>(std::stoull(std::string(*cl)));
  }
  if (body_len > 0 && req.path == shared_->settings.path)
    return respond_http({400, "text/plain; charset=utf-8", "request bodies are not accepted\n", ""});
  if (body_len > shared_->settings.max_body_bytes)
    return respond_http({413, "application/json",
                         "{\"status\": \"InvalidArgument\", \"error\": \"request body larger than " +
                             std::to_string(shared_->settings.max_body_bytes) + " bytes\"}\n",
                         ""});
  if (req.path == shared_->settings.path) {
    UpgradeCheck c = check_upgrade(req, shared_->origins);
    if (c.status != 101) {
      if (shared_->self) api().metric_add(shared_->m_refused, 1);
      log(*shared_, PARLEY_LOG_INFO, "upgrade refused peer=%s: %s", peer_.c_str(), c.reason.c_str());
      return respond_http({c.status, "text/plain; charset=utf-8", c.reason + "\n", ""});
    }
    return upgrade(c.accept);
  }
  body_req_ = req;
  body_req_.peer = peer_;
  body_len_ = body_len;
  state_ = State::Body;
  on_body_bytes();
}

void Session::on_body_bytes() {
  if (leftover_.size() < body_len_) return;  // more to come (bounded by max_body_bytes)
  if (leftover_.size() > body_len_)  // pipelining is not offered
    return respond_http({400, "text/plain; charset=utf-8", "unexpected bytes after the request\n", ""});
  body_req_.body = std::move(leftover_);
  leftover_.clear();
  HttpRequest req = std::move(body_req_);
  body_req_ = HttpRequest{};
  dispatch(req);
}

void Session::dispatch(const HttpRequest& req) {
  state_ = State::Responding;
  close_started_ms_ = uv_now(shared_->loop);
  std::weak_ptr<Shared> weak = shared_;
  uint64_t id = id_;
  shared_->router.dispatch(req, [weak, id](HttpResponse res) {
    auto sh = weak.lock();
    if (!sh) return;
    auto it = sh->sessions.find(id);
    if (it == sh->sessions.end() || it->second->state_ != State::Responding) return;
    it->second->respond_http(res);
  });
}

void Session::respond_http(const HttpResponse& res) {
  if (state_ == State::Closed || shutdown_sent_) return;  // answered already
  state_ = State::Responding;
  send_plain(http_response(res.status, res.content_type, res.body, res.extra_headers));
  close_when_flushed();
}

void Session::upgrade(const std::string& accept) {
  if (!shared_->self) return respond_http({503, "text/plain; charset=utf-8", "shutting down\n", ""});
  if (wslay_event_context_server_init(&ws_, &kWsCallbacks, this) != 0) return close_now();
  wslay_event_config_set_max_recv_msg_length(ws_, shared_->settings.max_frame_bytes);
  frames_ = std::make_unique<FrameValidator>(shared_->settings.max_frame_bytes);
  send_plain(upgrade_response(accept));
  state_ = State::WebSocket;
  last_ping_ms_ = uv_now(shared_->loop);
  api().metric_add(shared_->m_upgrades, 1);
  // After the 101 and wslay are ready: the kernel may write (events) at once.
  conn_ = api().conn_open_virtual(shared_->self, &kOps, this, peer_.c_str(), "websocket");
  if (!conn_) return fail(1013, "the server is not accepting connections");
  if (!leftover_.empty()) {
    std::string early = std::move(leftover_);
    leftover_.clear();
    on_plaintext(early);
  }
}

// ---------------------------------------------------------------- wslay ---

ssize_t Session::wslay_recv(uint8_t* buf, size_t len) {
  size_t avail = in_.size() - in_off_;
  if (avail == 0) {
    wslay_event_set_error(ws_, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  size_t n = std::min(len, avail);
  std::memcpy(buf, in_.data() + in_off_, n);
  in_off_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t Session::wslay_send(const uint8_t* data, size_t len) {
  // Accept everything: libuv queues what the socket does not take, and that
  // queue is what pending_bytes() reports to the kernel.
  send_plain(std::string_view(reinterpret_cast<const char*>(data), len));
  return static_cast<ssize_t>(len);
}

void Session::wslay_message(const wslay_event_on_msg_recv_arg* arg) {
  if (state_ == State::Closed) return;
  switch (arg->opcode) {
    case WSLAY_BINARY_FRAME:
      if (conn_) api().conn_feed(conn_, arg->msg, arg->msg_length);
      break;
    case WSLAY_TEXT_FRAME:
      fail(1003, "text messages are not accepted: send one Envelope per binary message");
      break;
    case WSLAY_CONNECTION_CLOSE:
      end_virtual();  // wslay answers the close frame itself
      break;
    default:
      break;  // ping (answered by wslay) / pong
  }
}

void Session::after_wslay() {
  if (state_ == State::Closed || !ws_) return;
  if (in_off_ == in_.size()) {
    in_.clear();
    in_off_ = 0;
  } else if (in_off_ > 65536) {
    in_.erase(0, in_off_);
    in_off_ = 0;
  }
  pump();
}

void Session::pump() {
  if (in_recv_ || !ws_ || state_ == State::Closed || shutdown_sent_) return;
  if (wslay_event_send(ws_) != 0) return close_now();
  if (close_code_ && !close_queued_ && wslay_event_get_queued_msg_count(ws_) == 0) {
    close_queued_ = true;
    wslay_event_queue_close(ws_, close_code_, reinterpret_cast<const uint8_t*>(close_text_.data()),
                            close_text_.size());
    if (wslay_event_send(ws_) != 0) return close_now();
  }
  if (wslay_event_get_close_sent(ws_) || wslay_event_get_close_received(ws_)) {
    end_virtual();
    if (state_ == State::WebSocket) {
      state_ = State::Closing;
      close_started_ms_ = uv_now(shared_->loop);
    }
  }
  if (!wslay_event_want_read(ws_) && !wslay_event_want_write(ws_) && !deferred_) close_when_flushed();
}

void Session::fail(uint16_t code, std::string_view reason) {
  end_virtual();
  if (state_ == State::Closed || !ws_ || close_code_) return;
  // wslay sends control frames ahead of queued data: hold the close frame
  // back until what the kernel wrote before it (sys.closing) has gone out.
  close_code_ = code;
  close_text_ = close_reason(reason);
  if (state_ == State::WebSocket) {
    state_ = State::Closing;
    close_started_ms_ = uv_now(shared_->loop);
  }
  pump();
}

void Session::fail_connection(uint16_t code, std::string_view reason) {
  if (state_ == State::Closed || !ws_) return;
  wslay_event_shutdown_read(ws_);
  in_.clear();
  in_off_ = 0;
  deferred_code_ = code;
  deferred_reason_ = reason;
  defer();
  after_wslay();
}

void Session::defer() {
  if (deferred_) return;
  deferred_ = true;
  Shared& sh = *shared_;
  sh.deferred.push_back(id_);
  if (!sh.deferred_timer && sh.self) {
    // The timer's ud is the Shared: the host stops a plugin's timers before
    // the plugin (which holds the Shared) goes away.
    sh.deferred_timer = api().timer_start(
        sh.self, 0, 0,
        [](parley_timer_id, void* ud) {
          auto* shared = static_cast<Shared*>(ud);
          shared->deferred_timer = 0;
          std::vector<uint64_t> ids = std::move(shared->deferred);
          shared->deferred.clear();
          for (uint64_t id : ids) {
            auto it = shared->sessions.find(id);
            if (it != shared->sessions.end()) it->second->run_deferred();
          }
        },
        &sh);
  }
  if (!sh.deferred_timer) run_deferred();  // shutting down: no later pass
}

void Session::run_deferred() {
  if (!deferred_) return;
  deferred_ = false;
  if (state_ == State::Closed || !ws_) return;
  if (deferred_code_) {
    // A close already decided on (a text message's 1003) stays; either way
    // the connection ends once the close frame is out (nothing is read).
    uint16_t code = deferred_code_;
    deferred_code_ = 0;
    held_close_.clear();
    fail(code, deferred_reason_);
  } else if (!held_close_.empty()) {
    in_.append(held_close_);
    held_close_.clear();
    in_recv_ = true;
    int rc = wslay_event_recv(ws_);
    in_recv_ = false;
    if (rc != 0) return close_now();
  }
  after_wslay();
}

void Session::end_virtual() {
  if (!conn_) return;
  parley_conn_id id = conn_;
  conn_ = 0;
  if (shared_->self) api().conn_virtual_gone(id);
}

// --------------------------------------------------------------- kernel ---

int64_t Session::on_kernel_write(const uint8_t* bytes, size_t len) {
  if (state_ == State::Closed || !ws_) return -1;
  wslay_event_msg msg{WSLAY_BINARY_FRAME, bytes, len};
  if (wslay_event_queue_msg(ws_, &msg) != 0) return static_cast<int64_t>(pending_bytes());
  pump();
  return static_cast<int64_t>(pending_bytes());
}

void Session::on_kernel_close(uint16_t status, const char* message) {
  conn_ = 0;  // the kernel ended it: no conn_virtual_gone
  if (status == PARLEY_STATUS_RESOURCE_EXHAUSTED) {
    // A slow consumer: the close frame could not get through anyway.
    log(*shared_, PARLEY_LOG_INFO, "dropping %s: %s", peer_.c_str(), message ? message : "");
    return close_now();
  }
  fail(close_code_for(status), message ? message : "");
}

// --------------------------------------------------------------- output ---

void Session::send_plain(std::string_view bytes) {
  if (!tls_) return write_socket(bytes);
  if (!tls_->write(bytes)) return close_now();
  write_socket(tls_->take_output());
}

void Session::write_socket(std::string_view bytes) {
  if (state_ == State::Closed || bytes.empty()) return;
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  if (tcp_.write_queue_size == 0) {
    uv_buf_t b = uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned>(bytes.size()));
    int n = uv_try_write(stream, &b, 1);
    if (n > 0) bytes.remove_prefix(static_cast<size_t>(n));
    else if (n < 0 && n != UV_EAGAIN) return close_now();
    if (bytes.empty()) return;
  }
  auto* w = new WriteReq{{}, std::string(bytes), this};
  w->req.data = w;
  uv_buf_t b = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
  ++writes_in_flight_;
  int rc = uv_write(&w->req, stream, &b, 1, [](uv_write_t* req, int status) {
    auto* w = static_cast<WriteReq*>(req->data);
    Session* s = w->session;
    delete w;
    --s->writes_in_flight_;
    if (status < 0) s->close_now();
  });
  if (rc != 0) {
    --writes_in_flight_;
    delete w;
    close_now();
  }
}

void Session::close_when_flushed() {
  if (shutdown_sent_ || state_ == State::Closed) return;
  shutdown_sent_ = true;
  if (state_ != State::Responding) state_ = State::Closing;
  close_started_ms_ = uv_now(shared_->loop);
  end_virtual();
  // FIN after the queued writes; keep reading (and discarding) until the
  // peer closes, so unread request bytes do not turn our close into a RST
  // that could destroy the response before the client read it.
  auto* req = new uv_shutdown_t;
  if (uv_shutdown(req, reinterpret_cast<uv_stream_t*>(&tcp_),
                  [](uv_shutdown_t* r, int) { delete r; }) != 0) {
    delete req;
    close_now();
  }
}

uint64_t Session::pending_bytes() const {
  return (ws_ ? wslay_event_get_queued_msg_length(ws_) : 0) + tcp_.write_queue_size;
}

void Session::on_tick() {
  if (state_ == State::Closed) return;
  uint64_t now = uv_now(shared_->loop);
  const Settings& st = shared_->settings;
  switch (state_) {
    case State::Http:
    case State::Body:
      if (now - opened_ms_ >= st.handshake_timeout_ms) {
        if (tls_ && !tls_->handshake_done()) return close_now();
        respond_http({408, "text/plain; charset=utf-8", "request timeout\n", ""});
      }
      break;
    case State::Responding:
      if (now - close_started_ms_ >= st.handshake_timeout_ms + st.close_timeout_ms) close_now();
      break;
    case State::WebSocket:
      if (now - last_rx_ms_ >= st.idle_timeout_ms) {
        fail(1001, "idle timeout");
      } else if (st.ping_interval_ms && now - last_ping_ms_ >= st.ping_interval_ms) {
        last_ping_ms_ = now;
        wslay_event_msg ping{WSLAY_PING, nullptr, 0};
        wslay_event_queue_msg(ws_, &ping);
        pump();
      }
      break;
    case State::Closing:
      if (now - close_started_ms_ >= st.close_timeout_ms) close_now();
      break;
    case State::Closed:
      break;
  }
}

}  // namespace parley::websocket
