// Sessions over real TLS: sys.hello / Welcome, sys.ping, pipelining, unknown
// methods, requests before hello.
#include <chrono>
#include <iostream>
#include <thread>
#include <set>

#include "parleyd_test_util.h"

namespace parley::kernel_test {
namespace {

class Session : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = start_server();
    ASSERT_TRUE(server_);
    client_ = connect(*server_);
    ASSERT_TRUE(client_);
  }
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(Session, HelloGetsWelcome) {
  Incoming r = client_->call("sys.hello", parley::test::hello_payload(1, "session-test"));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.kind, parley::Kind::Response);
  EXPECT_EQ(r.method, "sys.hello");
  auto* welcome = parley::test::payload_as<parley::sys::Welcome>(r, "PSYS");
  ASSERT_NE(welcome, nullptr);
  EXPECT_EQ(welcome->protocol(), 1);
  ASSERT_NE(welcome->server(), nullptr);
  EXPECT_EQ(welcome->server()->str().rfind("parleyd/", 0), 0u);
  EXPECT_EQ(welcome->max_frame_bytes(), 1u << 20);
  std::set<std::string> methods;
  if (welcome->methods())
    for (auto* m : *welcome->methods()) methods.insert(m->str());
  EXPECT_TRUE(methods.count("sys.hello"));
  EXPECT_TRUE(methods.count("sys.ping"));
  EXPECT_TRUE(server_->wait_for_log("hello client=\"session-test\"", 2000));
}

TEST_F(Session, PingAnswersEmptyOk) {
  client_->hello();
  Incoming r = client_->call("sys.ping");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.method, "sys.ping");
  EXPECT_TRUE(r.payload().empty());
}

TEST_F(Session, TwoHundredPipelinedRequestsAreMatchedById) {
  client_->hello();
  std::vector<uint64_t> ids;
  for (int i = 0; i < 200; ++i) ids.push_back(client_->send("sys.ping"));
  std::set<uint64_t> seen;
  for (uint64_t id : ids) {
    auto r = client_->read_response(id, 5000);
    ASSERT_TRUE(r.has_value()) << "no response to " << id;
    EXPECT_TRUE(r->ok());
    seen.insert(r->id);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST_F(Session, UnknownMethodIsUnimplemented) {
  client_->hello();
  Incoming r = client_->call("nosuch.method");
  EXPECT_EQ(r.status, status_of(parley::Status::Unimplemented)) << r.error;
  EXPECT_EQ(r.method, "nosuch.method");
  Incoming s = client_->call("sys.nosuch");
  EXPECT_EQ(s.status, status_of(parley::Status::Unimplemented));
  expect_still_serves(*client_);
}

TEST_F(Session, RequestBeforeHelloIsFailedPrecondition) {
  Incoming r = client_->call("sys.ping");
  EXPECT_EQ(r.status, status_of(parley::Status::FailedPrecondition)) << r.error;
  Incoming other = client_->call("rooms.list");
  EXPECT_EQ(other.status, status_of(parley::Status::FailedPrecondition));
  // The connection stays; hello then works.
  client_->hello();
  expect_still_serves(*client_);
}

TEST_F(Session, UnsupportedProtocolIsFailedPrecondition) {
  Incoming r = client_->call("sys.hello", parley::test::hello_payload(2));
  EXPECT_EQ(r.status, status_of(parley::Status::FailedPrecondition)) << r.error;
  client_->hello();
}

TEST_F(Session, HelloWithoutPayloadIsInvalidArgument) {
  Incoming r = client_->call("sys.hello");
  EXPECT_EQ(r.status, status_of(parley::Status::InvalidArgument)) << r.error;
}

TEST_F(Session, SecondHelloIsFailedPrecondition) {
  client_->hello();
  Incoming r = client_->call("sys.hello", parley::test::hello_payload());
  EXPECT_EQ(r.status, status_of(parley::Status::FailedPrecondition));
  expect_still_serves(*client_);
}

TEST_F(Session, EveryConnectionLogLineCarriesItsId) {
  client_->hello();
  ASSERT_TRUE(server_->wait_for_log("hello client=", 2000));
  std::string log = server_->log();
  size_t at = log.find("hello client=");
  size_t line_start = log.rfind('\n', at);
  std::string line = log.substr(line_start + 1, at - line_start);
  EXPECT_NE(line.find("conn="), std::string::npos) << line;
}

TEST(SessionPlain, TlsOffListenerServes) {
  ServerOptions o;
  o.tls = false;
  auto server = start_server(o);
  ASSERT_TRUE(server);
  ClientOptions co;
  co.tls = false;
  auto c = healthy(*server, co);
  ASSERT_TRUE(c);
  expect_still_serves(*c);
}

}  // namespace
}  // namespace parley::kernel_test

namespace parley::kernel_test {
namespace {

// The output path coalesces: 200 Requests arriving in one write are answered
// with a handful of flushes (one per loop pass), not 200 writes.
TEST(OutputPath, PipelinedAnswersAreCoalescedIntoFewFlushes) {
  ServerOptions o;
  o.sets = {"logging.level=debug"};
  auto server = start_server(o);
  ASSERT_TRUE(server);
  auto c = healthy(*server);
  ASSERT_TRUE(c);
  ASSERT_TRUE(server->wait_for_log("flush frames=1 ", 2000));  // the Welcome
  size_t flushes_before = server->count_in_log(" flush frames=");
  std::vector<uint8_t> burst;
  for (uint64_t id = 1000; id < 1200; ++id) {
    auto f = parley::test::frame(parley::test::envelope_bytes(parley::Kind::Request, id, "sys.ping"));
    burst.insert(burst.end(), f.begin(), f.end());
  }
  ASSERT_TRUE(c->send_raw(burst));
  for (uint64_t id = 1000; id < 1200; ++id) ASSERT_TRUE(c->read_response(id, 5000).has_value()) << id;
  // The log arrives through a pipe: give the last lines time to land.
  for (int i = 0; i < 40 && server->count_in_log(" flush frames=") == flushes_before; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  size_t flushes = server->count_in_log(" flush frames=") - flushes_before;
  EXPECT_GE(flushes, 1u);
  EXPECT_LE(flushes, 10u) << server->log();
  std::cerr << "flushes for 200 answers: " << flushes << "\n";
}

}  // namespace
}  // namespace parley::kernel_test

namespace parley::kernel_test {
namespace {

TEST(Listeners, Ipv4AndIpv6ListenersBothServeAndLogOnce) {
  ServerOptions o;
  o.listeners_yaml =
      "- {name: main, address: 127.0.0.1, port: 0, tls: off}\n"
      "- {name: six, address: '::1', port: 0, tls: off}\n";
  o.wait_listeners = {"main", "six"};
  auto server = start_server(o);
  ASSERT_TRUE(server);
  EXPECT_EQ(server->count_in_log("listening name=six address=::1 port="), 1u);
  EXPECT_EQ(server->count_in_log("listening name=main address=127.0.0.1 port="), 1u);
  ClientOptions plain;
  plain.tls = false;
  std::string error;
  auto six = Client::connect("::1", server->port("six"), plain, &error);
  ASSERT_TRUE(six) << error;
  six->hello();
  expect_still_serves(*six);
  auto four = healthy(*server, plain);
  ASSERT_TRUE(four);
  expect_still_serves(*four);
  // The log is read from the server's stderr by another thread: wait for it.
  EXPECT_TRUE(server->wait_for_log("peer=[::1]:", 2000));
}

}  // namespace
}  // namespace parley::kernel_test

namespace parley::kernel_test {
namespace {

TEST(Listeners, NonLoopbackPlaintextListenerWarns) {
  ServerOptions o;
  o.listeners_yaml = "- {name: main, address: 0.0.0.0, port: 0, tls: off}\n";
  auto server = start_server(o);
  ASSERT_TRUE(server);
  EXPECT_NE(server->log().find("warn listener listener main on non-loopback address 0.0.0.0 has tls off"),
            std::string::npos) << server->log();
}

TEST(Listeners, JsonLogsKeepTheListeningLine) {
  ServerOptions o;
  o.sets = {"logging.format=json"};
  auto server = start_server(o);
  ASSERT_TRUE(server);
  auto c = healthy(*server);
  ASSERT_TRUE(c);
  ASSERT_TRUE(server->wait_for_log("\"msg\":\"hello client=", 2000)) << server->log();
  EXPECT_NE(server->log().find("\"conn\":1,"), std::string::npos) << server->log();
}

}  // namespace
}  // namespace parley::kernel_test
