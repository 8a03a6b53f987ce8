// parley_client against a real parleyd (persistence, auth, rooms, receipts)
// over TLS: connecting and its failures, every typed helper, pipelining,
// events, and the reconnect + catch-up guarantee across kill -9 and restart.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "parley/client/client.hpp"
#include "test_server.h"

namespace parley::test::client {
namespace {

namespace pc = parley::client;
using namespace std::chrono_literals;

constexpr const char* kPassword = "correct horse battery";

pc::Options options_for(ServerProcess& s) {
  pc::Options o;
  o.host = "127.0.0.1";
  o.port = static_cast<uint16_t>(s.port());
  o.ca_file = s.data_dir() + "/dev-cert.pem";
  o.reconnect_min_ms = 50;
  o.reconnect_max_ms = 300;
  return o;
}

// Collects events and connection states; waits with timeouts.
// Recursive: wait() predicates call the locking accessors.
struct Recorder {
  std::recursive_mutex mu;
  std::condition_variable_any cv;
  std::vector<pc::Event> events;
  std::vector<pc::ConnectionState> states;

  void attach(pc::Client& c) {
    c.on_event([this](const pc::Event& e) {
      std::lock_guard lock(mu);
      events.push_back(e);
      cv.notify_all();
    });
    c.on_state([this](pc::ConnectionState s, const std::string&) {
      std::lock_guard lock(mu);
      states.push_back(s);
      cv.notify_all();
    });
  }
  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return pred(); });
  }
  std::vector<uint64_t> message_seqs(const std::string& room) {
    std::lock_guard lock(mu);
    std::vector<uint64_t> out;
    for (const auto& e : events)
      if (e.message && e.message->room_id == room) out.push_back(e.message->seq);
    return out;
  }
  size_t count(const std::string& method) {
    std::lock_guard lock(mu);
    size_t n = 0;
    for (const auto& e : events) n += e.method == method;
    return n;
  }
  size_t connected_count() {
    std::lock_guard lock(mu);
    size_t n = 0;
    for (auto s : states) n += s == pc::ConnectionState::Connected;
    return n;
  }
};

struct Person {
  Recorder rec;  // declared first: it must outlive the client calling into it
  std::unique_ptr<pc::Client> client;
  pc::Session session;
  std::string phone;
};

std::unique_ptr<Person> new_person(ServerProcess& s, const std::string& name) {
  auto p = std::make_unique<Person>();
  p->client = std::make_unique<pc::Client>(options_for(s));
  p->rec.attach(*p->client);
  auto w = p->client->connect();
  EXPECT_TRUE(w.ok()) << w.error;
  EXPECT_EQ(w.value.protocol, 1);
  p->phone = unique_phone();
  auto r = p->client->register_user(p->phone, kPassword, name);
  EXPECT_TRUE(r.ok()) << pc::status_name(r.status) << " " << r.error;
  p->session = r.value;
  return p;
}

TEST(ClientConnect, VerifiesTheCertificateByDefault) {
  auto server = start_chat_server();
  ASSERT_TRUE(server);
  pc::Options o = options_for(*server);
  o.ca_file.clear();
  pc::Client untrusted(o);
  auto r = untrusted.connect();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(untrusted.failure(), pc::ConnectFailure::Certificate) << r.error;

  o.insecure = true;
  pc::Client insecure(o);
  EXPECT_TRUE(insecure.connect().ok());
  EXPECT_TRUE(insecure.ping().ok());

  pc::Client trusted(options_for(*server));
  auto w = trusted.connect();
  ASSERT_TRUE(w.ok()) << w.error;
  EXPECT_FALSE(w.value.methods.empty());
}

TEST(ClientConnect, ReportsAnUnreachableServer) {
  auto server = start_chat_server();
  ASSERT_TRUE(server);
  pc::Options o = options_for(*server);
  server->stop();
  pc::Client c(o);
  auto r = c.connect();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(c.failure(), pc::ConnectFailure::Unreachable) << r.error;
  // Requests without a connection fail at once instead of hanging.
  EXPECT_EQ(c.whoami().status, pc::Status::Disconnected);
}

TEST(ClientMethods, EveryTypedHelperWorks) {
  auto server = start_chat_server();
  ASSERT_TRUE(server);
  auto alice = new_person(*server, "Alice");
  auto bob = new_person(*server, "Bob");
  auto carol = new_person(*server, "Carol");
  pc::Client& a = *alice->client;
  pc::Client& b = *bob->client;

  EXPECT_TRUE(a.ping().ok());
  auto me = a.whoami();
  ASSERT_TRUE(me.ok());
  EXPECT_EQ(me.value.display_name, "Alice");
  auto found = a.find_user(bob->phone);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found.value.user_id, bob->session.user.user_id);
  EXPECT_EQ(a.find_user("+19999999999").status, pc::Status::NotFound);
  auto renamed = a.update_profile("Alice L.");
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed.value.display_name, "Alice L.");

  auto dm = a.open_direct(bob->session.user.user_id);
  ASSERT_TRUE(dm.ok()) << dm.error;
  EXPECT_EQ(dm.value.kind, pc::RoomKind::Direct);
  auto sent = a.send(dm.value.room_id, "hello bob");
  ASSERT_TRUE(sent.ok()) << sent.error;
  EXPECT_EQ(sent.value.seq, 1u);
  ASSERT_TRUE(bob->rec.wait([&] { return bob->rec.message_seqs(dm.value.room_id).size() == 1; }));
  EXPECT_EQ(a.last_seq(dm.value.room_id), 1u);
  // The sender's own connection gets no event for its own message.
  EXPECT_TRUE(alice->rec.message_seqs(dm.value.room_id).empty());

  auto hist = b.history(dm.value.room_id);
  ASSERT_TRUE(hist.ok());
  ASSERT_EQ(hist.value.messages.size(), 1u);
  EXPECT_EQ(hist.value.messages[0].text, "hello bob");

  EXPECT_TRUE(b.mark_delivered(dm.value.room_id, 1).ok());
  EXPECT_TRUE(b.mark_read(dm.value.room_id, 1).ok());
  EXPECT_TRUE(alice->rec.wait([&] { return alice->rec.count("receipts.updated") > 0; }));
  auto receipts = a.receipts(dm.value.room_id);
  ASSERT_TRUE(receipts.ok());
  EXPECT_EQ(receipts.value.size(), 2u);
  auto unread = b.unread();
  ASSERT_TRUE(unread.ok());
  ASSERT_EQ(unread.value.size(), 1u);
  EXPECT_EQ(unread.value[0].unread, 0u);

  EXPECT_TRUE(a.typing(dm.value.room_id, true).ok());
  EXPECT_TRUE(bob->rec.wait([&] { return bob->rec.count("rooms.typing") > 0; }));

  auto group = a.create_room("Team", {bob->session.user.user_id});
  ASSERT_TRUE(group.ok()) << group.error;
  EXPECT_EQ(group.value.members.size(), 2u);
  auto added = a.add_members(group.value.room_id, {carol->session.user.user_id});
  ASSERT_TRUE(added.ok()) << added.error;
  EXPECT_EQ(added.value.members.size(), 3u);
  EXPECT_TRUE(carol->rec.wait([&] { return carol->rec.count("rooms.updated") > 0; }));
  auto removed = a.remove_member(group.value.room_id, carol->session.user.user_id);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed.value.members.size(), 2u);
  EXPECT_TRUE(b.leave(group.value.room_id).ok());
  auto got = a.get_room(group.value.room_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value.members.size(), 1u);
  EXPECT_EQ(b.get_room(group.value.room_id).status, pc::Status::PermissionDenied);
  auto rooms = a.list_rooms();
  ASSERT_TRUE(rooms.ok());
  EXPECT_EQ(rooms.value.size(), 2u);

  // A new connection resumes with the token; logout revokes it.
  pc::Client again(options_for(*server));
  ASSERT_TRUE(again.connect().ok());
  auto resumed = again.resume(alice->session.token);
  ASSERT_TRUE(resumed.ok()) << resumed.error;
  EXPECT_TRUE(again.logout().ok());
  EXPECT_EQ(again.whoami().status, pc::Status::Unauthenticated);
  pc::Client third(options_for(*server));
  ASSERT_TRUE(third.connect().ok());
  EXPECT_EQ(third.resume(alice->session.token).status, pc::Status::Unauthenticated);
  auto login = third.login(alice->phone, kPassword);
  ASSERT_TRUE(login.ok());
  auto refreshed = third.refresh(login.value.refresh_token);
  ASSERT_TRUE(refreshed.ok()) << refreshed.error;
  EXPECT_NE(refreshed.value.token, login.value.token);
}

TEST(ClientMethods, PipelinedRequestsMatchTheirResponses) {
  auto server = start_chat_server();
  ASSERT_TRUE(server);
  auto alice = new_person(*server, "Alice");
  auto bob = new_person(*server, "Bob");
  auto dm = alice->client->open_direct(bob->session.user.user_id);
  ASSERT_TRUE(dm.ok());
  std::vector<std::future<pc::Reply>> futures;
  for (int i = 0; i < 40; ++i)
    futures.push_back(alice->client->call(
        "rooms.send", pc::codec::send(dm.value.room_id, "cm-" + std::to_string(i),
                                      "text " + std::to_string(i))));
  std::set<uint64_t> seqs;
  for (int i = 0; i < 40; ++i) {
    pc::Reply r = futures[i].get();
    ASSERT_TRUE(r.ok()) << r.error;
    auto m = pc::codec::message(r.payload);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->client_msg_id, "cm-" + std::to_string(i));
    EXPECT_EQ(m->text, "text " + std::to_string(i));
    seqs.insert(m->seq);
  }
  EXPECT_EQ(seqs.size(), 40u);
  ASSERT_TRUE(bob->rec.wait([&] { return bob->rec.message_seqs(dm.value.room_id).size() == 40; }));
}

// The guarantee: kill -9 the server mid-conversation and restart it;
// the receiver gets every message exactly once, in order — the ones sent
// while it was away through rooms.history catch-up.
TEST(ClientReconnect, KillAndRestartMidConversationMissesNothingAndRepeatsNothing) {
  auto server = start_chat_server();
  ASSERT_TRUE(server);
  auto alice = new_person(*server, "Alice");
  auto bob = new_person(*server, "Bob");
  auto dm = alice->client->open_direct(bob->session.user.user_id);
  ASSERT_TRUE(dm.ok());
  const std::string room = dm.value.room_id;
  auto send = [&](int from, int to) {
    for (int i = from; i <= to; ++i) {
      auto r = alice->client->send(room, "message " + std::to_string(i));
      ASSERT_TRUE(r.ok()) << i << ": " << r.error;
      EXPECT_EQ(r.value.seq, static_cast<uint64_t>(i));
    }
  };
  send(1, 5);
  ASSERT_TRUE(bob->rec.wait([&] { return bob->rec.message_seqs(room).size() == 5; }));

  server->kill9();
  ASSERT_TRUE(server->restart());
  const uint16_t port = static_cast<uint16_t>(server->port());
  // Alice reconnects first and keeps talking while Bob is still away.
  alice->client->set_endpoint("127.0.0.1", port);
  ASSERT_TRUE(alice->rec.wait([&] { return alice->rec.connected_count() >= 1; }));
  ASSERT_TRUE(alice->client->connected());
  send(6, 10);
  // Now Bob finds the server; he must catch up on 6..10, then get 11..15 live.
  bob->client->set_endpoint("127.0.0.1", port);
  ASSERT_TRUE(bob->rec.wait([&] { return bob->rec.connected_count() >= 1; }));
  ASSERT_TRUE(bob->rec.wait([&] { return bob->rec.message_seqs(room).size() >= 10; }));
  send(11, 15);
  ASSERT_TRUE(bob->rec.wait([&] { return bob->rec.message_seqs(room).size() >= 15; }));
  std::this_thread::sleep_for(300ms);  // anything extra (a repeat) would show up now

  std::vector<uint64_t> want;
  for (uint64_t i = 1; i <= 15; ++i) want.push_back(i);
  EXPECT_EQ(bob->rec.message_seqs(room), want);
  {
    std::lock_guard lock(bob->rec.mu);
    for (const auto& e : bob->rec.events) {
      if (e.message && e.message->seq >= 6 && e.message->seq <= 10) {
        EXPECT_TRUE(e.catch_up) << "seq " << e.message->seq << " should come from catch-up";
      }
    }
  }
  EXPECT_EQ(bob->client->last_seq(room), 15u);
  // The resumed session is the same user.
  auto me = bob->client->whoami();
  ASSERT_TRUE(me.ok());
  EXPECT_EQ(me.value.user_id, bob->session.user.user_id);
}

TEST(ClientReconnect, DroppedConnectionCatchesUpAcrossRooms) {
  auto server = start_chat_server();
  ASSERT_TRUE(server);
  auto alice = new_person(*server, "Alice");
  auto bob = new_person(*server, "Bob");
  auto dm = alice->client->open_direct(bob->session.user.user_id);
  auto group = alice->client->create_room("G", {bob->session.user.user_id});
  ASSERT_TRUE(dm.ok() && group.ok());
  ASSERT_TRUE(alice->client->send(dm.value.room_id, "one").ok());
  ASSERT_TRUE(bob->rec.wait([&] { return bob->rec.message_seqs(dm.value.room_id).size() == 1; }));

  // Bob's connection drops; make him stay away by pointing him at a dead port
  // until Alice has written into both rooms.
  bob->client->set_endpoint("127.0.0.1", 1);
  bob->client->drop_connection();
  ASSERT_TRUE(bob->rec.wait([&] {
    std::lock_guard l(bob->rec.mu);
    return !bob->rec.states.empty() && bob->rec.states.back() == pc::ConnectionState::Reconnecting;
  }));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(alice->client->send(dm.value.room_id, "dm " + std::to_string(i)).ok());
    ASSERT_TRUE(alice->client->send(group.value.room_id, "g " + std::to_string(i)).ok());
  }
  bob->client->set_endpoint("127.0.0.1", static_cast<uint16_t>(server->port()));
  ASSERT_TRUE(bob->rec.wait([&] {
    return bob->rec.message_seqs(dm.value.room_id).size() == 4 &&
           bob->rec.message_seqs(group.value.room_id).size() == 3;
  }));
  EXPECT_EQ(bob->rec.message_seqs(dm.value.room_id), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(bob->rec.message_seqs(group.value.room_id), (std::vector<uint64_t>{1, 2, 3}));
}

}  // namespace
}  // namespace parley::test::client
