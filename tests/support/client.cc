// Client: a blocking TLS/TCP client over a non-blocking socket, every wait
// bounded by poll() with a deadline.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <mutex>

#include "parley_test.h"

namespace parley::test {

namespace {

using Clock = std::chrono::steady_clock;

Clock::time_point deadline_after(int ms) { return Clock::now() + std::chrono::milliseconds(ms); }

int ms_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// POLLIN/POLLOUT on fd until the deadline. True when ready (or in error,
// which the following I/O call reports).
bool wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd pfd{fd, events, 0};
    int n = poll(&pfd, 1, ms_left(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return true;
  }
}

std::string ssl_errors() {
  std::string out;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

std::vector<unsigned char> alpn_wire(const std::string& list) {
  std::vector<unsigned char> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string id = list.substr(start, comma - start);
    if (!id.empty()) {
      out.push_back(static_cast<unsigned char>(id.size()));
      out.insert(out.end(), id.begin(), id.end());
    }
    start = comma + 1;
  }
  return out;
}

void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] { signal(SIGPIPE, SIG_IGN); });
}

}  // namespace

std::unique_ptr<Client> Client::connect(const std::string& host, int port,
                                        const ClientOptions& options, std::string* error) {
  ignore_sigpipe_once();
  auto fail = [&](const std::string& why) -> std::unique_ptr<Client> {
    if (error) *error = why;
    return nullptr;
  };
  auto deadline = deadline_after(options.timeout_ms);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int gai = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (gai != 0) return fail("getaddrinfo(" + host + "): " + gai_strerror(gai));

  std::unique_ptr<Client> c(new Client());
  std::string last = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (options.rcvbuf > 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &options.rcvbuf, sizeof options.rcvbuf);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int r = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
      if (wait_fd(fd, POLLOUT, deadline)) {
        int soerr = 0;
        socklen_t len = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        r = soerr == 0 ? 0 : -1;
        errno = soerr;
      } else {
        errno = ETIMEDOUT;
      }
    }
    if (r == 0) {
      c->fd_ = fd;
      break;
    }
    last = std::strerror(errno);
    ::close(fd);
  }
  freeaddrinfo(res);
  if (c->fd_ < 0) return fail("connect " + host + ":" + std::to_string(port) + ": " + last);
  if (!options.tls) return c;

  ERR_clear_error();
  c->ctx_ = SSL_CTX_new(TLS_client_method());
  if (!c->ctx_) return fail("SSL_CTX_new: " + ssl_errors());
  SSL_CTX_set_min_proto_version(c->ctx_, options.min_tls ? options.min_tls : TLS1_2_VERSION);
  if (options.max_tls) SSL_CTX_set_max_proto_version(c->ctx_, options.max_tls);
  if ((options.max_tls && options.max_tls < TLS1_2_VERSION) ||
      (options.min_tls && options.min_tls < TLS1_2_VERSION)) {
    // OpenSSL 3 refuses TLS < 1.2 at security level 1+; lower it so the
    // client really offers the old version and the server is what refuses.
    SSL_CTX_set_security_level(c->ctx_, 0);
    SSL_CTX_set_cipher_list(c->ctx_, "DEFAULT:@SECLEVEL=0");
  }
  SSL_CTX_set_mode(c->ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(c->ctx_, options.ca_file.c_str(), nullptr) != 1)
      return fail("cannot load CA " + options.ca_file + ": " + ssl_errors());
    SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_NONE, nullptr);
  }
  if (!options.alpn.empty()) {
    auto wire = alpn_wire(options.alpn);
    SSL_CTX_set_alpn_protos(c->ctx_, wire.data(), static_cast<unsigned>(wire.size()));
  }
  c->ssl_ = SSL_new(c->ctx_);
  if (!c->ssl_) return fail("SSL_new: " + ssl_errors());
  SSL_set_fd(c->ssl_, c->fd_);
  for (;;) {
    int r = SSL_connect(c->ssl_);
    if (r == 1) break;
    int e = SSL_get_error(c->ssl_, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      if (!wait_fd(c->fd_, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
        return fail("TLS handshake timed out after " + std::to_string(options.timeout_ms) + " ms");
      continue;
    }
    std::string detail = ssl_errors();
    if (detail.empty()) detail = e == SSL_ERROR_SYSCALL ? std::string("connection closed: ") + std::strerror(errno) : "error " + std::to_string(e);
    return fail("TLS handshake failed: " + detail);
  }
  return c;
}

Client::~Client() {
  close();
  if (ctx_) SSL_CTX_free(ctx_);
}

void Client::close() {
  if (ssl_) {
    if (!closed_) SSL_shutdown(ssl_);  // one non-blocking attempt
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  closed_ = true;
}

bool Client::write_all(std::span<const uint8_t> bytes) {
  if (fd_ < 0) {
    last_error_ = "write on a closed client";
    return false;
  }
  auto deadline = deadline_after(10000);
  size_t off = 0;
  while (off < bytes.size()) {
    const uint8_t* p = bytes.data() + off;
    size_t n = bytes.size() - off;
    if (ssl_) {
      ERR_clear_error();
      int r = SSL_write(ssl_, p, static_cast<int>(std::min<size_t>(n, 1 << 30)));
      if (r > 0) {
        off += static_cast<size_t>(r);
        continue;
      }
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        if (!wait_fd(fd_, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
          last_error_ = "write timed out";
          return false;
        }
        continue;
      }
      last_error_ = "SSL_write failed: " + ssl_errors() + " " + std::strerror(errno);
      return false;
    }
    ssize_t r = ::send(fd_, p, n, MSG_NOSIGNAL);
    if (r > 0) {
      off += static_cast<size_t>(r);
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_fd(fd_, POLLOUT, deadline)) {
        last_error_ = "write timed out";
        return false;
      }
      continue;
    }
    last_error_ = std::string("send failed: ") + std::strerror(errno);
    return false;
  }
  return true;
}

bool Client::fill(int timeout_ms) {
  if (closed_ || fd_ < 0) return false;
  auto deadline = deadline_after(timeout_ms);
  uint8_t buf[16384];
  for (;;) {
    if (ssl_) {
      ERR_clear_error();
      int r = SSL_read(ssl_, buf, sizeof buf);
      if (r > 0) {
        reader_.feed({buf, static_cast<size_t>(r)});
        return true;
      }
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        if (!wait_fd(fd_, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) return false;
        continue;
      }
      closed_ = true;
      if (e == SSL_ERROR_ZERO_RETURN) {
        last_error_ = "closed by the server (close_notify)";
      } else {
        std::string detail = ssl_errors();
        last_error_ = "closed: " + (detail.empty() ? std::string(std::strerror(errno)) : detail);
      }
      return false;
    }
    ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
    if (r > 0) {
      reader_.feed({buf, static_cast<size_t>(r)});
      return true;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_fd(fd_, POLLIN, deadline)) return false;
      continue;
    }
    closed_ = true;
    last_error_ = r == 0 ? "closed by the server (EOF)" : std::string("closed: ") + std::strerror(errno);
    return false;
  }
}

std::optional<Incoming> Client::pop_frame() {
  for (;;) {
    auto bytes = reader_.next(/*with_prefix=*/true);
    if (!bytes) {
      if (reader_.broken() && !closed_) {
        ADD_FAILURE() << "server sent a length prefix above 64 MiB";
        closed_ = true;
      }
      return std::nullopt;
    }
    auto in = parse_frame(*bytes);
    if (!in) {
      ++bad_frames_;
      std::string hex;
      for (size_t i = 0; i < bytes->size() && i < 48; ++i) {
        static const char digits[] = "0123456789abcdef";
        hex += digits[(*bytes)[i] >> 4];
        hex += digits[(*bytes)[i] & 15];
        hex += ' ';
      }
      ADD_FAILURE() << "server sent a frame that does not verify as a PRLY Envelope ("
                    << bytes->size() << " bytes, starting " << hex << ")";
      continue;
    }
    note(*in);
    return in;
  }
}

void Client::note(const Incoming& in) {
  if (in.kind == parley::Kind::Event && in.method == "sys.closing") last_closing_ = in;
}

uint64_t Client::send(const std::string& method, std::span<const uint8_t> payload) {
  uint64_t id = next_id_++;
  send_with_id(id, method, payload);
  return id;
}

uint64_t Client::send(const std::string& method, const flatbuffers::FlatBufferBuilder& fbb) {
  return send(method, std::span<const uint8_t>(fbb.GetBufferPointer(), fbb.GetSize()));
}

void Client::send_with_id(uint64_t id, const std::string& method,
                          std::span<const uint8_t> payload) {
  auto f = native_frame(parley::Kind::Request, id, method, payload);
  write_all(f);
}

bool Client::send_raw(std::span<const uint8_t> bytes) { return write_all(bytes); }

std::optional<Incoming> Client::read(int timeout_ms) {
  if (!queue_.empty()) {
    Incoming in = std::move(queue_.front());
    queue_.pop_front();
    return in;
  }
  auto deadline = deadline_after(timeout_ms);
  for (;;) {
    if (auto in = pop_frame()) return in;
    if (!fill(ms_left(deadline))) {
      if (auto in = pop_frame()) return in;
      return std::nullopt;
    }
  }
}

std::optional<Incoming> Client::read_response(uint64_t id, int timeout_ms) {
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (it->kind == parley::Kind::Response && it->id == id) {
      Incoming in = std::move(*it);
      queue_.erase(it);
      return in;
    }
  }
  auto deadline = deadline_after(timeout_ms);
  for (;;) {
    while (auto in = pop_frame()) {
      if (in->kind == parley::Kind::Response && in->id == id) return in;
      queue_.push_back(std::move(*in));
    }
    if (!fill(ms_left(deadline))) {
      while (auto in = pop_frame()) {
        if (in->kind == parley::Kind::Response && in->id == id) return in;
        queue_.push_back(std::move(*in));
      }
      return std::nullopt;
    }
  }
}

Incoming Client::call(const std::string& method, std::span<const uint8_t> payload,
                      int timeout_ms) {
  uint64_t id = send(method, payload);
  if (auto in = read_response(id, timeout_ms)) return std::move(*in);
  Incoming none;
  none.received = false;
  none.kind = parley::Kind::Response;
  none.id = id;
  none.method = method;
  none.status = Incoming::kNoResponse;
  none.error = closed_ ? "connection closed before the response: " + last_error_
                       : "no response within " + std::to_string(timeout_ms) + " ms";
  ADD_FAILURE() << method << " (id " << id << "): " << none.error;
  return none;
}

Incoming Client::call(const std::string& method, const flatbuffers::FlatBufferBuilder& fbb,
                      int timeout_ms) {
  return call(method, std::span<const uint8_t>(fbb.GetBufferPointer(), fbb.GetSize()),
              timeout_ms);
}

std::optional<Incoming> Client::next_event(const std::string& method, int timeout_ms) {
  auto matches = [&](const Incoming& in) {
    return in.kind == parley::Kind::Event && (method.empty() || in.method == method);
  };
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (matches(*it)) {
      Incoming in = std::move(*it);
      queue_.erase(it);
      return in;
    }
  }
  auto deadline = deadline_after(timeout_ms);
  for (;;) {
    while (auto in = pop_frame()) {
      if (matches(*in)) return in;
      queue_.push_back(std::move(*in));
    }
    if (!fill(ms_left(deadline))) {
      while (auto in = pop_frame()) {
        if (matches(*in)) return in;
        queue_.push_back(std::move(*in));
      }
      return std::nullopt;
    }
  }
}

std::vector<Incoming> Client::drain_events(int quiet_ms) {
  std::vector<Incoming> events;
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (it->kind == parley::Kind::Event) {
      events.push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  for (;;) {
    while (auto in = pop_frame()) {
      if (in->kind == parley::Kind::Event)
        events.push_back(std::move(*in));
      else
        queue_.push_back(std::move(*in));
    }
    if (!fill(quiet_ms)) {
      while (auto in = pop_frame()) {
        if (in->kind == parley::Kind::Event)
          events.push_back(std::move(*in));
        else
          queue_.push_back(std::move(*in));
      }
      return events;
    }
  }
}

Incoming Client::hello(const std::string& client) {
  Incoming in = call("sys.hello", hello_payload(1, client));
  EXPECT_EQ(in.status, 0) << "sys.hello failed: " << in.error;
  return in;
}

bool Client::wait_closed(int timeout_ms) {
  auto deadline = deadline_after(timeout_ms);
  for (;;) {
    while (auto in = pop_frame()) queue_.push_back(std::move(*in));
    if (closed_) return true;
    if (!fill(ms_left(deadline))) {
      while (auto in = pop_frame()) queue_.push_back(std::move(*in));
      if (closed_) return true;
      if (ms_left(deadline) == 0) return false;
    }
  }
}

std::string Client::alpn_selected() const {
  if (!ssl_) return {};
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return data ? std::string(reinterpret_cast<const char*>(data), len) : std::string();
}

std::string Client::tls_version() const { return ssl_ ? SSL_get_version(ssl_) : ""; }

}  // namespace parley::test
