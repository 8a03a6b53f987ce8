// The fanout and rooms shapes against Eclipse Mosquitto 2.0 (issue 10
// peers), on one libuv loop speaking MQTT 3.1.1 with an in-place parser
// (peer_driver.h says why not libmosquitto). Plaintext, default broker
// config, QoS 1 publishes (the PUBACK frees a window slot, like Parley's send
// Response), QoS 0 subscriptions. Same JSON as parley-loadgen.
//
//   fanout: --members subscribers on topic "bench", one publisher keeping
//           --window (128) publishes in flight.
//   rooms:  --rooms pairs, one connection per user, subscribed to its inbox
//           topic "r/<k>/<side>" and publishing to its partner's with
//           --window (8) in flight. A topic per direction, so every message
//           is delivered once, as in a Parley direct room (MQTT 3.1.1 has no
//           "no local": a shared topic would echo each message to its
//           sender).
//
//   parley-peer-mosquitto --server 127.0.0.1:1883 [--scenario fanout|rooms]
//       [--members 100] [--rooms 50] [--size 64] [--duration 5] [--window N]
//       [--server-pid PID] [--json]
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "peer_driver.h"

namespace {

using namespace parley::peers;

const char* kUsage =
    "parley-peer-mosquitto --server HOST:PORT [--scenario fanout|rooms] [--members N] "
    "[--rooms N] [--size B] [--duration S] [--window N] [--server-pid PID] [--json]";

void put_u16(std::string& out, size_t v) {
  out += static_cast<char>((v >> 8) & 0xff);
  out += static_cast<char>(v & 0xff);
}

void put_str(std::string& out, std::string_view s) {
  put_u16(out, s.size());
  out += s;
}

void put_remaining_length(std::string& out, size_t v) {
  do {
    auto b = static_cast<unsigned char>(v & 0x7f);
    v >>= 7;
    if (v) b |= 0x80;
    out += static_cast<char>(b);
  } while (v);
}

// CONNECT (clean session, keepalive off: no PINGs during the run), then
// optionally SUBSCRIBE (QoS 0), pipelined.
std::string hello(const std::string& client_id, const std::string& topic) {
  std::string var;
  put_str(var, "MQTT");
  var += '\x04';           // protocol level 3.1.1
  var += '\x02';           // clean session
  put_u16(var, 0);         // keepalive
  put_str(var, client_id);
  std::string out;
  out += '\x10';
  put_remaining_length(out, var.size());
  out += var;
  if (!topic.empty()) {
    std::string sub;
    put_u16(sub, 1);  // packet id
    put_str(sub, topic);
    sub += '\x00';  // QoS 0
    out += '\x82';
    put_remaining_length(out, sub.size());
    out += sub;
  }
  return out;
}

struct Client {
  RawConn* conn = nullptr;
  std::string pub_topic;  // empty: does not send
  bool subscribes = false;
  int inflight = 0;
  uint16_t next_id = 1;
};

struct Driver {
  Options o;
  uv_loop_t* loop = uv_default_loop();
  sockaddr_in addr{};
  std::unique_ptr<Run> run;
  std::vector<std::unique_ptr<RawConn>> conns;
  std::vector<std::unique_ptr<Client>> clients;
  int ready = 0;
  std::string payload;

  void pump(Client& c) {
    if (!run->measuring() || c.pub_topic.empty()) return;
    std::string& tx = c.conn->tx();
    while (c.inflight < o.window) {
      stamped_payload(payload, o.size);
      tx += '\x32';  // PUBLISH, QoS 1
      put_remaining_length(tx, 2 + c.pub_topic.size() + 2 + payload.size());
      put_str(tx, c.pub_topic);
      if (++c.next_id == 0) c.next_id = 1;
      put_u16(tx, c.next_id);
      tx += payload;
      ++c.inflight;
    }
    c.conn->mark_dirty();
  }

  void on_ready() {
    if (++ready < static_cast<int>(clients.size())) return;
    run->begin();
    for (auto& c : clients) pump(*c);
  }

  // Every packet in p[0..n); returns the bytes of the whole ones.
  size_t on_data(Client& c, const char* p, size_t n) {
    size_t off = 0;
    bool acked = false;
    for (;;) {
      if (n - off < 2) break;
      auto type = static_cast<unsigned char>(p[off]);
      size_t len = 0, i = off + 1;
      int shift = 0;
      bool complete = false;
      while (i < n && shift <= 21) {
        auto b = static_cast<unsigned char>(p[i++]);
        len |= static_cast<size_t>(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) {
          complete = true;
          break;
        }
      }
      if (!complete || n - i < len) break;
      const char* body = p + i;
      off = i + len;
      switch (type >> 4) {
        case 3: {  // PUBLISH (QoS 0 to subscribers)
          if (len < 2) break;
          size_t tl = (static_cast<unsigned char>(body[0]) << 8) | static_cast<unsigned char>(body[1]);
          size_t skip = 2 + tl + (((type >> 1) & 3) ? 2 : 0);
          if (skip <= len) run->delivered(std::string_view(body + skip, len - skip));
          break;
        }
        case 4:  // PUBACK
          --c.inflight;
          run->sent();
          acked = true;
          break;
        case 2:  // CONNACK
          if (len < 2 || body[1] != 0) {
            std::fprintf(stderr, "mosquitto refused the connection (code %d)\n", body[1]);
            std::exit(1);
          }
          if (!c.subscribes) on_ready();
          break;
        case 9:  // SUBACK
          if (len >= 3 && static_cast<unsigned char>(body[2]) == 0x80) {
            std::fprintf(stderr, "mosquitto refused the subscription\n");
            std::exit(1);
          }
          on_ready();
          break;
        default:
          break;
      }
    }
    if (acked) pump(c);
    return off;
  }

  void add(const std::string& sub_topic, const std::string& pub_topic) {
    auto c = std::make_unique<Client>();
    Client* cp = c.get();
    cp->pub_topic = pub_topic;
    cp->subscribes = !sub_topic.empty();
    std::string greeting = hello("parley-bench-" + std::to_string(clients.size()), sub_topic);
    auto conn = std::make_unique<RawConn>(
        loop, addr, [greeting](RawConn& rc) { rc.write(greeting); },
        [this, cp](RawConn&, const char* p, size_t n) { return on_data(*cp, p, n); });
    cp->conn = conn.get();
    conns.push_back(std::move(conn));
    clients.push_back(std::move(c));
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
  d.run = std::make_unique<Run>(d.loop, d.o, "mosquitto");
  if (d.o.scenario == "fanout") {
    for (int i = 0; i < d.o.members; ++i) d.add("bench", "");
    d.add("", "bench");
  } else {
    for (int k = 0; k < d.o.rooms; ++k) {
      std::string base = "r/" + std::to_string(k) + "/";
      d.add(base + "0", base + "1");
      d.add(base + "1", base + "0");
    }
  }
  uv_run(d.loop, UV_RUN_DEFAULT);
  return 1;
}
