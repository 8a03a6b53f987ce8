// The WebSocket bridge through a real parleyd (persistence + auth + rooms +
// websocket) with a real RFC 6455 client (npm `ws`, see ws_peer.js) next to
// native TLS clients.
#include <gtest/gtest.h>

#include <string>

#include "../rooms/rooms_test_client.h"
#include "parley/auth_generated.h"
#include "ws_peer.h"

namespace parley::test::ws {
namespace {

namespace afb = parley::auth;
namespace rooms = parley::test::rooms;

struct Bridge {
  TempDir static_dir{"parley-ws-static"};
  std::unique_ptr<ServerProcess> server;
  // Every test ends with a clean stop: exit code 0 means no libuv handle was
  // left open (and, in sanitizer builds, no leak or error report).
  ~Bridge() {
    if (server && server->alive()) {
      int code = server->stop();
      EXPECT_EQ(code, 0) << "parleyd did not stop cleanly";
    }
  }
  int ws_port = -1;
  std::string url(const char* scheme = "ws") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(ws_port) + "/ws";
  }
};

// A server with the bridge on port 0 (inbound messages up to 64 KiB, one
// allowed foreign origin, a static dir with an index.html).
std::unique_ptr<Bridge> start_bridge(std::vector<std::string> sets = {},
                                     const std::string& extra_ws_config = "") {
  auto b = std::make_unique<Bridge>();
  write_file(b->static_dir.path() + "/index.html", "<!doctype html><title>parley</title>\n");
  ServerOptions o = rooms::server_options("max_text_bytes: 262144");
  o.plugins_yaml += "websocket:\n  config:\n    port: 0\n    max_frame_bytes: 65536\n"
                    "    allowed_origins: ['https://good.example']\n"
                    "    static_dir: '" + b->static_dir.path() + "'\n" + extra_ws_config;
  if (extra_ws_config.find("ping_interval_ms") == std::string::npos)
    o.plugins_yaml += "    ping_interval_ms: 300\n";
  o.wait_listeners = {"main", "websocket"};
  o.sets = std::move(sets);
  std::string error;
  b->server = ServerProcess::start(o, &error);
  EXPECT_TRUE(b->server) << error;
  if (!b->server) return nullptr;
  b->ws_port = b->server->port("websocket");
  EXPECT_GT(b->ws_port, 0);
  return b;
}

std::unique_ptr<WsPeer> peer() {
  std::string error;
  auto p = WsPeer::spawn(&error);
  EXPECT_TRUE(p) << error;
  return p;
}

rooms::User register_web_user(WsPeer& w, const std::string& name) {
  static int counter = 0;
  char phone[32];
  std::snprintf(phone, sizeof phone, "+1%05d9%04d", static_cast<int>(getpid() % 100000), counter++);
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(afb::CreateRegisterDirect(fbb, phone, "correct horse battery", name.c_str()), "PAUT");
  Incoming r = w.call("auth.register", bytes_of(fbb));
  EXPECT_TRUE(r.ok()) << "auth.register over WebSocket: " << r.status << " " << r.error;
  rooms::User u;
  u.phone = phone;
  if (auto* s = payload_as<afb::Session>(r, "PAUT")) {
    if (s->user() && s->user()->user_id()) u.id = s->user()->user_id()->str();
    if (s->token()) u.token = s->token()->str();
  }
  EXPECT_FALSE(u.id.empty());
  return u;
}

std::string get(int port, const std::string& target, const std::string& extra = "") {
  return raw_http(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n");
}

TEST(WebSocketBridge, UpgradeSubprotocolOriginsAndHttpRoutes) {
  auto b = start_bridge();
  ASSERT_TRUE(b);
  {
    auto w = peer();
    ASSERT_TRUE(w);
    PeerEvent e = w->connect(b->url());
    ASSERT_EQ(e.ev, "open") << e.line;
    EXPECT_EQ(e.protocol, "parley.v1");
    w->hello();
    EXPECT_TRUE(w->call("sys.ping").ok());
  }
  // Without the subprotocol: refused (PROTOCOL §8 makes parley.v1 the contract).
  EXPECT_EQ(peer()->connect(b->url(), "", {}).code, 400);
  EXPECT_EQ(peer()->connect(b->url(), "", {"chat"}).code, 400);
  // Origins: foreign → 403; listed, same-origin and absent (non-browser) → open.
  PeerEvent bad = peer()->connect(b->url(), "https://evil.example");
  EXPECT_EQ(bad.ev, "unexpected") << bad.line;
  EXPECT_EQ(bad.code, 403);
  EXPECT_EQ(peer()->connect(b->url(), "https://good.example").ev, "open");
  EXPECT_EQ(peer()->connect(b->url(), "http://127.0.0.1:" + std::to_string(b->ws_port)).ev, "open");
  // Plain HTTP on the same listener.
  std::string health = get(b->ws_port, "/healthz");
  EXPECT_EQ(http_status(health), 200) << health;
  EXPECT_EQ(http_body(health), "ok\n");
  std::string metrics = get(b->ws_port, "/metrics");
  EXPECT_EQ(http_status(metrics), 200);
  EXPECT_NE(metrics.find("parley_connections_open"), std::string::npos) << metrics.substr(0, 2000);
  EXPECT_NE(metrics.find("parley_websocket_upgrades_total"), std::string::npos);
  std::string index = get(b->ws_port, "/");
  EXPECT_EQ(http_status(index), 200) << index;
  EXPECT_NE(index.find("Content-Type: text/html"), std::string::npos);
  EXPECT_NE(index.find("<title>parley</title>"), std::string::npos);
  EXPECT_EQ(http_status(get(b->ws_port, "/index.html")), 200);
  EXPECT_EQ(http_status(get(b->ws_port, "/../parley.yaml")), 404);
  EXPECT_EQ(http_status(get(b->ws_port, "/%2e%2e/parley.yaml")), 404);
  EXPECT_EQ(http_status(get(b->ws_port, "/missing.js")), 404);
  EXPECT_EQ(http_status(get(b->ws_port, "/ws")), 426);  // not an upgrade
  EXPECT_EQ(http_status(raw_http(b->ws_port, "POST /healthz HTTP/1.1\r\nHost: x\r\n\r\n")), 405);
}

TEST(WebSocketBridge, EventsCrossBetweenWebAndNativeSessions) {
  auto b = start_bridge();
  ASSERT_TRUE(b);
  rooms::Device alice = rooms::new_user(*b->server, "alice");  // native TLS
  ASSERT_TRUE(alice.client);
  auto web = peer();
  ASSERT_EQ(web->connect(b->url()).ev, "open");
  web->hello();
  rooms::User bob = register_web_user(*web, "bob");
  ASSERT_FALSE(bob.id.empty());

  Incoming room = alice.client->call("rooms.open_direct", rooms::open_direct(bob.id));
  ASSERT_TRUE(room.ok()) << room.error;
  ASSERT_TRUE(rooms::as_room(room));
  std::string room_id = rooms::as_room(room)->room_id()->str();

  // native → web
  ASSERT_TRUE(alice.client->call("rooms.send", rooms::send(room_id, "m1", "hello web")).ok());
  auto got = web->next_event("rooms.message");
  ASSERT_TRUE(got);
  ASSERT_TRUE(rooms::as_message(*got));
  EXPECT_EQ(rooms::as_message(*got)->text()->str(), "hello web");

  // web → native
  Incoming sent = web->call("rooms.send", rooms::send(room_id, "m2", "hello native"));
  ASSERT_TRUE(sent.ok()) << sent.error;
  auto at_alice = alice.client->next_event("rooms.message");
  ASSERT_TRUE(at_alice);
  ASSERT_TRUE(rooms::as_message(*at_alice));
  EXPECT_EQ(rooms::as_message(*at_alice)->text()->str(), "hello native");
  EXPECT_EQ(rooms::as_message(*at_alice)->sender_user_id()->str(), bob.id);

  // A second browser tab resumes bob's session; both tabs see the next message.
  auto tab2 = peer();
  ASSERT_EQ(tab2->connect(b->url()).ev, "open");
  tab2->hello();
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(afb::CreateResumeDirect(fbb, bob.token.c_str()), "PAUT");
  Incoming resumed = tab2->call("auth.resume", bytes_of(fbb));
  ASSERT_TRUE(resumed.ok()) << resumed.error;
  ASSERT_TRUE(alice.client->call("rooms.send", rooms::send(room_id, "m3", "both tabs")).ok());
  for (WsPeer* w : {web.get(), tab2.get()}) {
    auto m = w->next_event("rooms.message");
    ASSERT_TRUE(m);
    EXPECT_EQ(rooms::as_message(*m)->text()->str(), "both tabs");
  }
  // A clean shutdown with web sessions open: close 1001, exit code 0, no
  // libuv handle left open.
  EXPECT_EQ(b->server->stop(), 0) << b->server->log();
  auto c = web->wait_close(5000);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->code, 1001) << c->line;
}

TEST(WebSocketBridge, BadClientsAreClosedAndNativeClientsUnaffected) {
  auto b = start_bridge();
  ASSERT_TRUE(b);
  std::string error;
  auto native = Client::connect("127.0.0.1", b->server->port(), {}, &error);
  ASSERT_TRUE(native) << error;
  native->hello();

  {  // text message → 1003
    auto w = peer();
    ASSERT_EQ(w->connect(b->url()).ev, "open");
    w->send_text("hello?");
    auto c = w->wait_close(5000);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->code, 1003) << c->line;
  }
  {  // above max_frame_bytes (64 KiB) → 1009
    auto w = peer();
    ASSERT_EQ(w->connect(b->url()).ev, "open");
    w->send_zeros(70000);
    auto c = w->wait_close(5000);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->code, 1009) << c->line;
  }
  {  // exactly max_frame_bytes is allowed through (then fails as an Envelope)
    auto w = peer();
    ASSERT_EQ(w->connect(b->url()).ev, "open");
    w->send_zeros(65536);
    auto c = w->wait_close(5000);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->code, 1002) << c->line;
  }
  {  // not an Envelope → sys.closing Malformed, then 1002
    auto w = peer();
    ASSERT_EQ(w->connect(b->url()).ev, "open");
    w->hello();
    std::vector<uint8_t> garbage(32, 0xAB);
    w->send(garbage);
    std::vector<Incoming> seen;
    auto c = w->wait_close(5000, &seen);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->code, 1002) << c->line;
    bool closing = false;
    for (const auto& in : seen)
      if (in.method == "sys.closing" && in.status == static_cast<uint16_t>(parley::Status::Malformed)) closing = true;
    EXPECT_TRUE(closing) << "no sys.closing Malformed before the close";
  }
  // Malformed HTTP: a 4xx and a close.
  EXPECT_EQ(http_status(raw_http(b->ws_port, "GARBAGE\r\n\r\n")), 400);
  EXPECT_EQ(http_status(raw_http(b->ws_port, "GET /ws HTTP/1.1\nHost: x\n\n")), 400);
  EXPECT_EQ(http_status(raw_http(b->ws_port, "GET /" + std::string(5000, 'a') + " HTTP/1.1\r\n\r\n")),
            400);
  EXPECT_EQ(http_status(get(b->ws_port, "/ws", "X-Big: " + std::string(20000, 'b') + "\r\n")), 431);
  std::string many;
  for (int i = 0; i < 100; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(http_status(get(b->ws_port, "/ws", many)), 431);
  EXPECT_EQ(http_status(raw_http(b->ws_port, "GET /healthz HTTP/1.1\r\n\r\n")), 400);  // no Host

  // The native client never noticed.
  EXPECT_TRUE(native->call("sys.ping").ok());
  EXPECT_TRUE(b->server->alive());
}

TEST(WebSocketBridge, BrowserThatStopsReadingIsDisconnected) {
  // 1 MiB: well above one 250 kB message (the native sender's own queue
  // never comes near it), well below what a stalled reader accumulates.
  auto b = start_bridge({"limits.max_pending_bytes=1048576"});
  ASSERT_TRUE(b);
  rooms::Device alice = rooms::new_user(*b->server, "alice");
  ASSERT_TRUE(alice.client);
  auto web = peer();
  ASSERT_EQ(web->connect(b->url()).ev, "open");
  web->hello();
  rooms::User bob = register_web_user(*web, "bob");
  Incoming room = alice.client->call("rooms.open_direct", rooms::open_direct(bob.id));
  ASSERT_TRUE(room.ok() && rooms::as_room(room));
  std::string room_id = rooms::as_room(room)->room_id()->str();

  web->pause();
  std::string big(250000, 'x');
  bool dropped = false;
  // Enough to fill the socket buffers on both sides, then the bridge's queue.
  for (int i = 0; i < 200 && !dropped; ++i) {
    Incoming r = alice.client->call("rooms.send",
                                    rooms::send(room_id, "big" + std::to_string(i), big), 10000);
    ASSERT_TRUE(r.ok()) << r.error;
    dropped = b->server->count_in_log("websocket dropping") > 0;
  }
  // The bridge's own line: it was the WebSocket session that was dropped.
  EXPECT_TRUE(dropped || b->server->wait_for_log("websocket dropping", 5000))
      << "never disconnected";
  EXPECT_TRUE(alice.client->call("sys.ping").ok());
}

TEST(WebSocketBridge, SecureWebSocketWithCertAndKey) {
  SelfSignedCert tls;
  ASSERT_TRUE(tls.ok) << tls.output;
  auto b = start_bridge({}, "    cert: '" + tls.cert + "'\n    key: '" + tls.key + "'\n");
  ASSERT_TRUE(b);
  EXPECT_NE(b->server->log().find("name=websocket"), std::string::npos);
  EXPECT_NE(b->server->log().find("tls=on"), std::string::npos);
  auto w = peer();
  PeerEvent e = w->connect(b->url("wss"));
  ASSERT_EQ(e.ev, "open") << e.line;
  EXPECT_EQ(e.protocol, "parley.v1");
  w->hello();
  EXPECT_TRUE(w->call("sys.ping").ok());
  // Plain text on the TLS port is not HTTP: the connection just ends.
  EXPECT_EQ(http_status(get(b->ws_port, "/healthz")), -1);
}

TEST(WebSocketBridge, KeepaliveAndTimeouts) {
  {  // Server pings answered by the client keep an otherwise silent session open.
    auto b = start_bridge({}, "    ping_interval_ms: 200\n    idle_timeout_ms: 700\n");
    ASSERT_TRUE(b);
    auto w = peer();
    ASSERT_EQ(w->connect(b->url()).ev, "open");
    EXPECT_FALSE(w->wait_close(1500)) << "closed although the client answered pings";
  }
  auto b = start_bridge({}, "    ping_interval_ms: 0\n    idle_timeout_ms: 500\n"
                            "    handshake_timeout_ms: 400\n");
  ASSERT_TRUE(b);
  auto w = peer();
  ASSERT_EQ(w->connect(b->url()).ev, "open");
  auto c = w->wait_close(3000);  // no pings: nothing arrives → idle
  ASSERT_TRUE(c);
  EXPECT_EQ(c->code, 1001) << c->line;
  // A TCP client that never completes its request head gets 408.
  std::string r = raw_http(b->ws_port, "GET /healthz HTTP/1.1\r\nHost: x\r\n", 3000);
  EXPECT_EQ(http_status(r), 408) << r;
}

}  // namespace
}  // namespace parley::test::ws
