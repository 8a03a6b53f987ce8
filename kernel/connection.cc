#include "connection.h"

#include <openssl/err.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "log.h"
#include "server.h"
#include "tls_context.h"

namespace parley::kernel {
namespace {

// One uv_write: owns what the kernel hands to the socket until the write
// callback. Plaintext writes point into the shared frames (no copy per
// connection); TLS writes own the ciphertext.
struct WriteReq {
  uv_write_t req{};
  std::vector<FramePtr> frames;
  std::vector<uint8_t> bytes;
};

std::string peer_name(uv_tcp_t* tcp) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    return "?";
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    uv_ip4_name(a, host, sizeof host);
    port = ntohs(a->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
  uv_ip6_name(a6, host, sizeof host);
  port = ntohs(a6->sin6_port);
  return "[" + std::string(host) + "]:" + std::to_string(port);
}

}  // namespace

// ------------------------------------------------------------ Connection ---

Connection::Connection(Server& server, ConnId id) : server_(server) {
  info_.id = id;
}

void Connection::clear_queue() {
  out_bytes_ = 0;
  // A burst's capacity is not kept by a connection that goes idle.
  if (out_.capacity() > 16) {
    std::vector<FramePtr>().swap(out_);
  } else {
    out_.clear();
  }
}

void Connection::enqueue(const FramePtr& frame) {
  out_bytes_ += frame->bytes.size();
  out_.push_back(frame);
}

// ------------------------------------------------------ StreamConnection ---

StreamConnection::StreamConnection(Server& server, ConnId id, SSL_CTX* ssl_ctx,
                                   uint32_t max_frame_bytes)
    : Connection(server, id), decoder_(max_frame_bytes) {
  uv_tcp_init(server.loop(), &tcp_);
  uv_timer_init(server.loop(), &timer_);
  tcp_.data = this;
  timer_.data = this;
  open_handles_ = 2;
  if (ssl_ctx) {
    // The SSL object (~9 KiB) is made when the first bytes arrive: silent
    // connections (port scans, slowloris) cost only this object.
    ssl_ctx_ = ssl_ctx;
    state_ = State::TlsHandshake;
    info_.transport = "tls";
  } else {
    info_.transport = "tcp";
  }
}

StreamConnection::~StreamConnection() {
  if (ssl_) SSL_free(ssl_);
}

bool StreamConnection::start(uv_stream_t* listener) {
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&tcp_)) != 0)
    return false;
  uv_tcp_nodelay(&tcp_, 1);
  info_.peer = peer_name(&tcp_);
  opened_ms = last_rx_ms = uv_now(server_.loop());
  if (uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read) != 0)
    return false;
  arm_timer();
  return true;
}

uint64_t StreamConnection::pending_bytes() const {
  return out_bytes_ + tcp_.write_queue_size;
}

void StreamConnection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* self = static_cast<StreamConnection*>(h->data);
  // One read buffer for the whole loop: each read is consumed synchronously
  // in on_read, so idle connections hold no read memory.
  auto span = self->server_.read_buffer();
  *buf = uv_buf_init(reinterpret_cast<char*>(span.data()), span.size());
}

void StreamConnection::on_read(uv_stream_t* s, ssize_t nread,
                               const uv_buf_t* buf) {
  auto* self = static_cast<StreamConnection*>(s->data);
  if (nread == 0) return;
  if (nread < 0) {
    if (self->finishing_) {
      self->close_handles();
    } else {
      self->transport_gone(nread == UV_EOF ? "peer closed" : uv_strerror(nread));
    }
    return;
  }
  if (self->state_ == State::Closing) return;  // discarding until EOF
  self->on_bytes(reinterpret_cast<const uint8_t*>(buf->base),
                 static_cast<size_t>(nread));
}

void StreamConnection::on_bytes(const uint8_t* data, size_t len) {
  if (!ssl_ctx_) {
    on_plaintext(data, len);
    return;
  }
  if (!ssl_ && !make_ssl()) return;
  // OpenSSL reads these bytes in place through tls_io_ during this call;
  // whatever it needs across reads (a partial record) it keeps itself.
  tls_io_.in = data;
  tls_io_.in_len = len;
  struct ClearInput {
    TlsIo& io;
    ~ClearInput() {
      io.in = nullptr;
      io.in_len = 0;
    }
  } clear_input{tls_io_};
  if (state_ == State::TlsHandshake && !drive_tls_handshake()) return;
  auto plain = server_.plain_buffer();
  while (state_ != State::Closing) {
    size_t input_before = tls_io_.in_len;
    int n = SSL_read(ssl_, plain.data(), static_cast<int>(plain.size()));
    if (n > 0) {
      on_plaintext(plain.data(), static_cast<size_t>(n));
      continue;
    }
    int err = SSL_get_error(ssl_, n);
    // Done when the input is used up (or OpenSSL stopped taking it).
    if (err == SSL_ERROR_WANT_READ) {
      if (tls_io_.in_len > 0 && tls_io_.in_len < input_before) continue;
      break;
    }
    if (err == SSL_ERROR_ZERO_RETURN) {
      transport_gone("peer sent close_notify");
    } else {
      std::string why = "tls error: " + openssl_error_string();
      transport_gone(why.c_str());
    }
    return;
  }
  // Session tickets, key updates, alerts.
  if (!closing_handles_) write_tls_output();
}

bool StreamConnection::make_ssl() {
  ssl_ = SSL_new(ssl_ctx_);
  BIO* bio = ssl_ ? new_tls_io_bio(&tls_io_) : nullptr;
  if (!bio) {
    std::string why = "cannot allocate TLS state: " + openssl_error_string();
    log::write(log::Level::Warn, "conn", id(), why);
    server_.on_transport_gone(*this, nullptr);
    close_handles();
    return false;
  }
  tls_io_.pool = &server_.cipher_pool();
  SSL_set_bio(ssl_, bio, bio);  // one BIO both ways; ssl_ owns it now
  SSL_set_accept_state(ssl_);
  return true;
}

bool StreamConnection::drive_tls_handshake() {
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    write_tls_output();
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(ssl_, &alpn, &alpn_len);
    log::logf(log::Level::Debug, "conn", id(), "tls established version=%s cipher=%s alpn=%.*s",
              SSL_get_version(ssl_), SSL_get_cipher_name(ssl_),
              static_cast<int>(alpn_len), alpn ? reinterpret_cast<const char*>(alpn) : "");
    server_.on_tls_established(*this);
    return state_ != State::Closing;
  }
  int err = SSL_get_error(ssl_, r);
  if (err == SSL_ERROR_WANT_READ) {
    write_tls_output();
    return false;
  }
  std::string why = "tls handshake failed: " + openssl_error_string();
  write_tls_output();  // the alert, if any
  log::write(log::Level::Info, "conn", id(), why);
  server_.on_transport_gone(*this, nullptr);
  finish(200, false);
  return false;
}

void StreamConnection::write_tls_output() {
  if (tls_io_.out.empty() || closing_handles_) {
    // An idle connection keeps no ciphertext buffer, not even an empty one.
    if (tls_io_.out.capacity() > 0) server_.cipher_pool().give_back(std::move(tls_io_.out));
    return;
  }
  auto* w = new WriteReq;
  w->bytes.swap(tls_io_.out);  // the connection keeps no ciphertext buffer
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(w->bytes.data()), w->bytes.size());
  if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, on_write) != 0) {
    server_.cipher_pool().give_back(std::move(w->bytes));
    delete w;
    transport_gone("write failed");
  }
}

void StreamConnection::flush() {
  if (out_.empty() || closing_handles_) return;
  if (!ssl_ctx_) {
    write_plain();
  } else if (ssl_ && SSL_is_init_finished(ssl_)) {
    write_encrypted();
  } else {
    clear_queue();  // never in plaintext on a TLS listener
  }
}

void StreamConnection::write_plain() {
  auto* w = new WriteReq;
  std::vector<uv_buf_t> bufs;
  bufs.reserve(out_.size());
  w->frames.reserve(out_.size());
  for (auto& f : out_) {
    bufs.push_back(uv_buf_init(reinterpret_cast<char*>(const_cast<uint8_t*>(f->bytes.data())),
                               f->bytes.size()));
    w->frames.push_back(std::move(f));
  }
  clear_queue();
  if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), bufs.data(),
               bufs.size(), on_write) != 0) {
    delete w;
    transport_gone("write failed");
  }
}

void StreamConnection::write_encrypted() {
  // Gather the queued frames into records of up to 16 KiB (one SSL_write
  // each) in the loop's staging buffer, then hand all ciphertext to one
  // uv_write.
  auto staging = server_.staging_buffer();
  // Room for all the ciphertext at once: each record adds at most 22 bytes
  // in TLS 1.3 (header, content type, tag), 29 in TLS 1.2.
  size_t room = tls_io_.out.size() + out_bytes_ + (out_bytes_ / staging.size() + 1) * 32;
  if (tls_io_.out.capacity() == 0) {
    tls_io_.out = server_.cipher_pool().take(room);
  } else {
    tls_io_.out.reserve(room);
  }
  size_t used = 0;
  bool ok = true;
  auto seal = [&]() {
    if (used == 0) return;
    if (SSL_write(ssl_, staging.data(), static_cast<int>(used)) <= 0) ok = false;
    used = 0;
  };
  for (const auto& f : out_) {
    const uint8_t* p = f->bytes.data();
    size_t left = f->bytes.size();
    while (left > 0 && ok) {
      size_t take = std::min(left, staging.size() - used);
      std::memcpy(staging.data() + used, p, take);
      used += take;
      p += take;
      left -= take;
      if (used == staging.size()) seal();
    }
  }
  seal();
  clear_queue();
  if (!ok) {
    std::string why = "tls write failed: " + openssl_error_string();
    transport_gone(why.c_str());
    return;
  }
  write_tls_output();
}

void StreamConnection::on_write(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteReq*>(req);
  auto* self = static_cast<StreamConnection*>(req->handle->data);
  // Plaintext writes have no bytes; give_back frees what it cannot keep.
  self->server_.cipher_pool().give_back(std::move(w->bytes));
  delete w;
  if (status < 0 && status != UV_ECANCELED && !self->closing_handles_) {
    if (self->finishing_) {
      self->close_handles();
    } else {
      self->transport_gone(uv_strerror(status));
    }
  }
}

void StreamConnection::finish(uint64_t linger_ms, bool abort) {
  if (finishing_) return;
  finishing_ = true;
  state_ = State::Closing;
  if (abort || closing_handles_) {
    close_handles();
    return;
  }
  flush();
  if (ssl_ && SSL_is_init_finished(ssl_)) {
    SSL_shutdown(ssl_);  // close_notify
    write_tls_output();
  }
  if (closing_handles_) return;
  // uv_shutdown waits for the queued writes, then sends FIN. The handles
  // close at the peer's EOF or when the linger time is up, whichever first,
  // so the peer can read everything before the socket goes away.
  linger_deadline_ms_ = uv_now(server_.loop()) + linger_ms;
  arm_timer();
  if (uv_shutdown(&shutdown_req_, reinterpret_cast<uv_stream_t*>(&tcp_), on_shutdown) == 0) {
    shutdown_sent_ = true;
  } else {
    close_handles();
  }
}

void StreamConnection::on_shutdown(uv_shutdown_t* req, int status) {
  auto* self = static_cast<StreamConnection*>(req->handle->data);
  if (self->closing_handles_) return;
  // Everything was written and the FIN is out. While the server shuts down
  // there is no reason to wait for the peer: what it sends now is
  // discarded anyway. Otherwise linger for its EOF (see finish()).
  if (status < 0 || self->server_.shutting_down()) self->close_handles();
}

void StreamConnection::transport_gone(const char* why) {
  if (closing_handles_) return;
  if (why) log::logf(log::Level::Debug, "conn", id(), "transport gone: %s", why);
  server_.on_transport_gone(*this, why);
  close_handles();
}

void StreamConnection::arm_timer() {
  if (closing_handles_) return;
  uint64_t now = uv_now(server_.loop());
  uint64_t deadline;
  if (finishing_) {
    deadline = linger_deadline_ms_;
  } else if (state_ == State::Open) {
    deadline = last_rx_ms + server_.limits().idle_ms;
  } else {
    deadline = opened_ms + server_.limits().handshake_ms;
  }
  uv_timer_start(&timer_, on_timer, deadline > now ? deadline - now : 0, 0);
}

void StreamConnection::on_timer(uv_timer_t* t) {
  auto* self = static_cast<StreamConnection*>(t->data);
  if (self->finishing_) {
    self->close_handles();
    return;
  }
  uint64_t now = uv_now(self->server_.loop());
  const Limits& limits = self->server_.limits();
  if (self->state_ == State::Open) {
    if (now >= self->last_rx_ms + limits.idle_ms) {
      self->server_.close_connection(*self, static_cast<uint16_t>(parley::Status::Timeout),
                                     "idle timeout", Server::CloseMode::Graceful);
      return;
    }
  } else if (now >= self->opened_ms + limits.handshake_ms) {
    if (self->state_ == State::TlsHandshake) {
      log::write(log::Level::Info, "conn", self->id(), "tls handshake timeout");
      self->server_.on_transport_gone(*self, nullptr);
      self->close_handles();
    } else {
      self->server_.close_connection(*self, static_cast<uint16_t>(parley::Status::Timeout),
                                     "handshake timeout: no sys.hello", Server::CloseMode::Graceful);
    }
    return;
  }
  self->arm_timer();
}

void StreamConnection::close_handles() {
  if (closing_handles_) return;
  closing_handles_ = true;
  finishing_ = true;
  state_ = State::Closing;
  out_.clear();
  out_bytes_ = 0;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_closed);
}

void StreamConnection::on_closed(uv_handle_t* h) {
  auto* self = static_cast<StreamConnection*>(h->data);
  if (--self->open_handles_ == 0) self->server_.on_released(*self);
}

void StreamConnection::on_plaintext(const uint8_t* data, size_t len) {
  auto status = decoder_.feed({data, len}, [this](std::span<const uint8_t> env) {
    server_.on_envelope(*this, env);
    return state_ != State::Closing;
  });
  if (state_ == State::Closing) return;
  if (status == FrameDecoder::Status::FrameTooLarge) {
    server_.close_connection(
        *this, static_cast<uint16_t>(parley::Status::FrameTooLarge),
        "frame of " + std::to_string(decoder_.rejected_length()) +
            " bytes exceeds limits.max_frame_bytes " +
            std::to_string(server_.limits().max_frame_bytes),
        Server::CloseMode::Graceful);
  } else if (status == FrameDecoder::Status::Malformed) {
    server_.close_connection(
        *this, static_cast<uint16_t>(parley::Status::Malformed),
        "frame length " + std::to_string(decoder_.rejected_length()) +
            " is below the minimum of 8",
        Server::CloseMode::Graceful);
  }
}

// ----------------------------------------------------- VirtualConnection ---

VirtualConnection::VirtualConnection(Server& server, ConnId id,
                                     const parley_virtual_ops& ops, void* ud)
    : Connection(server, id), ops_(ops), ud_(ud) {
  virtual_ = true;
}

uint64_t VirtualConnection::pending_bytes() const {
  return out_bytes_ + static_cast<uint64_t>(std::max<int64_t>(transport_pending_, 0));
}

void VirtualConnection::flush() {
  // Frames are taken from the front one at a time; a close on the way
  // clears the queue (then nothing here touches it again).
  size_t taken = 0;
  while (taken < out_.size() && !gone_ && !closed_) {
    FramePtr f = std::move(out_[taken++]);
    out_bytes_ -= f->bytes.size();
    auto env = f->envelope();
    int64_t r = ops_.write(ud_, env.data(), env.size());
    if (r < 0) {
      server_.close_connection(*this, static_cast<uint16_t>(parley::Status::Unavailable),
                               "transport write failed", Server::CloseMode::Silent);
      return;
    }
    transport_pending_ = r;
    if (static_cast<uint64_t>(r) > server_.pending_limit(*this) &&
        state_ != State::Closing) {
      server_.close_connection(*this, static_cast<uint16_t>(parley::Status::ResourceExhausted),
                               server_.slow_consumer_reason(*this), Server::CloseMode::Abort);
      return;
    }
  }
  if (taken >= out_.size()) {
    clear_queue();
  } else {
    out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(taken));
  }
}

void VirtualConnection::finish(uint64_t, bool abort) {
  state_ = State::Closing;
  if (!abort) flush();
  out_.clear();
  out_bytes_ = 0;
  if (!gone_ && !closed_) {
    closed_ = true;
    ops_.close(ud_, close_status, close_message.c_str());
  }
  closed_ = true;
  server_.on_released(*this);
}

}  // namespace parley::kernel
