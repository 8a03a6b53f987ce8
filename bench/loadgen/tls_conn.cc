#include "tls_conn.h"

#include <openssl/err.h>

#include <cstring>
#include <stdexcept>

namespace parley::loadgen {

namespace {
struct WriteReq {
  uv_write_t req;
  std::string data;
};
// One read buffer for every connection: the loop is single-threaded and
// each read is consumed before the next.
char g_read_buf[64 * 1024];
}  // namespace

Net::Net(uv_loop_t* loop, bool tls, bool insecure, const std::string& ca_file) : loop_(loop) {
  if (tls) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    static const unsigned char alpn[] = {8, 'p', 'a', 'r', 'l', 'e', 'y', '/', '1'};
    SSL_CTX_set_alpn_protos(ctx_, alpn, sizeof alpn);
    if (insecure) {
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
      // SSL_VERIFY_NONE only ignores the result: OpenSSL still builds and
      // checks the chain (X509_verify_cert) on every handshake. Replace that
      // step; the server's CertificateVerify signature is still checked.
      SSL_CTX_set_cert_verify_callback(ctx_, [](X509_STORE_CTX*, void*) { return 1; }, nullptr);
    } else {
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
      if (!ca_file.empty()) SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
      else SSL_CTX_set_default_verify_paths(ctx_);
    }
    // No internal client cache: every handshake (two TLS 1.3 tickets each)
    // would be added to it and every 255th would walk it to expire entries
    // (SSL_CTX_flush_sessions), a cost that grows with the run. The session
    // to resume is kept explicitly (Net::session).
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
  }
  uv_prepare_init(loop_, &prepare_);
  prepare_.data = this;
  uv_prepare_start(&prepare_, on_prepare);
  uv_unref(reinterpret_cast<uv_handle_t*>(&prepare_));
}

Net::~Net() {
  if (session) SSL_SESSION_free(session);
  if (ctx_) SSL_CTX_free(ctx_);
}

void Net::mark_dirty(Conn* c) {
  if (c->dirty_) return;
  c->dirty_ = true;
  dirty_.push_back(c);
}

void Net::on_prepare(uv_prepare_t* p) {
  auto* self = static_cast<Net*>(p->data);
  self->flushing_.swap(self->dirty_);
  for (Conn* c : self->flushing_) {
    c->dirty_ = false;
    c->flush();
  }
  self->flushing_.clear();
}

Conn::Conn(Net& net, Handler& handler) : net_(net), handler_(handler) {}

Conn::~Conn() {
  if (ssl_) SSL_free(ssl_);
}

void Conn::connect(const sockaddr_in& addr) {
  uv_tcp_init(net_.loop(), &tcp_);
  tcp_.data = this;
  uv_tcp_nodelay(&tcp_, 1);
  connect_req_.data = this;
  int rc = uv_tcp_connect(&connect_req_, &tcp_, reinterpret_cast<const sockaddr*>(&addr),
                          on_connect);
  if (rc != 0) {
    why_ = uv_strerror(rc);
    closing_ = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
  }
}

void Conn::on_connect(uv_connect_t* req, int status) {
  auto* self = static_cast<Conn*>(req->data);
  if (self->closing_) return;
  if (status != 0) {
    self->close(uv_strerror(status));
    return;
  }
  uv_read_start(reinterpret_cast<uv_stream_t*>(&self->tcp_), on_alloc, on_read);
  if (!self->net_.ctx()) {
    self->open_ = true;
    self->handler_.on_open(*self);
    return;
  }
  self->ssl_ = SSL_new(self->net_.ctx());
  self->rbio_ = BIO_new(BIO_s_mem());
  self->wbio_ = BIO_new(BIO_s_mem());
  SSL_set_bio(self->ssl_, self->rbio_, self->wbio_);
  SSL_set_tlsext_host_name(self->ssl_, "localhost");
  if (self->net_.resume_tls && self->net_.session) SSL_set_session(self->ssl_, self->net_.session);
  SSL_set_connect_state(self->ssl_);
  self->drive_handshake();
}

bool Conn::drive_handshake() {
  int rc = SSL_do_handshake(ssl_);
  write_ciphertext();
  if (rc == 1) {
    open_ = true;
    handler_.on_open(*this);
    return true;
  }
  int err = SSL_get_error(ssl_, rc);
  if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    static thread_local std::string why;
    why = std::string("tls handshake: ") + buf;
    close(why.c_str());
  }
  return false;
}

void Conn::on_alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  *buf = uv_buf_init(g_read_buf, sizeof g_read_buf);
}

void Conn::on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  auto* self = static_cast<Conn*>(s->data);
  if (n < 0) {
    self->close(n == UV_EOF ? "server closed the connection" : uv_strerror(static_cast<int>(n)));
    return;
  }
  if (n > 0 && !self->closing_) self->on_bytes(buf->base, static_cast<size_t>(n));
}

void Conn::on_bytes(const char* data, size_t len) {
  if (!ssl_) {
    if (rx_.size() < rx_len_ + len) rx_.resize(std::max(rx_.size() * 2, rx_len_ + len));
    std::memcpy(rx_.data() + rx_len_, data, len);
    rx_len_ += len;
    parse_frames();
    return;
  }
  BIO_write(rbio_, data, static_cast<int>(len));
  if (!open_ && !drive_handshake()) return;
  read_plaintext();
}

void Conn::read_plaintext() {
  for (;;) {
    if (rx_.size() - rx_len_ < 16384) rx_.resize(std::max<size_t>(rx_.size() * 2, 65536));
    int n = SSL_read(ssl_, rx_.data() + rx_len_, static_cast<int>(rx_.size() - rx_len_));
    if (n <= 0) {
      int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_WANT_READ) break;
      close(err == SSL_ERROR_ZERO_RETURN ? "tls close_notify" : "tls read failed");
      return;
    }
    rx_len_ += static_cast<size_t>(n);
  }
  // TLS 1.3 tickets arrive after the handshake; a client should use each
  // once, so keep the newest for the next connection.
  if (net_.resume_tls && !session_saved_ && SSL_SESSION_is_resumable(SSL_get0_session(ssl_))) {
    session_saved_ = true;
    if (net_.session) SSL_SESSION_free(net_.session);
    net_.session = SSL_get1_session(ssl_);
  }
  write_ciphertext();  // e.g. key updates
  parse_frames();
}

void Conn::parse_frames() {
  size_t off = 0;
  while (!closing_ && rx_len_ - off >= 4) {
    uint32_t len;
    std::memcpy(&len, rx_.data() + off, 4);
    if (len < 8 || len > (64u << 20)) {
      close("bad frame length");
      return;
    }
    if (rx_len_ - off < 4 + size_t{len}) break;
    const parley::Envelope* e =
        verify_envelope(std::span<const uint8_t>(rx_.data() + off + 4, len));
    off += 4 + size_t{len};
    if (!e) {
      close("envelope failed verification");
      return;
    }
    handler_.on_envelope(*this, *e);
  }
  if (closing_) return;
  if (off > 0) {
    std::memmove(rx_.data(), rx_.data() + off, rx_len_ - off);
    rx_len_ -= off;
  }
}

void Conn::send(uint64_t id, std::string_view method, std::span<const uint8_t> payload) {
  if (closing_) return;
  append_request(tx_, id, method, payload);
  net_.mark_dirty(this);
}

void Conn::flush() {
  if (closing_ || tx_.empty() || !open_) return;
  if (!ssl_) {
    auto* w = new WriteReq;
    w->data.swap(tx_);
    uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), &b, 1, on_write) != 0) {
      delete w;
      close("write failed");
    }
    return;
  }
  for (size_t off = 0; off < tx_.size();) {
    int n = SSL_write(ssl_, tx_.data() + off,
                      static_cast<int>(std::min<size_t>(16384, tx_.size() - off)));
    if (n <= 0) {
      close("tls write failed");
      return;
    }
    off += static_cast<size_t>(n);
  }
  tx_.clear();
  write_ciphertext();
}

void Conn::write_ciphertext() {
  size_t pending = BIO_ctrl_pending(wbio_);
  if (pending == 0 || closing_) return;
  auto* w = new WriteReq;
  w->data.resize(pending);
  BIO_read(wbio_, w->data.data(), static_cast<int>(pending));
  uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), &b, 1, on_write) != 0) {
    delete w;
    close("write failed");
  }
}

void Conn::on_write(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteReq*>(req);
  auto* self = static_cast<Conn*>(req->handle->data);
  delete w;
  if (status < 0 && status != UV_ECANCELED && !self->closing_) self->close(uv_strerror(status));
}

void Conn::close(const char* why) {
  if (closing_) return;
  closing_ = true;
  why_ = why;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
}

void Conn::on_close(uv_handle_t* h) {
  auto* self = static_cast<Conn*>(h->data);
  self->closed_ = true;
  if (self->ssl_) {
    SSL_free(self->ssl_);
    self->ssl_ = nullptr;
  }
  self->handler_.on_closed(*self, self->why_);
}

}  // namespace parley::loadgen
