#include "conn_flood.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace parley::hostile {

namespace {

bool is_tls(FloodKind k) {
  return k == FloodKind::TlsSilent || k == FloodKind::TlsTrickle || k == FloodKind::TlsLeave ||
         k == FloodKind::TlsHello;
}

// A TLS record header announcing a 512-byte handshake record, then junk:
// never a complete ClientHello.
constexpr uint8_t kTcpTrickleHeader[5] = {0x16, 0x03, 0x01, 0x02, 0x00};

long elapsed_ms(ConnectionFlood::Clock::time_point since) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(ConnectionFlood::Clock::now() - since)
          .count());
}

}  // namespace

const char* flood_kind_name(FloodKind kind) {
  switch (kind) {
    case FloodKind::TcpSilent:
      return "silent TCP";
    case FloodKind::TcpTrickle:
      return "trickling TCP";
    case FloodKind::TlsSilent:
      return "silent TLS";
    case FloodKind::TlsTrickle:
      return "trickling TLS";
    case FloodKind::TcpLeave:
      return "TCP connect+close";
    case FloodKind::TlsLeave:
      return "TLS handshake+close";
    case FloodKind::TlsHello:
      return "TLS+hello+close";
  }
  return "?";
}

enum class ConnState : uint8_t { Connecting, Handshaking, Open, Done };

struct ConnectionFlood::Conn {
  FloodKind kind;
  ConnState state = ConnState::Connecting;
  int fd = -1;
  SSL* ssl = nullptr;
  bool want_write = false;
  Clock::time_point opened;
  size_t trickled = 0;
  parley::test::FrameReader reader;
  bool saw_timeout_closing = false;
};

ConnectionFlood::ConnectionFlood(int port, int trickle_interval_ms)
    : port_(port), trickle_ms_(trickle_interval_ms), next_trickle_(Clock::now()) {
  signal(SIGPIPE, SIG_IGN);
  ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  // No session cache: every connection pays a full handshake, as an
  // attacker's would.
  SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
  static const unsigned char alpn[] = {8, 'p', 'a', 'r', 'l', 'e', 'y', '/', '1'};
  SSL_CTX_set_alpn_protos(ctx_, alpn, sizeof alpn);
  hello_frame_ = parley::test::native_frame(parley::Kind::Request, 1, "sys.hello",
                                            parley::test::hello_payload(1, "flood"));
}

ConnectionFlood::~ConnectionFlood() {
  close_all();
  if (ctx_) SSL_CTX_free(ctx_);
}

FloodStats& ConnectionFlood::st(const Conn& c) { return stats_[static_cast<int>(c.kind)]; }

void ConnectionFlood::start(FloodKind kind) {
  auto c = std::make_unique<Conn>();
  c->kind = kind;
  c->opened = Clock::now();
  ++stats_[static_cast<int>(kind)].started;
  c->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    c->state = ConnState::Done;
    ++stats_[static_cast<int>(kind)].failed;
    if (st(*c).errors.size() < 5)
      st(*c).errors.push_back(std::string("socket: ") + strerror(errno));
    return;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port_));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ++active_;
  ++pending_setup_;
  int r = ::connect(c->fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  Conn& ref = *c;
  conns_.push_back(std::move(c));
  if (r != 0 && errno != EINPROGRESS) {
    --pending_setup_;
    finish(ref, false, std::string("connect: ") + strerror(errno));
    return;
  }
  ref.want_write = true;  // connect completion shows as POLLOUT
}

void ConnectionFlood::finish(Conn& c, bool by_server, const std::string& error) {
  if (c.state == ConnState::Done) return;
  FloodStats& s = st(c);
  if (c.state == ConnState::Connecting || c.state == ConnState::Handshaking) --pending_setup_;
  if (by_server) {
    ++s.closed_by_server;
    long life = elapsed_ms(c.opened);
    if (s.min_life_ms < 0 || life < s.min_life_ms) s.min_life_ms = life;
    if (life > s.max_life_ms) s.max_life_ms = life;
    if (c.saw_timeout_closing) ++s.timeout_closings;
  } else if (!error.empty()) {
    ++s.failed;
    if (s.errors.size() < 5) s.errors.push_back(error);
  }
  if (c.ssl) {
    if (!by_server) SSL_shutdown(c.ssl);  // one non-blocking close_notify
    SSL_free(c.ssl);
    c.ssl = nullptr;
  }
  if (c.fd >= 0) ::close(c.fd);
  c.fd = -1;
  c.state = ConnState::Done;
  --active_;
}

void ConnectionFlood::on_established(Conn& c) {
  ++st(c).established;
  --pending_setup_;
  c.state = ConnState::Open;
  c.want_write = false;
  switch (c.kind) {
    case FloodKind::TcpLeave:
    case FloodKind::TlsLeave:
      ++st(c).completed;
      finish(c, false);
      return;
    case FloodKind::TlsHello: {
      int r = SSL_write(c.ssl, hello_frame_.data(), static_cast<int>(hello_frame_.size()));
      if (r != static_cast<int>(hello_frame_.size())) finish(c, false, "SSL_write hello failed");
      return;
    }
    default:
      return;
  }
}

void ConnectionFlood::read_from(Conn& c) {
  uint8_t buf[16384];
  for (;;) {
    if (c.ssl) {
      ERR_clear_error();
      int r = SSL_read(c.ssl, buf, sizeof buf);
      if (r > 0) {
        c.reader.feed({buf, static_cast<size_t>(r)});
        while (auto frame = c.reader.next(/*with_prefix=*/true)) {
          auto in = parley::test::parse_frame(*frame);
          if (!in) {
            finish(c, false, "a frame that does not verify");
            return;
          }
          if (in->kind == parley::Kind::Event && in->method == "sys.closing" &&
              in->status == static_cast<uint16_t>(parley::Status::Timeout))
            c.saw_timeout_closing = true;
          if (c.kind == FloodKind::TlsHello && in->kind == parley::Kind::Response && in->id == 1) {
            if (!in->ok()) {
              finish(c, false, "sys.hello refused: " + in->error);
              return;
            }
            ++st(c).completed;
            finish(c, false);
            return;
          }
        }
        continue;
      }
      int e = SSL_get_error(c.ssl, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
      finish(c, true);  // close_notify, EOF or reset: the server ended it
      return;
    }
    ssize_t r = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (r > 0) continue;  // a TLS alert, say; the close follows
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    finish(c, true);
    return;
  }
}

void ConnectionFlood::advance(Conn& c, short revents) {
  if (c.state == ConnState::Connecting) {
    int soerr = 0;
    socklen_t len = sizeof soerr;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
    if (soerr != 0) {
      finish(c, false, std::string("connect: ") + strerror(soerr));
      return;
    }
    if (!(revents & POLLOUT)) return;
    if (!is_tls(c.kind)) {
      on_established(c);
      return;
    }
    c.ssl = SSL_new(ctx_);
    SSL_set_fd(c.ssl, c.fd);
    SSL_set_connect_state(c.ssl);
    c.state = ConnState::Handshaking;
  }
  if (c.state == ConnState::Handshaking) {
    ERR_clear_error();
    int r = SSL_do_handshake(c.ssl);
    if (r == 1) {
      on_established(c);
      if (c.state != ConnState::Open) return;
      revents = POLLIN;  // data may already be buffered
    } else {
      int e = SSL_get_error(c.ssl, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        c.want_write = e == SSL_ERROR_WANT_WRITE;
        return;
      }
      char err[256] = "";
      ERR_error_string_n(ERR_get_error(), err, sizeof err);
      finish(c, false, std::string("TLS handshake: ") + err);
      return;
    }
  }
  if (c.state == ConnState::Open && (revents & (POLLIN | POLLHUP | POLLERR))) read_from(c);
}

void ConnectionFlood::trickle(Conn& c) {
  if (c.kind == FloodKind::TcpTrickle) {
    uint8_t b = c.trickled < sizeof kTcpTrickleHeader ? kTcpTrickleHeader[c.trickled] : 0x01;
    if (::send(c.fd, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) ++c.trickled;
  } else if (c.kind == FloodKind::TlsTrickle) {
    // Stop one byte short: the frame never completes.
    if (c.trickled + 1 >= hello_frame_.size()) return;
    if (SSL_write(c.ssl, hello_frame_.data() + c.trickled, 1) == 1) ++c.trickled;
  }
}

void ConnectionFlood::step(int timeout_ms) {
  std::vector<pollfd> fds;
  std::vector<Conn*> who;
  fds.reserve(active_);
  who.reserve(active_);
  for (auto& c : conns_) {
    if (c->state == ConnState::Done) continue;
    short ev = POLLIN;
    if (c->want_write) ev |= POLLOUT;
    fds.push_back({c->fd, ev, 0});
    who.push_back(c.get());
  }
  if (!fds.empty()) {
    int n = ::poll(fds.data(), fds.size(), timeout_ms);
    for (size_t i = 0; n > 0 && i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      --n;
      advance(*who[i], fds[i].revents);
    }
  }
  if (Clock::now() >= next_trickle_) {
    next_trickle_ = Clock::now() + std::chrono::milliseconds(trickle_ms_);
    for (auto& c : conns_)
      if (c->state == ConnState::Open) trickle(*c);
  }
  // Forget finished connections now and then so that churn stays O(active).
  if (conns_.size() > 256 && static_cast<int>(conns_.size()) > 2 * active_) {
    std::erase_if(conns_, [](const auto& c) { return c->state == ConnState::Done; });
  }
}

void ConnectionFlood::close_all() {
  for (auto& c : conns_) finish(*c, false);
  conns_.clear();
}

long raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return -1;
  if (r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
  }
  return static_cast<long>(r.rlim_cur);
}

}  // namespace parley::hostile
