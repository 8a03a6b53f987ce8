// Helpers for the rooms integration tests: a parleyd with persistence, auth
// and rooms; registered users on TLS connections; rooms payload builders and
// readers. Built on tests/support (parley_test.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "parley/auth_generated.h"
#include "parley/rooms_generated.h"
#include "parley_test.h"

namespace parley::test::rooms {

namespace rfb = parley::rooms;

// persistence (sync durability) + auth (cheap argon2 so registering is fast)
// + rooms with the given extra config lines (e.g. "max_members: 4").
ServerOptions server_options(const std::string& rooms_config = "");
std::unique_ptr<ServerProcess> start_server(const std::string& rooms_config = "");

struct User {
  std::string id, token, phone;
};

// A connected client after sys.hello (ASSERTs through gtest on failure:
// returns nullptr then).
std::unique_ptr<Client> connect(ServerProcess& server);
// auth.register with a fresh phone number on c (which is then this user's).
User register_user(Client& c, const std::string& name = "user");
// auth.resume on c with the user's token: another device of the same user.
bool resume(Client& c, const User& u);
// A new connection of a new user.
struct Device {
  User user;
  std::unique_ptr<Client> client;
};
Device new_user(ServerProcess& server, const std::string& name = "user");
// Another connection of an existing user.
std::unique_ptr<Client> second_device(ServerProcess& server, const User& u);

// Payload builders (finished with "PROM").
std::vector<uint8_t> open_direct(const std::string& peer);
std::vector<uint8_t> create(const std::string& name, const std::vector<std::string>& members);
std::vector<uint8_t> room_ref(const std::string& room_id);
std::vector<uint8_t> add_members(const std::string& room_id, const std::vector<std::string>& ids);
std::vector<uint8_t> remove_member(const std::string& room_id, const std::string& user_id);
std::vector<uint8_t> send(const std::string& room_id, const std::string& client_msg_id,
                          const std::string& text);
std::vector<uint8_t> history(const std::string& room_id, uint64_t before_seq,
                             uint64_t after_seq, uint16_t limit);
std::vector<uint8_t> typing(const std::string& room_id, bool typing);

// Verified payload readers; nullptr if the payload is not that table.
const rfb::Room* as_room(const Incoming& in);
const rfb::Message* as_message(const Incoming& in);
const rfb::MessageList* as_message_list(const Incoming& in);
const rfb::RoomList* as_room_list(const Incoming& in);
const rfb::TypingEvent* as_typing(const Incoming& in);

// A room's member ids and the role of one member (-1 if absent).
std::vector<std::string> member_ids(const rfb::Room& r);
int role_of(const rfb::Room& r, const std::string& user_id);
// The seqs of a MessageList, in order.
std::vector<uint64_t> seqs_of(const rfb::MessageList& l);

// A room id that does not exist.
std::string unknown_id();

}  // namespace parley::test::rooms
