#include "connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace parley::client {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

std::string ssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

bool is_ip_literal(const std::string& host) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

// Non-blocking TCP connect to the first address that answers before deadline.
int tcp_connect(const Options& o, Clock::time_point deadline, std::string* why) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* res = nullptr;
  std::string port = std::to_string(o.port);
  int rc = getaddrinfo(o.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    *why = std::string("cannot resolve ") + o.host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  *why = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  ai->ai_protocol);
    if (fd < 0) continue;
    int err = 0;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        int n = ::poll(&p, 1, remaining_ms(deadline));
        if (n == 0) {
          err = ETIMEDOUT;
        } else {
          socklen_t len = sizeof err;
          getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        }
      }
    }
    if (err == 0) break;
    *why = std::strerror(err);
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

}  // namespace

std::unique_ptr<Connection> Connection::open(const Options& o, ConnectError* error) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(o.connect_timeout_ms);
  std::unique_ptr<Connection> c(new Connection());
  std::string why;
  c->fd_ = tcp_connect(o, deadline, &why);
  if (c->fd_ < 0) {
    *error = {ConnectFailure::Unreachable, why};
    return nullptr;
  }
  if (!o.tls) return c;

  c->ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(c->ctx_, TLS1_2_VERSION);
  SSL_CTX_set_mode(c->ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  static const unsigned char alpn[] = {8, 'p', 'a', 'r', 'l', 'e', 'y', '/', '1'};
  SSL_CTX_set_alpn_protos(c->ctx_, alpn, sizeof alpn);
  if (!o.insecure) {
    SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr);
    bool loaded = o.ca_file.empty()
                      ? SSL_CTX_set_default_verify_paths(c->ctx_) == 1
                      : SSL_CTX_load_verify_locations(c->ctx_, o.ca_file.c_str(), nullptr) == 1;
    if (!loaded) {
      *error = {ConnectFailure::Certificate,
                "cannot load CA file '" + o.ca_file + "': " + ssl_errors()};
      return nullptr;
    }
  }
  c->ssl_ = SSL_new(c->ctx_);
  SSL_set_fd(c->ssl_, c->fd_);
  if (!is_ip_literal(o.host)) SSL_set_tlsext_host_name(c->ssl_, o.host.c_str());
  if (!o.insecure) {
    X509_VERIFY_PARAM* param = SSL_get0_param(c->ssl_);
    if (is_ip_literal(o.host)) {
      X509_VERIFY_PARAM_set1_ip_asc(param, o.host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, o.host.c_str(), 0);
    }
  }
  for (;;) {
    ERR_clear_error();
    int rc = SSL_connect(c->ssl_);
    if (rc == 1) break;
    int err = SSL_get_error(c->ssl_, rc);
    short events = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (events != 0) {
      pollfd p{c->fd_, events, 0};
      if (::poll(&p, 1, remaining_ms(deadline)) > 0) continue;
      *error = {ConnectFailure::Handshake, "TLS handshake timed out"};
      return nullptr;
    }
    long verify = SSL_get_verify_result(c->ssl_);
    if (verify != X509_V_OK) {
      *error = {ConnectFailure::Certificate, X509_verify_cert_error_string(verify)};
      return nullptr;
    }
    std::string detail = ssl_errors();
    if (detail.empty()) detail = "the server closed the connection during the TLS handshake";
    *error = {ConnectFailure::Handshake, detail};
    return nullptr;
  }
  return c;
}

Connection::~Connection() {
  if (ssl_) {
    SSL_shutdown(ssl_);  // best-effort close_notify; the socket is non-blocking
    SSL_free(ssl_);
  }
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

bool Connection::has_buffered() const { return ssl_ && SSL_pending(ssl_) > 0; }

long Connection::io_result(int n, const char* what) {
  if (n > 0) return n;
  int err = SSL_get_error(ssl_, n);
  if (err == SSL_ERROR_WANT_READ) return 0;
  if (err == SSL_ERROR_WANT_WRITE) {
    wants_write_ = true;
    return 0;
  }
  if (err == SSL_ERROR_ZERO_RETURN) {
    error_ = "the server closed the connection";
  } else {
    std::string detail = ssl_errors();
    if (detail.empty()) detail = errno ? std::strerror(errno) : "connection closed";
    error_ = std::string(what) + ": " + detail;
  }
  return -1;
}

long Connection::read(uint8_t* buf, size_t len) {
  wants_write_ = false;
  if (!ssl_) {
    ssize_t n = ::recv(fd_, buf, len, 0);
    if (n > 0) return n;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
    error_ = n == 0 ? "the server closed the connection" : std::strerror(errno);
    return -1;
  }
  ERR_clear_error();
  errno = 0;
  return io_result(SSL_read(ssl_, buf, static_cast<int>(len)), "read");
}

long Connection::write(const uint8_t* buf, size_t len) {
  wants_write_ = false;
  if (!ssl_) {
    ssize_t n = ::send(fd_, buf, len, MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      wants_write_ = true;
      return 0;
    }
    error_ = std::strerror(errno);
    return -1;
  }
  ERR_clear_error();
  errno = 0;
  long n = io_result(SSL_write(ssl_, buf, static_cast<int>(len)), "write");
  if (n == 0) wants_write_ = true;
  return n;
}

}  // namespace parley::client
