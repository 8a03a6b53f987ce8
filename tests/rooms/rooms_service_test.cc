// The rooms service v1 and the bus topics, as another plugin sees them
// (through the roomsprobe test plugin), in a real parleyd.
#include <gtest/gtest.h>

#include "rooms_test_client.h"

namespace parley::test::rooms {
namespace {

std::unique_ptr<ServerProcess> start_with_probe() {
  ServerOptions o = server_options();
  o.plugins_yaml += "roomsprobe: {path: \"" + test_plugin_dir() + "/libroomsprobe.so\"}\n";
  std::string error;
  auto s = ServerProcess::start(o, &error);
  EXPECT_TRUE(s) << error;
  return s;
}

TEST(RoomsService, GetRoomIsMemberAndRoomsOfUser) {
  auto server = start_with_probe();
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b"), x = new_user(*server, "x");
  Incoming r = a.client->call("rooms.create", create("svc", {b.user.id}));
  ASSERT_TRUE(r.ok());
  std::string room = as_room(r)->room_id()->str();
  ASSERT_TRUE(a.client->call("rooms.send", send(room, "1", "one")).ok());
  ASSERT_TRUE(a.client->call("rooms.send", send(room, "2", "two")).ok());

  Incoming g = x.client->call("roomsprobe.get_room", room_ref(room));
  ASSERT_TRUE(g.ok()) << g.error;
  auto* got = as_room(g);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->last_seq(), 2u);
  EXPECT_EQ(member_ids(*got), (std::vector<std::string>{a.user.id, b.user.id}));
  EXPECT_EQ(role_of(*got, a.user.id), static_cast<int>(rfb::Role::Owner));
  EXPECT_EQ(x.client->call("roomsprobe.get_room", room_ref(unknown_id())).status, 4);
  EXPECT_EQ(x.client->call("roomsprobe.get_room", room_ref("bad")).status, 1);

  EXPECT_TRUE(x.client->call("roomsprobe.is_member", remove_member(room, b.user.id)).ok());
  EXPECT_EQ(x.client->call("roomsprobe.is_member", remove_member(room, x.user.id)).status, 4);

  Incoming l = b.client->call("roomsprobe.rooms");
  ASSERT_TRUE(l.ok()) << l.error;
  ASSERT_EQ(as_room_list(l)->rooms()->size(), 1u);
  EXPECT_EQ(as_room_list(l)->rooms()->Get(0)->room_id()->str(), room);
  EXPECT_EQ(as_room_list(l)->rooms()->Get(0)->last_seq(), 2u);
}

TEST(RoomsService, BusTopicsCarryStoredMessagesAndMembershipChanges) {
  auto server = start_with_probe();
  ASSERT_TRUE(server);
  Device a = new_user(*server, "a"), b = new_user(*server, "b"), c = new_user(*server, "c");
  Incoming r = a.client->call("rooms.create", create("bus", {b.user.id}));
  ASSERT_TRUE(r.ok());
  std::string room = as_room(r)->room_id()->str();
  Incoming sent = a.client->call("rooms.send", send(room, "x", "hello bus"));
  ASSERT_TRUE(sent.ok());
  ASSERT_TRUE(a.client->call("rooms.add_members", add_members(room, {c.user.id})).ok());
  // A round trip through the loop lets the asynchronous bus deliver.
  a.client->call("sys.ping");

  Incoming m = a.client->call("roomsprobe.last_message");
  ASSERT_TRUE(m.ok());
  ASSERT_NE(as_message(m), nullptr);
  EXPECT_EQ(as_message(m)->seq(), 1u);
  EXPECT_EQ(as_message(m)->text()->str(), "hello bus");
  EXPECT_EQ(as_message(m)->message_id()->str(), as_message(sent)->message_id()->str());

  Incoming rc = a.client->call("roomsprobe.last_room");
  ASSERT_TRUE(rc.ok());
  ASSERT_NE(as_room(rc), nullptr);
  EXPECT_EQ(as_room(rc)->room_id()->str(), room);
  EXPECT_EQ(member_ids(*as_room(rc)),
            (std::vector<std::string>{a.user.id, b.user.id, c.user.id}));
  EXPECT_EQ(as_room(rc)->last_seq(), 1u);
}

}  // namespace
}  // namespace parley::test::rooms
