// The JSON/HTTP API through a real parleyd (persistence + auth + rooms +
// receipts + websocket + http_api + echo) over real HTTP, next to native
// TLS clients. One server for the whole suite (started once) keeps the
// binary's runtime small; every test uses its own users.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "../rooms/rooms_test_client.h"
#include "http_client.h"

namespace parley::test::http_api {
namespace {

namespace rooms = parley::test::rooms;
using http::json_value;
using http::request;

class HttpApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ServerOptions o = rooms::server_options();
    // A low failed-login limit so ResourceExhausted (429) is reachable.
    const std::string auth_line = "argon2_iterations: 1}";
    size_t at = o.plugins_yaml.find(auth_line);
    ASSERT_NE(at, std::string::npos) << o.plugins_yaml;
    o.plugins_yaml.insert(at + auth_line.size() - 1, ", login_fail_per_phone: 3");
    o.plugins_yaml +=
        "receipts: {}\n"
        "echo: {config: {prefix: 'echo: '}}\n"
        "websocket:\n  config:\n    port: 0\n    max_body_bytes: 4096\n"
        "http_api: {}\n";
    o.wait_listeners = {"main", "websocket"};
    std::string error;
    server_ = ServerProcess::start(o, &error).release();
    ASSERT_TRUE(server_) << error;
    port_ = server_->port("websocket");
    ASSERT_GT(port_, 0);
  }
  static void TearDownTestSuite() {
    if (server_) {
      EXPECT_EQ(server_->stop(), 0) << "parleyd did not stop cleanly";
    }
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(server_ && server_->alive()); }

  static http::Response get(const std::string& path, const std::string& token = "") {
    std::vector<std::string> h;
    if (!token.empty()) h.push_back("Authorization: Bearer " + token);
    return request(port_, "GET", path, "", h);
  }
  static http::Response post(const std::string& path, const std::string& body,
                             const std::string& token = "",
                             const std::string& type = "application/json") {
    std::vector<std::string> h{"Content-Type: " + type};
    if (!token.empty()) h.push_back("Authorization: Bearer " + token);
    return request(port_, "POST", path, body, h);
  }

  struct HttpUser {
    std::string id, token, phone;
  };
  static HttpUser register_user(const std::string& name) {
    static int counter = 0;
    char phone[32];
    std::snprintf(phone, sizeof phone, "+2%05d8%04d", static_cast<int>(getpid() % 100000),
                  counter++);
    auto r = post("/api/v1/auth/register", std::string("{\"phone\":\"") + phone +
                                               "\",\"password\":\"correct horse battery\","
                                               "\"display_name\":\"" + name + "\"}");
    EXPECT_EQ(r.status, 200) << r.body << r.error;
    return {json_value(r.body, "user_id"), json_value(r.body, "token"), phone};
  }

  static ServerProcess* server_;
  static int port_;
};
ServerProcess* HttpApiTest::server_ = nullptr;
int HttpApiTest::port_ = -1;

TEST_F(HttpApiTest, RegisterLoginAndMe) {
  HttpUser u = register_user("alice");
  ASSERT_FALSE(u.id.empty());
  ASSERT_FALSE(u.token.empty());
  auto login = post("/api/v1/auth/login",
                    "{\"phone\":\"" + u.phone + "\",\"password\":\"correct horse battery\"}");
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_NE(login.headers.find("application/json"), std::string::npos);
  std::string token2 = json_value(login.body, "token");
  ASSERT_FALSE(token2.empty());
  auto me = get("/api/v1/me", token2);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(json_value(me.body, "user_id"), u.id);
  EXPECT_EQ(json_value(me.body, "display_name"), "alice");
}

TEST_F(HttpApiTest, GenericCallReachesThirdPartyPlugin) {
  // echo has no HTTP code: its echo.methods.json and schema are enough.
  auto r = post("/api/v1/call/echo.say", "{\"text\": \"hi there\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_value(r.body, "text"), "echo: hi there");
  // The same generic route for a first-party method, authenticated.
  HttpUser u = register_user("gen");
  auto who = post("/api/v1/call/auth.whoami", "{}", u.token);
  ASSERT_EQ(who.status, 200) << who.body;
  EXPECT_EQ(json_value(who.body, "user_id"), u.id);
}

TEST_F(HttpApiTest, ErrorMappings) {
  HttpUser u = register_user("errors");
  auto expect = [](const http::Response& r, int status, const std::string& name) {
    EXPECT_EQ(r.status, status) << r.body << r.error;
    EXPECT_EQ(json_value(r.body, "status"), name) << r.body;
    EXPECT_FALSE(json_value(r.body, "error").empty()) << r.body;
  };
  // Unauthenticated: no token, and a wrong token.
  expect(get("/api/v1/me"), 401, "Unauthenticated");
  expect(get("/api/v1/me", "not-a-token"), 401, "Unauthenticated");
  // AlreadyExists: the same phone again.
  expect(post("/api/v1/auth/register",
              "{\"phone\":\"" + u.phone + "\",\"password\":\"correct horse battery\","
              "\"display_name\":\"x\"}"),
         409, "AlreadyExists");
  // Malformed JSON, unknown field, wrong type: 400 before any method runs.
  expect(post("/api/v1/call/echo.say", "{\"text\": "), 400, "InvalidArgument");
  expect(post("/api/v1/call/echo.say", "{\"txet\": \"x\"}"), 400, "InvalidArgument");
  expect(post("/api/v1/call/echo.say", "[1, 2]"), 400, "InvalidArgument");
  // Wrong content type.
  auto r415 = post("/api/v1/call/echo.say", "text=hi", "", "application/x-www-form-urlencoded");
  expect(r415, 415, "InvalidArgument");
  // Oversized body (max_body_bytes: 4096), refused by the listener.
  auto big = post("/api/v1/call/echo.say", "{\"text\": \"" + std::string(5000, 'a') + "\"}");
  EXPECT_EQ(big.status, 413) << big.body;
  // Unknown method and unknown route.
  expect(post("/api/v1/call/nope.nothing", "{}"), 404, "Unimplemented");
  expect(get("/api/v1/nothing/here"), 404, "NotFound");
  // NotFound and PermissionDenied from the rooms plugin.
  expect(get("/api/v1/rooms/" + rooms::unknown_id(), u.token), 404, "NotFound");
  HttpUser other = register_user("outsider");
  auto created = post("/api/v1/rooms", "{\"name\":\"private\"}", u.token);
  ASSERT_EQ(created.status, 200) << created.body;
  expect(get("/api/v1/rooms/" + json_value(created.body, "room_id"), other.token), 403,
         "PermissionDenied");
  // ResourceExhausted: failed logins for one phone past the limit (3).
  int unauthenticated = 0;
  http::Response last;
  for (int i = 0; i < 6; ++i) {
    last = post("/api/v1/auth/login",
                "{\"phone\":\"" + u.phone + "\",\"password\":\"wrong password!\"}");
    if (last.status != 401) break;
    ++unauthenticated;
  }
  EXPECT_GE(unauthenticated, 1);
  expect(last, 429, "ResourceExhausted");
  // InvalidArgument from a method (an empty room name).
  expect(post("/api/v1/rooms", "{\"name\":\"\"}", u.token), 400, "InvalidArgument");
}

TEST_F(HttpApiTest, RoomsAndMessagesOverRest) {
  HttpUser a = register_user("rest-a");
  HttpUser b = register_user("rest-b");
  HttpUser c = register_user("rest-c");
  auto created = post("/api/v1/rooms",
                      "{\"name\":\"ops\",\"member_user_ids\":[\"" + b.id + "\"]}", a.token);
  ASSERT_EQ(created.status, 200) << created.body;
  std::string room = json_value(created.body, "room_id");
  ASSERT_FALSE(room.empty());
  EXPECT_EQ(json_value(created.body, "kind"), "Group");

  auto list = get("/api/v1/rooms", b.token);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find(room), std::string::npos);
  auto one = get("/api/v1/rooms/" + room, b.token);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(json_value(one.body, "name"), "ops");

  // Members: add c, then remove c.
  auto added = post("/api/v1/rooms/" + room + "/members", "{\"user_ids\":[\"" + c.id + "\"]}",
                    a.token);
  ASSERT_EQ(added.status, 200) << added.body;
  EXPECT_NE(added.body.find(c.id), std::string::npos);
  auto removed = request(port_, "DELETE", "/api/v1/rooms/" + room + "/members/" + c.id, "",
                         {"Authorization: Bearer " + a.token});
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(removed.body.find(c.id), std::string::npos);

  // b listens natively; a posts over HTTP.
  auto native = rooms::connect(*server_);
  ASSERT_TRUE(native);
  ASSERT_TRUE(rooms::resume(*native, {b.id, b.token, b.phone}));
  auto sent = post("/api/v1/rooms/" + room + "/messages",
                   "{\"client_msg_id\":\"m-1\",\"text\":\"hello from curl\"}", a.token);
  ASSERT_EQ(sent.status, 200) << sent.body;
  EXPECT_EQ(json_value(sent.body, "seq"), "1");
  auto ev = native->next_event("rooms.message");
  ASSERT_TRUE(ev) << "no live rooms.message at the native client";
  const auto* msg = rooms::as_message(*ev);
  ASSERT_NE(msg, nullptr);
  EXPECT_EQ(msg->text()->str(), "hello from curl");
  EXPECT_EQ(msg->sender_user_id()->str(), a.id);

  ASSERT_EQ(post("/api/v1/rooms/" + room + "/messages",
                 "{\"client_msg_id\":\"m-2\",\"text\":\"second\"}", a.token)
                .status,
            200);
  auto hist = get("/api/v1/rooms/" + room + "/messages?before_seq=0&after_seq=1&limit=10", b.token);
  ASSERT_EQ(hist.status, 200) << hist.body;
  EXPECT_NE(hist.body.find("second"), std::string::npos);
  EXPECT_EQ(hist.body.find("hello from curl"), std::string::npos);
  auto bad_query = get("/api/v1/rooms/" + room + "/messages?colour=blue", b.token);
  EXPECT_EQ(bad_query.status, 400) << bad_query.body;

  auto unread = get("/api/v1/unread", b.token);
  ASSERT_EQ(unread.status, 200) << unread.body;
  EXPECT_EQ(json_value(unread.body, "unread", unread.body.find(room)), "2") << unread.body;
  auto read = post("/api/v1/rooms/" + room + "/read", "{\"seq\": 2}", b.token);
  ASSERT_EQ(read.status, 200) << read.body;
  unread = get("/api/v1/unread", b.token);
  EXPECT_EQ(json_value(unread.body, "unread", unread.body.find(room)), "0") << unread.body;
}

TEST_F(HttpApiTest, RequestBodiesOnTheListener) {
  const std::string head =
      "POST /api/v1/call/echo.say HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  // A body arriving in pieces after the head is read up to Content-Length.
  std::string body = "{\"text\": \"" + std::string(3000, 'b') + "\"}";
  std::string r = http::raw(port_, {head + "Content-Length: " + std::to_string(body.size()) +
                                        "\r\n\r\n" + body.substr(0, 10),
                                    body.substr(10, 1500), body.substr(1510)},
                            50);
  ASSERT_EQ(r.compare(0, 12, "HTTP/1.1 200"), 0) << r.substr(0, 200);
  EXPECT_NE(r.find("echo: bbbb"), std::string::npos);
  // Chunked bodies are refused; so is a malformed Content-Length.
  r = http::raw(port_, {head + "Transfer-Encoding: chunked\r\n\r\n5\r\n{}{}{\r\n0\r\n\r\n"});
  EXPECT_EQ(r.compare(0, 12, "HTTP/1.1 411"), 0) << r;
  r = http::raw(port_, {head + "Content-Length: -1\r\n\r\n"});
  EXPECT_EQ(r.compare(0, 12, "HTTP/1.1 400"), 0) << r;
  r = http::raw(port_, {head + "Content-Length: 2\r\nContent-Length: 4\r\n\r\n{}{}"});
  EXPECT_EQ(r.compare(0, 12, "HTTP/1.1 400"), 0) << r;
  // Too long: refused from the head alone, before any body byte is read.
  r = http::raw(port_, {head + "Content-Length: 100000\r\n\r\n"});
  EXPECT_EQ(r.compare(0, 12, "HTTP/1.1 413"), 0) << r;
  // The bridge's own routes are unaffected.
  r = http::raw(port_, {"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"});
  EXPECT_EQ(r.compare(0, 12, "HTTP/1.1 200"), 0) << r;
}

TEST_F(HttpApiTest, OpenApiListsEveryLoadedMethod) {
  auto r = get("/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"openapi\":\"3.1.0\""), std::string::npos);
  for (const char* m : {"echo.say", "auth.register", "auth.whoami", "rooms.create", "rooms.send",
                        "rooms.history", "receipts.unread", "receipts.mark_read"})
    EXPECT_NE(r.body.find(std::string("/api/v1/call/") + m), std::string::npos) << m;
  EXPECT_NE(r.body.find("\"/api/v1/rooms/{room_id}/messages\""), std::string::npos);
  EXPECT_NE(r.body.find("\"parley.rooms.Message\""), std::string::npos);
  // Valid JSON: python's parser is on every CI image; skip the check if not.
  std::string path = server_->data_dir() + "/openapi.json";
  ASSERT_TRUE(write_file(path, r.body));
  int rc = std::system(("python3 -c 'import json,sys; json.load(open(sys.argv[1]))' " + path +
                        " 2>/dev/null")
                           .c_str());
  EXPECT_EQ(rc, 0) << "openapi.json is not valid JSON";
}

}  // namespace
}  // namespace parley::test::http_api
