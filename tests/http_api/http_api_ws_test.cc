// A message posted over the JSON/HTTP API reaches a live WebSocket client
// (npm `ws`) of another member, like any other message.
#include <gtest/gtest.h>

#include "../rooms/rooms_test_client.h"
#include "http_client.h"
#include "parley/auth_generated.h"
#include "ws_peer.h"

namespace parley::test::http_api {
namespace {

namespace rooms = parley::test::rooms;
using http::json_value;

TEST(HttpApiWebSocket, MessagePostedOverHttpArrivesAtWebSocketClient) {
  ServerOptions o = rooms::server_options();
  o.plugins_yaml += "websocket:\n  config:\n    port: 0\nhttp_api: {}\n";
  o.wait_listeners = {"main", "websocket"};
  std::string error;
  auto server = ServerProcess::start(o, &error);
  ASSERT_TRUE(server) << error;
  int port = server->port("websocket");

  // Two users registered over HTTP; a room of both.
  auto reg = [port](const std::string& phone) {
    auto r = http::request(port, "POST", "/api/v1/auth/register",
                           "{\"phone\":\"" + phone +
                               "\",\"password\":\"correct horse battery\",\"display_name\":\"u\"}",
                           {"Content-Type: application/json"});
    EXPECT_EQ(r.status, 200) << r.body;
    return std::make_pair(json_value(r.body, "user_id"), json_value(r.body, "token"));
  };
  std::string suffix = std::to_string(getpid() % 100000);
  auto [a_id, a_token] = reg("+3100" + suffix);
  auto [b_id, b_token] = reg("+3200" + suffix);
  auto created = http::request(port, "POST", "/api/v1/rooms",
                               "{\"name\":\"web\",\"member_user_ids\":[\"" + b_id + "\"]}",
                               {"Content-Type: application/json", "Authorization: Bearer " + a_token});
  ASSERT_EQ(created.status, 200) << created.body;
  std::string room = json_value(created.body, "room_id");

  // b is online in a browser.
  auto w = ws::WsPeer::spawn(&error);
  ASSERT_TRUE(w) << error;
  ASSERT_EQ(w->connect("ws://127.0.0.1:" + std::to_string(port) + "/ws").ev, "open");
  ASSERT_TRUE(w->hello().ok());
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(parley::auth::CreateResumeDirect(fbb, b_token.c_str()), "PAUT");
  ASSERT_TRUE(w->call("auth.resume", bytes_of(fbb)).ok());

  auto sent = http::request(port, "POST", "/api/v1/rooms/" + room + "/messages",
                            "{\"client_msg_id\":\"w-1\",\"text\":\"to the browser\"}",
                            {"Content-Type: application/json", "Authorization: Bearer " + a_token});
  ASSERT_EQ(sent.status, 200) << sent.body;
  auto ev = w->next_event("rooms.message");
  ASSERT_TRUE(ev) << "no rooms.message at the WebSocket client";
  const auto* msg = rooms::as_message(*ev);
  ASSERT_NE(msg, nullptr);
  EXPECT_EQ(msg->text()->str(), "to the browser");
  EXPECT_EQ(msg->sender_user_id()->str(), a_id);
  w->close();

  // This server loads neither echo nor receipts: the OpenAPI document lists
  // only what runs, although their methods files are installed.
  auto doc = http::request(port, "GET", "/api/v1/openapi.json");
  ASSERT_EQ(doc.status, 200) << doc.body;
  EXPECT_NE(doc.body.find("/api/v1/call/rooms.send"), std::string::npos);
  EXPECT_EQ(doc.body.find("echo.say"), std::string::npos);
  EXPECT_EQ(doc.body.find("receipts.unread"), std::string::npos);
  EXPECT_EQ(doc.body.find("\"/api/v1/unread\""), std::string::npos);
  EXPECT_EQ(server->stop(), 0);
}

}  // namespace
}  // namespace parley::test::http_api
