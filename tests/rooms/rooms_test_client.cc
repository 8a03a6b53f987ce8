#include "rooms_test_client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace parley::test::rooms {

namespace afb = parley::auth;

ServerOptions server_options(const std::string& rooms_config) {
  ServerOptions o;
  o.plugins_yaml =
      "persistence: {config: {durability: sync}}\n"
      "auth: {config: {argon2_memory_kib: 8, argon2_iterations: 1}}\n";
  if (rooms_config.empty()) {
    o.plugins_yaml += "rooms: {}\n";
  } else {
    o.plugins_yaml += "rooms:\n  config:\n";
    std::string line;
    for (char c : rooms_config + "\n") {
      if (c == '\n') {
        if (!line.empty()) o.plugins_yaml += "    " + line + "\n";
        line.clear();
      } else {
        line += c;
      }
    }
  }
  return o;
}

std::unique_ptr<ServerProcess> start_server(const std::string& rooms_config) {
  std::string error;
  auto s = ServerProcess::start(server_options(rooms_config), &error);
  EXPECT_TRUE(s) << error;
  return s;
}

std::unique_ptr<Client> connect(ServerProcess& server) {
  std::string error;
  auto c = Client::connect("127.0.0.1", server.port(), {}, &error);
  EXPECT_TRUE(c) << error;
  if (c) c->hello("rooms-test");
  return c;
}

User register_user(Client& c, const std::string& name) {
  // Unique across the processes of a parallel ctest run: pid + counter.
  static std::atomic<int> counter{0};
  char phone[32];
  std::snprintf(phone, sizeof phone, "+1%05d%05d", static_cast<int>(getpid() % 100000),
                counter.fetch_add(1));
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(afb::CreateRegisterDirect(fbb, phone, "correct horse battery", name.c_str()),
             "PAUT");
  Incoming r = c.call("auth.register", fbb, 10000);
  EXPECT_TRUE(r.ok()) << "auth.register: " << r.status << " " << r.error;
  User u;
  u.phone = phone;
  if (auto* s = payload_as<afb::Session>(r, "PAUT")) {
    if (s->user() && s->user()->user_id()) u.id = s->user()->user_id()->str();
    if (s->token()) u.token = s->token()->str();
  }
  EXPECT_FALSE(u.id.empty());
  return u;
}

bool resume(Client& c, const User& u) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(afb::CreateResumeDirect(fbb, u.token.c_str()), "PAUT");
  Incoming r = c.call("auth.resume", fbb);
  EXPECT_TRUE(r.ok()) << "auth.resume: " << r.status << " " << r.error;
  return r.ok();
}

Device new_user(ServerProcess& server, const std::string& name) {
  Device d;
  d.client = connect(server);
  if (d.client) d.user = register_user(*d.client, name);
  return d;
}

std::unique_ptr<Client> second_device(ServerProcess& server, const User& u) {
  auto c = connect(server);
  if (c) resume(*c, u);
  return c;
}

namespace {
std::vector<uint8_t> finish(flatbuffers::FlatBufferBuilder& fbb) { return bytes_of(fbb); }
}  // namespace

std::vector<uint8_t> open_direct(const std::string& peer) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(rfb::CreateOpenDirectDirect(fbb, peer.c_str()), "PROM");
  return finish(fbb);
}

std::vector<uint8_t> create(const std::string& name, const std::vector<std::string>& members) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<flatbuffers::String>> ids;
  for (const auto& m : members) ids.push_back(fbb.CreateString(m));
  auto n = fbb.CreateString(name);
  auto v = fbb.CreateVector(ids);
  fbb.Finish(rfb::CreateCreate(fbb, n, v), "PROM");
  return finish(fbb);
}

std::vector<uint8_t> room_ref(const std::string& room_id) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(rfb::CreateRoomRefDirect(fbb, room_id.c_str()), "PROM");
  return finish(fbb);
}

std::vector<uint8_t> add_members(const std::string& room_id,
                                 const std::vector<std::string>& user_ids) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<flatbuffers::String>> ids;
  for (const auto& m : user_ids) ids.push_back(fbb.CreateString(m));
  auto r = fbb.CreateString(room_id);
  auto v = fbb.CreateVector(ids);
  fbb.Finish(rfb::CreateAddMembers(fbb, r, v), "PROM");
  return finish(fbb);
}

std::vector<uint8_t> remove_member(const std::string& room_id, const std::string& user_id) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(rfb::CreateRemoveMemberDirect(fbb, room_id.c_str(), user_id.c_str()), "PROM");
  return finish(fbb);
}

std::vector<uint8_t> send(const std::string& room_id, const std::string& client_msg_id,
                          const std::string& text) {
  flatbuffers::FlatBufferBuilder fbb;
  auto r = fbb.CreateString(room_id);
  auto c = fbb.CreateString(client_msg_id);
  auto t = fbb.CreateString(text.data(), text.size());
  fbb.Finish(rfb::CreateSend(fbb, r, c, t), "PROM");
  return finish(fbb);
}

std::vector<uint8_t> history(const std::string& room_id, uint64_t before_seq,
                             uint64_t after_seq, uint16_t limit) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(rfb::CreateHistoryDirect(fbb, room_id.c_str(), before_seq, after_seq, limit),
             "PROM");
  return finish(fbb);
}

std::vector<uint8_t> typing(const std::string& room_id, bool typing) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(rfb::CreateTypingDirect(fbb, room_id.c_str(), typing), "PROM");
  return finish(fbb);
}

const rfb::Room* as_room(const Incoming& in) { return payload_as<rfb::Room>(in, "PROM"); }
const rfb::Message* as_message(const Incoming& in) {
  return payload_as<rfb::Message>(in, "PROM");
}
const rfb::MessageList* as_message_list(const Incoming& in) {
  return payload_as<rfb::MessageList>(in, "PROM");
}
const rfb::RoomList* as_room_list(const Incoming& in) {
  return payload_as<rfb::RoomList>(in, "PROM");
}
const rfb::TypingEvent* as_typing(const Incoming& in) {
  return payload_as<rfb::TypingEvent>(in, "PROM");
}

std::vector<std::string> member_ids(const rfb::Room& r) {
  std::vector<std::string> out;
  if (r.members())
    for (const auto* m : *r.members()) out.push_back(m->user_id() ? m->user_id()->str() : "");
  return out;
}

int role_of(const rfb::Room& r, const std::string& user_id) {
  if (r.members())
    for (const auto* m : *r.members())
      if (m->user_id() && m->user_id()->str() == user_id) return static_cast<int>(m->role());
  return -1;
}

std::vector<uint64_t> seqs_of(const rfb::MessageList& l) {
  std::vector<uint64_t> out;
  if (l.messages())
    for (const auto* m : *l.messages()) out.push_back(m->seq());
  return out;
}

std::string unknown_id() { return "01900000-0000-7000-8000-000000000000"; }

}  // namespace parley::test::rooms
