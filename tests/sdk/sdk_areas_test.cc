// One scenario per SDK area, each through the real protocol against parleyd
// with a tiny test plugin: work + post_to_loop (tworker), timers (ttimer),
// services + bus + dependency order (tprov/tuser), kernel events + sessions
// + delivery (tauth), virtual connections (tvirt), the frozen ABI v1 C plugin
// (tabiv1), and the Welcome listing plugins and methods.
#include <set>
#include <thread>

#include "sdk_test_util.h"

namespace sdk_test {
namespace {

TEST(SdkWork, DeferredReplyFromWorkerPool) {
  auto server = start("tworker: {}");
  ASSERT_TRUE(server);
  auto c = client(*server);
  Incoming r = c->call("tworker.sum", bytes("ab"));  // 97 + 98
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(text(r), "sum=195 pool=1");
}

TEST(SdkWork, PostToLoopFromPoolThread) {
  auto server = start("tworker: {}");
  ASSERT_TRUE(server);
  auto c = client(*server);
  Incoming r = c->call("tworker.post");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(text(r), "posted");
}

TEST(SdkWork, ManyConcurrentDeferredRequestsAllAnswered) {
  auto server = start("tworker: {}");
  ASSERT_TRUE(server);
  auto c = client(*server);
  std::vector<uint64_t> ids;
  for (int i = 0; i < 20; i++) ids.push_back(c->send("tworker.sum", bytes("\x01")));
  for (uint64_t id : ids) {
    auto r = c->read_response(id, 5000);
    ASSERT_TRUE(r);
    EXPECT_EQ(text(*r), "sum=1 pool=1");
  }
}

TEST(SdkTimers, OneShotRepeatAndStop) {
  auto server = start("ttimer: {}");
  ASSERT_TRUE(server);
  auto c = client(*server);
  Incoming once = c->call("ttimer.once", bytes("50"));
  ASSERT_TRUE(once.ok()) << once.error;
  int elapsed = std::stoi(text(once).substr(std::string("elapsed=").size()));
  EXPECT_GE(elapsed, 45);
  EXPECT_LT(elapsed, 2000);
  Incoming rep = c->call("ttimer.repeat");
  ASSERT_TRUE(rep.ok()) << rep.error;
  EXPECT_EQ(text(rep), "fires=3");  // stopped after the third: no fourth
  Incoming cancel = c->call("ttimer.cancel");
  ASSERT_TRUE(cancel.ok()) << cancel.error;
  EXPECT_EQ(text(cancel), "fired=0");
  // A repeating timer still running at shutdown is stopped cleanly.
  c->close();  // (an open client would hold the shutdown for drain_ms)
  EXPECT_EQ(server->stop(), 0);
  EXPECT_NE(server->log().find("plugin ttimer shut down"), std::string::npos);
}

TEST(SdkServices, ServiceBetweenTwoPluginsAndBus) {
  // tuser is listed first but requires tcounter from tprov: tprov's
  // on_all_loaded runs first, and tuser shuts down first.
  auto server = start("tuser: {}\ntprov: {}");
  ASSERT_TRUE(server);
  auto c = client(*server);
  Incoming r = c->call("tuser.bump", bytes("5"));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(text(r), "value=5 seen_now=0");  // bus delivery is asynchronous
  r = c->call("tuser.bump", bytes("2"));
  EXPECT_EQ(text(r), "value=7 seen_now=1");
  EXPECT_EQ(text(c->call("tprov.value")), "7");
  EXPECT_EQ(text(c->call("tuser.seen")), "seen=2 last=7");

  std::string log = server->log();
  size_t prov = log.find("on_all_loaded order=tprov"), user = log.find("on_all_loaded order=tuser");
  ASSERT_NE(prov, std::string::npos);
  ASSERT_NE(user, std::string::npos);
  EXPECT_LT(prov, user);
  c->close();
  EXPECT_EQ(server->stop(), 0);
  log = server->log();
  size_t sprov = log.find("shutdown order=tprov"), suser = log.find("shutdown order=tuser bump=107");
  ASSERT_NE(sprov, std::string::npos);
  ASSERT_NE(suser, std::string::npos);
  EXPECT_LT(suser, sprov);
}

TEST(SdkEvents, ConnectAuthenticateDeauthenticateDisconnect) {
  auto server = start("tauth: {}");
  ASSERT_TRUE(server);
  auto a = client(*server);
  Incoming login = a->call("tauth.login", bytes("alice"));
  ASSERT_TRUE(login.ok()) << login.error;
  std::string conn = text(login);
  EXPECT_EQ(text(a->call("tauth.whoami")), "alice");
  EXPECT_TRUE(a->call("tauth.logout").ok());
  // After logout the session is gone again.
  EXPECT_EQ(a->call("tauth.whoami").status, PARLEY_STATUS_UNAUTHENTICATED);
  a->close();

  auto b = client(*server);
  std::string events;
  for (int i = 0; i < 50; i++) {  // the close is noticed asynchronously
    events = text(b->call("tauth.events"));
    if (events.find("closed:" + conn) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Only connection a's events, in order (b's own may interleave).
  std::string mine;
  size_t start = 0;
  while (start < events.size()) {
    size_t end = events.find(';', start);
    std::string e = events.substr(start, end - start);
    size_t c1 = e.find(':'), c2 = e.find(':', c1 + 1);
    if (e.substr(c1 + 1, c2 - c1 - 1) == conn) mine += e + ";";
    start = end + 1;
  }
  EXPECT_EQ(mine, "opened:" + conn + ":-:tls;auth:" + conn + ":alice:tls;deauth:" + conn +
                      ":alice:tls;closed:" + conn + ":-:tls;")
      << events;
}

TEST(SdkDelivery, EventToEveryConnectionOfAUser) {
  auto server = start("tauth: {}");
  ASSERT_TRUE(server);
  auto a1 = client(*server);
  auto a2 = client(*server);
  auto other = client(*server);
  ASSERT_TRUE(a1->call("tauth.login", bytes("alice")).ok());
  ASSERT_TRUE(a2->call("tauth.login", bytes("alice")).ok());
  ASSERT_TRUE(other->call("tauth.login", bytes("bob")).ok());
  Incoming r = a1->call("tauth.push", bytes("hi"));
  ASSERT_TRUE(r.ok()) << r.error;
  // note: both of alice's connections; note2 (to users [alice, nobody],
  // except the caller): only a2.
  EXPECT_EQ(text(r), "n=2 m=1");
  EXPECT_TRUE(a1->next_event("tauth.note", 2000));
  EXPECT_TRUE(a2->next_event("tauth.note", 2000));
  EXPECT_TRUE(a2->next_event("tauth.note2", 2000));
  EXPECT_FALSE(a1->next_event("tauth.note2", 200));
  EXPECT_FALSE(other->next_event("", 200));
}

TEST(SdkSessions, OnlyAuthCapabilityMayAuthenticate) {
  auto server = start("tworker: {}");
  ASSERT_TRUE(server);
  auto c = client(*server);
  EXPECT_EQ(text(c->call("tworker.steal")), "rc=" + std::to_string(PARLEY_EPERM));
}

TEST(SdkVirtual, VirtualConnectionRoundTrip) {
  auto server = start("tvirt: {}");
  ASSERT_TRUE(server);
  auto c = client(*server);
  Incoming r = c->call("tvirt.roundtrip");
  ASSERT_TRUE(r.ok()) << r.error;
  // The virtual connection saw the Welcome (Ok) and then its own answer.
  EXPECT_EQ(text(r), "sys.hello/0 tvirt.inner/0 | inner:x:anon");
  std::string closes;
  for (int i = 0; i < 50 && closes != "closes=1"; i++) {
    closes = text(c->call("tvirt.closes"));
    if (closes != "closes=1") std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(closes, "closes=1");  // ops->close ran exactly once
}

TEST(SdkAbiGuard, FrozenV1CPluginLoadsAndServes) {
  auto server = start("tabiv1: {config: {base: 10}}");
  ASSERT_TRUE(server);
  auto c = client(*server);
  Incoming r = c->call("tabiv1.add", bytes("\x01\x02"));
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.payload().size(), 1u);
  EXPECT_EQ(r.payload()[0], 13);
  Incoming who = c->call("tabiv1.who");
  ASSERT_TRUE(who.ok());
  EXPECT_NE(text(who).find("/tls/tabiv1.who"), std::string::npos) << text(who);
  EXPECT_TRUE(server->wait_for_log("abi v1 plugin up, base=10", 1000));
}

TEST(SdkWelcome, ListsPluginsWithVersionsAndMethods) {
  auto server = start("tprov: {}\ntabiv1: {}");
  ASSERT_TRUE(server);
  std::string error;
  auto c = Client::connect("127.0.0.1", server->port(), {}, &error);
  ASSERT_TRUE(c) << error;
  Incoming w = c->hello();
  auto* welcome = parley::test::payload_as<parley::sys::Welcome>(w, "PSYS");
  ASSERT_NE(welcome, nullptr);
  std::set<std::string> plugins, methods;
  for (auto* p : *welcome->plugins()) plugins.insert(p->name()->str() + "@" + p->version()->str());
  for (auto* m : *welcome->methods()) methods.insert(m->str());
  EXPECT_TRUE(plugins.count("tprov@0.0.1"));
  EXPECT_TRUE(plugins.count("tabiv1@1.0.0"));
  EXPECT_TRUE(methods.count("tprov.value"));
  EXPECT_TRUE(methods.count("tabiv1.add"));
  EXPECT_TRUE(methods.count("tabiv1.who"));
}

}  // namespace
}  // namespace sdk_test
