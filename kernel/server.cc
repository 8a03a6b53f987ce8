#include "server.h"

#include <parley/sys_generated.h>

#include <algorithm>
#include <cstring>

#include "envelope_codec.h"
#include "log.h"
#include "parley/errors.h"
#include "tls_context.h"

namespace parley::kernel {
namespace {

constexpr uint16_t kProtocolVersion = 1;
constexpr uint16_t to_u16(parley::Status s) { return static_cast<uint16_t>(s); }

bool is_loopback(const std::string& address) {
  return address == "localhost" || address == "::1" ||
         address.rfind("127.", 0) == 0;
}

// A method name for an error message, cut short: the Response already
// echoes the whole name, and a huge one must not double the reply's size.
std::string quoted_method(std::string_view method) {
  constexpr size_t kMax = 64;
  if (method.size() <= kMax) return std::string(method);
  return std::string(method.substr(0, kMax)) + "...";
}

// Native frames keep the size-prefixed layout; a virtual transport (the
// WebSocket bridge) sends the Envelope without its prefix.
FrameLayout layout_for(const Connection& c) {
  return c.is_virtual() ? FrameLayout::Standalone : FrameLayout::SizePrefixed;
}

}  // namespace

Server::Server(uv_loop_t* loop, const Config& config)
    : loop_(loop),
      config_(config),
      read_buf_(new uint8_t[kReadBufferBytes]),
      plain_buf_(new uint8_t[kReadBufferBytes]),
      staging_buf_(new uint8_t[kTlsRecordBytes]) {
  uv_check_init(loop_, &flush_check_);
  uv_idle_init(loop_, &flush_idle_);
  uv_timer_init(loop_, &drain_timer_);
  flush_check_.data = flush_idle_.data = drain_timer_.data = this;
  uv_check_start(&flush_check_, on_check);
  // The check handle alone must not keep the loop alive.
  uv_unref(reinterpret_cast<uv_handle_t*>(&flush_check_));
}

Server::~Server() {
  for (auto& l : listeners_)
    if (l->ssl_ctx) SSL_CTX_free(l->ssl_ctx);
}

// ------------------------------------------------------------ listeners ---

bool Server::start(std::string* error) {
  for (const ListenerConfig& lc : config_.listeners) {
    auto l = std::make_unique<Listener>();
    l->server = this;
    l->config = lc;
    Listener& ref = *l;
    listeners_.push_back(std::move(l));
    if (!start_listener(ref, error)) return false;
  }
  return true;
}

bool Server::start_listener(Listener& l, std::string* error) {
  const ListenerConfig& lc = l.config;
  auto fail = [&](const std::string& why) {
    *error = "listener " + lc.name + " (" + lc.address + ":" +
             std::to_string(lc.port) + "): " + why;
    return false;
  };
  if (lc.tls.enabled) {
    l.ssl_ctx = make_server_tls_context(lc.tls, error);
    if (!l.ssl_ctx) return fail(*error);
  } else if (!is_loopback(lc.address)) {
    log::logf(log::Level::Warn, "listener", 0,
              "listener %s on non-loopback address %s has tls off: traffic is plaintext",
              lc.name.c_str(), lc.address.c_str());
  }
  sockaddr_storage addr{};
  std::string host = lc.address == "localhost" ? "127.0.0.1" : lc.address;
  int rc = host.find(':') != std::string::npos
               ? uv_ip6_addr(host.c_str(), lc.port, reinterpret_cast<sockaddr_in6*>(&addr))
               : uv_ip4_addr(host.c_str(), lc.port, reinterpret_cast<sockaddr_in*>(&addr));
  if (rc != 0) return fail("invalid address");
  uv_tcp_init(loop_, &l.tcp);
  l.tcp.data = &l;
  l.open = true;
  ++open_listeners_;
  if ((rc = uv_tcp_bind(&l.tcp, reinterpret_cast<sockaddr*>(&addr), 0)) != 0 ||
      (rc = uv_listen(reinterpret_cast<uv_stream_t*>(&l.tcp), 511, on_connection)) != 0)
    return fail(uv_strerror(rc));
  uint16_t port = bound_port(lc.name);
  log::logf(log::Level::Info, "listener", 0, "listening name=%s address=%s port=%u tls=%s",
            lc.name.c_str(), lc.address.c_str(), port, lc.tls.enabled ? "on" : "off");
  return true;
}

uint16_t Server::bound_port(const std::string& name) const {
  for (const auto& l : listeners_) {
    if (l->config.name != name || !l->open) continue;
    sockaddr_storage ss{};
    int len = sizeof ss;
    if (uv_tcp_getsockname(&l->tcp, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
    if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  return 0;
}

void Server::on_connection(uv_stream_t* s, int status) {
  auto* l = static_cast<Listener*>(s->data);
  if (status < 0) {
    log::logf(log::Level::Warn, "listener", 0, "accept failed on %s: %s",
              l->config.name.c_str(), uv_strerror(status));
    return;
  }
  l->server->accept(*l);
}

void Server::accept(Listener& l) {
  ConnId id = next_id_++;
  auto conn = std::make_unique<StreamConnection>(*this, id, l.ssl_ctx,
                                                 config_.limits.max_frame_bytes);
  StreamConnection& c = *conn;
  closing_.emplace(id, std::move(conn));  // owned here until it is live
  if (!c.start(reinterpret_cast<uv_stream_t*>(&l.tcp))) {
    c.close_handles();
    return;
  }
  if (shutting_down_) {
    log::logf(log::Level::Warn, "conn", id, "refused peer=%s: shutting down",
              c.info().peer.c_str());
    c.close_handles();
    return;
  }
  if (conns_.size() >= config_.limits.max_connections) {
    refuse(c);
    return;
  }
  conns_.emplace(id, std::move(closing_[id]));
  closing_.erase(id);
  log::logf(log::Level::Info, "conn", id, "accepted peer=%s listener=%s transport=%s",
            c.info().peer.c_str(), l.config.name.c_str(), c.info().transport.c_str());
  if (c.state() == Connection::State::AwaitHello && dispatcher_)
    dispatcher_->on_conn_opened(c.info());
}

void Server::refuse(StreamConnection& c) {
  if (refusals_ >= kMaxRefusalsInFlight) {
    log::logf(log::Level::Warn, "conn", c.id(),
              "refused peer=%s: limits.max_connections reached; %u refusals in progress, "
              "closed at once",
              c.info().peer.c_str(), refusals_);
    c.close_handles();
    return;
  }
  ++refusals_;
  c.refused = true;
  log::logf(log::Level::Warn, "conn", c.id(),
            "refused peer=%s: limits.max_connections reached (%zu connections)",
            c.info().peer.c_str(), conns_.size());
  // TLS first (bounded by timeouts.handshake_ms), so the client can read why.
  if (c.state() != Connection::State::TlsHandshake) send_refusal(c);
}

void Server::send_refusal(Connection& c) {
  static constexpr char kWhy[] =
      "the server is at limits.max_connections; try again later";
  log::logf(log::Level::Info, "conn", c.id(), "closing status=%s reason=\"%s\"",
            status_name(to_u16(parley::Status::Unavailable)), kWhy);
  c.enqueue(encode_closing(to_u16(parley::Status::Unavailable), kWhy));
  c.set_state(Connection::State::Closing);
  c.finish(std::min(config_.limits.drain_ms, kRefusalLingerMs), false);
}

void Server::on_tls_established(StreamConnection& c) {
  if (c.refused) {
    send_refusal(c);
    return;
  }
  c.set_state(Connection::State::AwaitHello);
  if (dispatcher_) dispatcher_->on_conn_opened(c.info());
}

// ------------------------------------------------------ connection table ---

Connection* Server::live(ConnId id) const {
  auto it = conns_.find(id);
  if (it == conns_.end()) return nullptr;
  Connection* c = it->second.get();
  auto s = c->state();
  if (s == Connection::State::Closing || s == Connection::State::TlsHandshake) return nullptr;
  return c;
}

const ConnInfo* Server::find(ConnId id) const {
  Connection* c = live(id);
  return c ? &c->info() : nullptr;
}

void Server::leave_live_table(Connection& c, bool notify) {
  auto it = conns_.find(c.id());
  if (it == conns_.end()) return;
  bool visible = c.state() != Connection::State::TlsHandshake;
  unindex_user(c);
  closing_.emplace(c.id(), std::move(it->second));
  conns_.erase(it);
  if (notify && visible && dispatcher_) dispatcher_->on_conn_closed(c.info());
}

void Server::close_connection(Connection& c, uint16_t status, std::string message,
                              CloseMode mode) {
  if (c.state() == Connection::State::Closing) return;
  bool was_visible = c.state() != Connection::State::TlsHandshake;
  log::logf(mode == CloseMode::Silent ? log::Level::Debug : log::Level::Info, "conn", c.id(),
            "closing status=%s reason=\"%s\"", status_name(status), message.c_str());
  if (mode == CloseMode::Graceful && was_visible) c.enqueue(encode_closing(status, message));
  if (c.is_virtual()) {
    auto& v = static_cast<VirtualConnection&>(c);
    v.close_status = status;
    v.close_message = message;
  }
  // Leave the table first: responses from here on are dropped.
  leave_live_table(c, false);
  c.set_state(Connection::State::Closing);
  c.finish(config_.limits.drain_ms, mode != CloseMode::Graceful);
  if (was_visible && dispatcher_) dispatcher_->on_conn_closed(c.info());
}

void Server::on_transport_gone(Connection& c, const char* why) {
  if (c.state() == Connection::State::Closing) return;
  if (why) log::logf(log::Level::Info, "conn", c.id(), "closed: %s", why);
  bool was_visible = c.state() != Connection::State::TlsHandshake;
  leave_live_table(c, false);
  c.set_state(Connection::State::Closing);
  if (was_visible && dispatcher_) dispatcher_->on_conn_closed(c.info());
}

void Server::on_released(Connection& c) {
  if (c.refused) {
    c.refused = false;
    --refusals_;
  }
  auto it = closing_.find(c.id());
  if (it != closing_.end()) {
    graveyard_.push_back(std::move(it->second));
    closing_.erase(it);
  } else if (auto live_it = conns_.find(c.id()); live_it != conns_.end()) {
    unindex_user(c);
    graveyard_.push_back(std::move(live_it->second));
    conns_.erase(live_it);
  }
  // Freed on the next check pass, where shutdown progress is checked too:
  // the caller may still be on the stack.
  uv_idle_start(&flush_idle_, [](uv_idle_t*) {});
}

// ----------------------------------------------------------- sessions ---

void Server::answer(Connection& c, uint64_t id, std::string_view method,
                    parley::Status status, std::string_view error,
                    std::span<const uint8_t> payload) {
  enqueue(c, encode_response(id, method, to_u16(status), error, payload,
                             layout_for(c)));
}

void Server::on_envelope(Connection& c, std::span<const uint8_t> bytes) {
  c.last_rx_ms = uv_now(loop_);
  // The frame decoder keeps a stream frame's length prefix just before it;
  // a virtual transport hands over the Envelope alone.
  const parley::Envelope* env = verify_envelope(bytes, !c.is_virtual());
  if (!env) {
    close_connection(c, to_u16(parley::Status::Malformed),
                     "the frame is not a valid Envelope (file identifier PRLY)",
                     CloseMode::Graceful);
    return;
  }
  // Clients send only Requests: a Response or an Event from a client has no
  // meaning in the protocol, so the stream is treated as malformed.
  if (env->kind() != parley::Kind::Request) {
    close_connection(c, to_u16(parley::Status::Malformed),
                     "clients may send only Requests", CloseMode::Graceful);
    return;
  }
  uint64_t id = envelope_id(env);
  std::string_view method = env->method() ? env->method()->string_view() : std::string_view();
  if (c.state() == Connection::State::AwaitHello) {
    if (method == "sys.hello") {
      on_hello(c, id, env->payload());
    } else {
      answer(c, id, method, parley::Status::FailedPrecondition,
             "sys.hello must be the first request");
    }
    return;
  }
  if (method == "sys.ping") {
    answer(c, id, method, parley::Status::Ok, {});
    return;
  }
  if (method == "sys.hello") {
    answer(c, id, method, parley::Status::FailedPrecondition,
           "sys.hello was already answered on this connection");
    return;
  }
  if (method.rfind("sys.", 0) == 0 || !dispatcher_) {
    answer(c, id, method, parley::Status::Unimplemented,
           "unknown method " + quoted_method(method));
    return;
  }
  if (c.inflight >= config_.limits.max_inflight_requests) {
    answer(c, id, method, parley::Status::ResourceExhausted,
           "too many requests in flight (limits.max_inflight_requests)");
    return;
  }
  ++c.inflight;
  std::span<const uint8_t> payload;
  if (env->payload()) payload = {env->payload()->data(), env->payload()->size()};
  dispatcher_->on_request(c.info(), id, method, payload);
}

void Server::on_hello(Connection& c, uint64_t id,
                      const flatbuffers::Vector<uint8_t>* payload) {
  const parley::sys::Hello* hello = nullptr;
  if (payload && payload->size() > 0) {
    // The payload sits at an arbitrary offset inside the Envelope: copy it
    // to aligned memory before reading fields (it is a few bytes).
    std::vector<uint64_t> aligned((payload->size() + 7) / 8);
    std::memcpy(aligned.data(), payload->data(), payload->size());
    auto* data = reinterpret_cast<const uint8_t*>(aligned.data());
    flatbuffers::Verifier v(data, payload->size());
    if (parley::sys::VerifyHelloBuffer(v)) {
      hello = parley::sys::GetHello(data);
      uint16_t protocol = hello->protocol();
      std::string client = hello->client() ? hello->client()->str() : "";
      if (protocol != kProtocolVersion) {
        answer(c, id, "sys.hello", parley::Status::FailedPrecondition,
               "unsupported protocol " + std::to_string(protocol) +
                   "; this server speaks 1");
        return;
      }
      std::vector<Dispatcher::PluginDesc> plugins;
      std::vector<std::string> methods = {"sys.hello", "sys.ping"};
      if (dispatcher_) {
        plugins = dispatcher_->plugins();
        for (auto& m : dispatcher_->methods()) methods.push_back(std::move(m));
      }
      auto welcome = encode_welcome(kProtocolVersion, "parleyd/" PARLEY_VERSION,
                                    config_.limits.max_frame_bytes, plugins, methods);
      answer(c, id, "sys.hello", parley::Status::Ok, {}, welcome);
      c.set_state(Connection::State::Open);
      c.on_session_open();
      log::logf(log::Level::Info, "conn", c.id(), "hello client=\"%s\" protocol=%u",
                client.c_str(), protocol);
      return;
    }
  }
  answer(c, id, "sys.hello", parley::Status::InvalidArgument,
         "sys.hello needs a parley.sys.Hello payload (file identifier PSYS)");
}

// -------------------------------------------------------------- output ---

uint64_t Server::pending_limit(const Connection& c) const {
  const Limits& l = config_.limits;
  if (!c.info().user_id.empty()) return l.max_pending_bytes;
  return std::min(l.max_pending_bytes, l.max_pending_bytes_unauthenticated);
}

std::string Server::slow_consumer_reason(const Connection& c) const {
  const Limits& l = config_.limits;
  bool unauthenticated = c.info().user_id.empty() &&
                         l.max_pending_bytes_unauthenticated < l.max_pending_bytes;
  return unauthenticated
             ? "slow consumer: more than limits.max_pending_bytes_unauthenticated (" +
                   std::to_string(l.max_pending_bytes_unauthenticated) +
                   ") unsent before authentication"
             : "slow consumer: more than limits.max_pending_bytes (" +
                   std::to_string(l.max_pending_bytes) + ") unsent";
}

bool Server::enqueue(Connection& c, const FramePtr& frame) {
  c.enqueue(frame);
  if (c.pending_bytes() > pending_limit(c)) {
    close_connection(c, to_u16(parley::Status::ResourceExhausted), slow_consumer_reason(c),
                     CloseMode::Abort);
    return false;
  }
  mark_dirty(c);
  return true;
}

void Server::mark_dirty(Connection& c) {
  if (c.dirty) return;
  c.dirty = true;
  dirty_.push_back(c.id());
  // An active idle handle makes the loop poll without blocking, so frames
  // queued late in a pass are flushed at the next check.
  uv_idle_start(&flush_idle_, [](uv_idle_t*) {});
}

void Server::on_check(uv_check_t* h) {
  auto* self = static_cast<Server*>(h->data);
  self->flush_all();
  self->graveyard_.clear();
  if (self->dirty_.empty()) uv_idle_stop(&self->flush_idle_);
  self->maybe_finish_shutdown();
}

void Server::flush_all() {
  // Each dirty connection's queue goes out once per pass: one TLS record
  // per 16 KiB, one uv_write.
  std::vector<ConnId> dirty;
  dirty.swap(dirty_);
  for (ConnId id : dirty) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    Connection& c = *it->second;
    c.dirty = false;
    if (log::enabled(log::Level::Debug)) {
      log::logf(log::Level::Debug, "conn", id, "flush frames=%zu bytes=%llu", c.queued_frames(),
                static_cast<unsigned long long>(c.queued_bytes()));
    }
    c.flush();
    if (c.state() != Connection::State::Closing && c.pending_bytes() > pending_limit(c)) {
      close_connection(c, to_u16(parley::Status::ResourceExhausted), slow_consumer_reason(c),
                       CloseMode::Abort);
    }
  }
}

// ------------------------------------------------------------ Core API ---

bool Server::respond(ConnId conn, uint64_t request_id, std::string_view method,
                     uint16_t status, std::string_view error,
                     std::span<const uint8_t> payload) {
  Connection* c = live(conn);
  if (!c) return false;
  if (c->inflight > 0) --c->inflight;
  return enqueue(*c, encode_response(request_id, method, status, error, payload,
                                     layout_for(*c)));
}

bool Server::queue(ConnId conn, const FramePtr& frame) {
  Connection* c = live(conn);
  if (!c || !frame) return false;
  return enqueue(*c, frame);
}

size_t Server::queue_to_user(std::string_view user_id, const FramePtr& frame,
                             ConnId except) {
  auto it = users_.find(user_id);
  if (it == users_.end() || !frame) return 0;
  // Copy the ids: a slow-consumer close during enqueue edits the index.
  std::vector<ConnId> ids(it->second.begin(), it->second.end());
  size_t n = 0;
  for (ConnId id : ids) {
    if (id == except) continue;
    if (Connection* c = live(id); c && enqueue(*c, frame)) ++n;
  }
  return n;
}

void Server::unindex_user(Connection& c) {
  std::string& user = c.info().user_id;
  if (user.empty()) return;
  auto it = users_.find(user);
  if (it != users_.end()) {
    it->second.erase(c.id());
    if (it->second.empty()) users_.erase(it);
  }
}

int Server::set_user(ConnId conn, std::string_view user_id) {
  Connection* c = live(conn);
  if (!c) return PARLEY_ECLOSED;
  unindex_user(*c);
  c->info().user_id.assign(user_id);
  if (!user_id.empty()) users_[std::string(user_id)].insert(conn);
  return PARLEY_OK;
}

int Server::close(ConnId conn, uint16_t status, std::string_view message) {
  Connection* c = live(conn);
  if (!c) return PARLEY_ECLOSED;
  close_connection(*c, status, std::string(message), CloseMode::Graceful);
  return PARLEY_OK;
}

ConnId Server::open_virtual(const parley_virtual_ops& ops, void* ud,
                            std::string_view peer, std::string_view transport) {
  if (shutting_down_ || !ops.write || !ops.close) return 0;
  if (conns_.size() >= config_.limits.max_connections) return 0;
  ConnId id = next_id_++;
  auto conn = std::make_unique<VirtualConnection>(*this, id, ops, ud);
  conn->info().peer.assign(peer);
  conn->info().transport.assign(transport);
  conn->opened_ms = conn->last_rx_ms = uv_now(loop_);
  Connection& c = *conn;
  conns_.emplace(id, std::move(conn));
  log::logf(log::Level::Info, "conn", id, "accepted peer=%s transport=%s",
            c.info().peer.c_str(), c.info().transport.c_str());
  if (dispatcher_) dispatcher_->on_conn_opened(c.info());
  return id;
}

int Server::feed(ConnId conn, std::span<const uint8_t> envelope) {
  Connection* c = live(conn);
  if (!c || !c->is_virtual()) return PARLEY_ECLOSED;
  if (envelope.size() > config_.limits.max_frame_bytes) {
    close_connection(*c, to_u16(parley::Status::FrameTooLarge),
                     "envelope exceeds limits.max_frame_bytes", CloseMode::Graceful);
    return PARLEY_OK;
  }
  // FlatBuffers reads offsets in place: copy a buffer that is not 4-byte
  // aligned (WebSocket payloads can start anywhere) to aligned memory. (An
  // empty one has nothing to copy: memcpy to the empty vector's null data
  // would be undefined; it fails verification as it is.)
  if (!envelope.empty() && reinterpret_cast<uintptr_t>(envelope.data()) % 4 != 0) {
    std::vector<uint64_t> aligned((envelope.size() + 7) / 8);
    auto* start = reinterpret_cast<uint8_t*>(aligned.data());
    std::memcpy(start, envelope.data(), envelope.size());
    on_envelope(*c, {start, envelope.size()});
  } else {
    on_envelope(*c, envelope);
  }
  return PARLEY_OK;
}

int Server::virtual_gone(ConnId conn) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || !it->second->is_virtual()) return PARLEY_ECLOSED;
  auto& v = static_cast<VirtualConnection&>(*it->second);
  v.mark_gone();
  close_connection(v, to_u16(parley::Status::Unavailable), "transport gone",
                   CloseMode::Silent);
  return PARLEY_OK;
}

// ------------------------------------------------------------ shutdown ---

void Server::shutdown(std::function<void()> done) {
  if (shutting_down_) return;
  shutting_down_ = true;
  on_shutdown_done_ = std::move(done);
  log::logf(log::Level::Info, "server", 0, "shutting down: %zu connections, drain_ms=%llu",
            conns_.size(), static_cast<unsigned long long>(config_.limits.drain_ms));
  for (auto& l : listeners_) {
    if (!l->open) continue;
    l->open = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&l->tcp), [](uv_handle_t* h) {
      auto* self = static_cast<Listener*>(h->data)->server;
      --self->open_listeners_;
      uv_idle_start(&self->flush_idle_, [](uv_idle_t*) {});
    });
  }
  std::vector<Connection*> all;
  for (auto& [id, c] : conns_) all.push_back(c.get());
  for (Connection* c : all) {
    if (c->state() == Connection::State::TlsHandshake) {
      on_transport_gone(*c, nullptr);
      static_cast<StreamConnection*>(c)->close_handles();
    } else {
      close_connection(*c, to_u16(parley::Status::Unavailable), "server shutting down",
                       CloseMode::Graceful);
    }
  }
  // Refused connections (in their TLS handshake or lingering after
  // sys.closing) would otherwise hold shutdown for their timeouts.
  std::vector<StreamConnection*> refusing;
  for (auto& [id, c] : closing_) {
    if (c->refused) refusing.push_back(static_cast<StreamConnection*>(c.get()));
  }
  for (StreamConnection* c : refusing) c->close_handles();
  uv_timer_start(&drain_timer_, on_drain_timer, config_.limits.drain_ms, 0);
  // Completion is checked on the next pass, never inside this call.
  uv_idle_start(&flush_idle_, [](uv_idle_t*) {});
}

void Server::on_drain_timer(uv_timer_t* t) {
  auto* self = static_cast<Server*>(t->data);
  std::vector<Connection*> left;
  for (auto& [id, c] : self->closing_) left.push_back(c.get());
  if (!left.empty())
    log::logf(log::Level::Warn, "server", 0, "drain_ms elapsed: closing %zu connections now",
              left.size());
  for (Connection* c : left)
    if (!c->is_virtual()) static_cast<StreamConnection*>(c)->close_handles();
}

void Server::maybe_finish_shutdown() {
  if (!shutting_down_ || shutdown_done_) return;
  if (open_listeners_ > 0 || !conns_.empty() || !closing_.empty()) return;
  shutdown_done_ = true;
  uv_timer_stop(&drain_timer_);
  log::write(log::Level::Info, "server", 0, "all connections closed");
  auto done = std::move(on_shutdown_done_);
  if (done) done();
  close_own_handles();
}

void Server::close_own_handles() {
  if (handles_closed_) return;
  handles_closed_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&flush_check_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&flush_idle_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&drain_timer_), nullptr);
}

}  // namespace parley::kernel
