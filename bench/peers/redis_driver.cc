// The fanout and rooms shapes against Redis pub/sub (issue 10 peers), on one
// libuv loop with an in-place RESP2 parser (peer_driver.h says why not
// hiredis). Plaintext, no persistence. Same JSON as parley-loadgen.
//
//   fanout: --members subscriber connections on channel "bench", one
//           publisher keeping --window (128) PUBLISHes in flight (the
//           integer reply frees a slot, like Parley's send Response).
//   rooms:  --rooms pairs; each user has an inbox channel "r<k>:<side>"
//           (a subscriber connection — RESP2 forbids PUBLISH on it) and a
//           publisher connection sending to its partner's inbox with
//           --window (8) in flight. A channel per direction, so every
//           message is delivered once, as in a Parley direct room (the
//           sender's own connection does not get its message back).
//
//   parley-peer-redis --server 127.0.0.1:6379 [--scenario fanout|rooms]
//       [--members 100] [--rooms 50] [--size 64] [--duration 5] [--window N]
//       [--server-pid PID] [--json]
#include <arpa/inet.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "peer_driver.h"

namespace {

using namespace parley::peers;

const char* kUsage =
    "parley-peer-redis --server HOST:PORT [--scenario fanout|rooms] [--members N] [--rooms N] "
    "[--size B] [--duration S] [--window N] [--server-pid PID] [--json]";

// One RESP2 value: simple/error/integer/bulk, or an array of up to 4 of those.
struct Reply {
  char type = 0;
  std::string_view parts[4];
  int count = 0;
};

// The line starting at p (without CRLF), or npos-like nullptr when incomplete.
const char* crlf(const char* p, const char* end) {
  for (;;) {
    auto* r = static_cast<const char*>(std::memchr(p, '\r', static_cast<size_t>(end - p)));
    if (!r || r + 1 >= end) return nullptr;
    if (r[1] == '\n') return r;
    p = r + 1;
  }
}

long long to_int(const char* p, const char* e) {
  bool neg = p < e && *p == '-';
  long long v = 0;
  for (p += neg; p < e; ++p) v = v * 10 + (*p - '0');
  return neg ? -v : v;
}

// A scalar at p: fills `out`, returns the bytes used or 0 when incomplete.
size_t parse_scalar(const char* p, const char* end, char& type, std::string_view& out) {
  const char* e = crlf(p + 1, end);
  if (!e) return 0;
  type = *p;
  if (type != '$') {
    out = std::string_view(p + 1, static_cast<size_t>(e - p - 1));
    return static_cast<size_t>(e + 2 - p);
  }
  long long len = to_int(p + 1, e);
  if (len < 0) {
    out = {};
    return static_cast<size_t>(e + 2 - p);
  }
  const char* body = e + 2;
  if (end - body < len + 2) return 0;
  out = std::string_view(body, static_cast<size_t>(len));
  return static_cast<size_t>(body + len + 2 - p);
}

size_t parse_reply(const char* p, size_t n, Reply& r) {
  const char* end = p + n;
  if (n < 3) return 0;
  if (*p != '*') {
    r.count = 1;
    return parse_scalar(p, end, r.type, r.parts[0]);
  }
  const char* e = crlf(p + 1, end);
  if (!e) return 0;
  r.type = '*';
  r.count = static_cast<int>(to_int(p + 1, e));
  const char* q = e + 2;
  for (int i = 0; i < r.count; ++i) {
    if (q >= end) return 0;
    char t;
    std::string_view v;
    size_t used = parse_scalar(q, end, t, v);
    if (!used) return 0;
    if (i < 4) r.parts[i] = v;
    q += used;
  }
  return static_cast<size_t>(q - p);
}

struct Sender {
  RawConn* conn = nullptr;
  std::string prefix;  // "*3 PUBLISH <channel> $<size>" up to the payload
  int inflight = 0;
};

struct Driver {
  Options o;
  uv_loop_t* loop = uv_default_loop();
  sockaddr_in addr{};
  std::unique_ptr<Run> run;
  std::vector<std::unique_ptr<RawConn>> conns;
  std::vector<std::unique_ptr<Sender>> senders;
  int ready = 0, ready_target = 0;
  std::string payload;

  void pump(Sender& s) {
    if (!run->measuring()) return;
    std::string& tx = s.conn->tx();
    while (s.inflight < o.window) {
      stamped_payload(payload, o.size);
      tx += s.prefix;
      tx += payload;
      tx += "\r\n";
      ++s.inflight;
    }
    s.conn->mark_dirty();
  }

  void on_ready() {
    if (++ready < ready_target) return;
    run->begin();
    for (auto& s : senders) pump(*s);
  }

  // A subscriber connection: subscribe confirmations, then messages.
  RawConn* subscriber(const std::string& channel) {
    auto c = std::make_unique<RawConn>(
        loop, addr,
        [channel](RawConn& c) {
          char buf[128];
          int n = std::snprintf(buf, sizeof buf, "*2\r\n$9\r\nSUBSCRIBE\r\n$%zu\r\n%s\r\n",
                                channel.size(), channel.c_str());
          c.write(std::string_view(buf, static_cast<size_t>(n)));
        },
        [this](RawConn&, const char* p, size_t n) {
          size_t off = 0;
          Reply r;
          while (size_t used = parse_reply(p + off, n - off, r)) {
            off += used;
            if (r.type == '*' && r.count == 3 && r.parts[0] == "message") run->delivered(r.parts[2]);
            else if (r.type == '*' && r.count == 3 && r.parts[0] == "subscribe") on_ready();
            else if (r.type == '-') run->error();
          }
          return off;
        });
    conns.push_back(std::move(c));
    ++ready_target;
    return conns.back().get();
  }

  // A publisher connection sending to `channel`.
  void publisher(const std::string& channel) {
    auto s = std::make_unique<Sender>();
    char buf[128];
    int n = std::snprintf(buf, sizeof buf, "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n%s\r\n$%d\r\n",
                          channel.size(), channel.c_str(), o.size);
    s->prefix.assign(buf, static_cast<size_t>(n));
    Sender* sp = s.get();
    auto c = std::make_unique<RawConn>(
        loop, addr, [this](RawConn&) { on_ready(); },
        [this, sp](RawConn&, const char* p, size_t n) {
          size_t off = 0;
          Reply r;
          while (size_t used = parse_reply(p + off, n - off, r)) {
            off += used;
            --sp->inflight;
            if (r.type == ':') run->sent();
            else run->error();
          }
          pump(*sp);
          return off;
        });
    s->conn = c.get();
    conns.push_back(std::move(c));
    senders.push_back(std::move(s));
    ++ready_target;
  }
};

}  // namespace

int main(int argc, char** argv) {
  Driver d;
  d.o = parse_options(argc, argv, kUsage);
  if (uv_ip4_addr(d.o.host.c_str(), d.o.port, &d.addr) != 0) {
    std::fprintf(stderr, "bad address %s\n", d.o.host.c_str());
    return 2;
  }
  d.run = std::make_unique<Run>(d.loop, d.o, "redis");
  if (d.o.scenario == "fanout") {
    for (int i = 0; i < d.o.members; ++i) d.subscriber("bench");
    d.publisher("bench");
  } else {
    for (int k = 0; k < d.o.rooms; ++k) {
      for (int side = 0; side < 2; ++side) {
        d.subscriber("r" + std::to_string(k) + ":" + std::to_string(side));
        d.publisher("r" + std::to_string(k) + ":" + std::to_string(1 - side));
      }
    }
  }
  uv_run(d.loop, UV_RUN_DEFAULT);
  return 1;
}
