// Unit tests of the bridge's HTTP side: strict request-head parsing with
// bounds, the RFC 6455 handshake checks, static path resolution.
#include <gtest/gtest.h>

#include "handshake.h"
#include "http_request.h"
#include "static_files.h"

namespace parley::websocket {
namespace {

HttpParse parse(const std::string& s, HttpLimits l = {}) { return parse_http_request(s, l); }

const char* kUpgrade =
    "GET /ws HTTP/1.1\r\nHost: chat.example:8080\r\nUpgrade: websocket\r\n"
    "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, parley.v1\r\n";

TEST(HttpRequest, ParsesAStrictHead) {
  HttpParse p = parse(std::string(kUpgrade) + "\r\nextra");
  ASSERT_EQ(p.result, HttpParse::Result::Complete) << p.reason;
  EXPECT_EQ(p.request.method, "GET");
  EXPECT_EQ(p.request.path, "/ws");
  EXPECT_EQ(p.request.header("host"), "chat.example:8080");
  EXPECT_TRUE(p.request.header_has_token("connection", "upgrade"));
  EXPECT_EQ(p.head_bytes, std::string(kUpgrade).size() + 2);
}

TEST(HttpRequest, IncompleteUntilTheBlankLine) {
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\n").result, HttpParse::Result::Incomplete);
  EXPECT_EQ(parse("GE").result, HttpParse::Result::Incomplete);
}

TEST(HttpRequest, RefusesMalformedHeads) {
  for (const char* bad : {"GARBAGE\r\n\r\n", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
                          "GET / HTTP/2.0\r\nHost: x\r\n\r\n", "GET x HTTP/1.1\r\nHost: x\r\n\r\n",
                          "GET / HTTP/1.1\nHost: x\n\n", "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
                          "GET / HTTP/1.1\r\nBad Name: v\r\nHost: x\r\n\r\n",
                          "GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                          "GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n"}) {
    HttpParse p = parse(bad);
    EXPECT_EQ(p.result, HttpParse::Result::Error) << bad;
    EXPECT_EQ(p.status, 400) << bad;
  }
}

TEST(HttpRequest, EnforcesBounds) {
  HttpLimits l;
  l.max_request_line = 64;
  l.max_header_bytes = 256;
  l.max_headers = 4;
  EXPECT_EQ(parse("GET /" + std::string(100, 'a'), l).status, 400);  // before the CRLF arrives
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nA: " + std::string(300, 'a'), l).status, 431);
  std::string many = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 5; ++i) many += "A" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(parse(many, l).status, 431);
  EXPECT_EQ(parse(many + "\r\n", l).status, 431);
}

TEST(Handshake, AcceptKeyMatchesRfc6455Example) {
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Handshake, ChecksVersionKeySubprotocolAndOrigin) {
  OriginPolicy none;
  auto check = [&](const std::string& extra, const OriginPolicy& o) {
    HttpParse p = parse(std::string(kUpgrade) + extra + "\r\n");
    EXPECT_EQ(p.result, HttpParse::Result::Complete) << p.reason;
    return check_upgrade(p.request, o).status;
  };
  EXPECT_EQ(check("", none), 101);
  EXPECT_EQ(check("Origin: https://evil.example\r\n", none), 403);
  EXPECT_EQ(check("Origin: http://chat.example:8080\r\n", none), 101);  // same origin
  OriginPolicy listed;
  listed.allowed = {"https://app.example"};
  EXPECT_EQ(check("Origin: https://app.example\r\n", listed), 101);
  OriginPolicy any;
  any.any = true;
  EXPECT_EQ(check("Origin: https://evil.example\r\n", any), 101);

  HttpParse p = parse(
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Protocol: parley.v1\r\n\r\n");
  EXPECT_EQ(check_upgrade(p.request, none).status, 400);
  p = parse("GET /ws HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(check_upgrade(p.request, none).status, 426);
  p = parse(
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  EXPECT_EQ(check_upgrade(p.request, none).status, 400);  // no parley.v1
}

TEST(StaticFiles, MapsPathsInsideTheRootOnly) {
  EXPECT_EQ(static_path("/srv", "/"), "/srv/index.html");
  EXPECT_EQ(static_path("/srv", "/app.js"), "/srv/app.js");
  EXPECT_EQ(static_path("/srv", "/a/"), "/srv/a/index.html");
  EXPECT_EQ(static_path("/srv", "/a%20b.css"), "/srv/a b.css");
  for (const char* bad : {"/../etc/passwd", "/%2e%2e/x", "/a/../../x", "/.env", "/a//b",
                          "/a%00b", "/a%5c..%5cb", "/%zz", "/x%2"})
    EXPECT_FALSE(static_path("/srv", bad)) << bad;
  EXPECT_EQ(content_type_for("/srv/app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("/srv/index.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("/srv/x.bin"), "application/octet-stream");
}

}  // namespace
}  // namespace parley::websocket
