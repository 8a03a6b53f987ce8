// Writes the structured seed inputs of the fuzz corpora (valid frames,
// payloads and stored records, laid out as each target reads its input).
// Run by hand after a schema or record-format change:
//   fuzz_seed_gen tests/fuzz/corpus
#include <flatbuffers/flatbuffers.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "envelope_codec.h"
#include "parley/auth_generated.h"
#include "parley/rooms_generated.h"
#include "parley/sys_generated.h"
#include "records.h"
#include "rooms_logic.h"

namespace fs = std::filesystem;

namespace {

std::string root;

void put(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(root + "/" + target);
  std::ofstream(root + "/" + target + "/" + name, std::ios::binary) << bytes;
}

std::string str(const flatbuffers::FlatBufferBuilder& fbb) {
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

std::string frame(parley::Kind kind, uint64_t id, const char* method, const std::string& payload,
                  uint16_t status = 0) {
  auto f = parley::kernel::encode_frame(
      kind, id, method, status, status ? "reason" : "",
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
  return std::string(f->bytes.begin(), f->bytes.end());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  root = argv[1];

  // frame: first byte = chunk size - 1, then the stream.
  flatbuffers::FlatBufferBuilder hello;
  hello.Finish(parley::sys::CreateHelloDirect(hello, 1, "seed"), "PSYS");
  std::string h = frame(parley::Kind::Request, 1, "sys.hello", str(hello));
  std::string p = frame(parley::Kind::Request, 2, "sys.ping", "");
  put("frame", "hello", std::string(1, '\xff') + h);
  put("frame", "hello-ping-split", std::string(1, '\x04') + h + p);
  put("frame", "closing", std::string(1, '\x10') +
                              frame(parley::Kind::Event, 0, "sys.closing", "", 11));
  put("frame", "too-large", std::string(1, '\xff') + std::string("\xff\xff\x00\x00", 4));
  put("frame", "too-small", std::string(1, '\xff') + std::string("\x04\x00\x00\x00PRLY", 8));

  // auth: selector byte, then the input of that path.
  flatbuffers::FlatBufferBuilder reg;
  reg.Finish(parley::auth::CreateRegisterDirect(reg, "+15550102030", "correct horse", "Ann"),
             "PAUT");
  put("auth", "register", std::string(1, '\x05') + str(reg));
  flatbuffers::FlatBufferBuilder resume;
  resume.Finish(parley::auth::CreateResumeDirect(resume, "AAAAAAAAAAAAAAAAAAAAAA"), "PAUT");
  put("auth", "resume", std::string(1, '\x05') + str(resume));
  put("auth", "phone", std::string(1, '\x00') + "+1 (555) 010-2030");
  put("auth", "phone-bad", std::string(1, '\x00') + "+0123");
  put("auth", "names", std::string(1, '\x01') + "J\xc3\xa9r\xc3\xb4me");

  parley::auth::UserRecord user;
  user.user_id = "0190c6a0-0000-7000-8000-00000000000a";
  user.phone = "+15550102030";
  user.display_name = "Ann";
  user.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
  user.created_at = user.updated_at = 1700000000000;
  put("auth", "user-record", std::string(1, '\x02') + parley::auth::encode(user));
  parley::auth::TokenRecord token;
  token.user_id = user.user_id;
  token.family_id = "0190c6a0-0000-7000-8000-0000000000f1";
  token.pair_hash = std::string(32, '\x11');
  token.expires_at = 1800000000000;
  put("auth", "token-record", std::string(1, '\x03') + parley::auth::encode(token));
  parley::auth::FamilyRecord family;
  family.user_id = user.user_id;
  put("auth", "family-record", std::string(1, '\x03') + parley::auth::encode(family));

  // rooms
  flatbuffers::FlatBufferBuilder send;
  send.Finish(parley::rooms::CreateSendDirect(send, "0190c6a0-0000-7000-8000-000000000001", "c1",
                                              "hello"),
              "PROM");
  put("rooms", "send", std::string(1, '\x05') + str(send));
  flatbuffers::FlatBufferBuilder create;
  std::vector<flatbuffers::Offset<flatbuffers::String>> ids = {create.CreateString("a"),
                                                               create.CreateString("b")};
  create.Finish(parley::rooms::CreateCreateDirect(create, "team", &ids), "PROM");
  put("rooms", "create", std::string(1, '\x05') + str(create));
  parley::rooms_plugin::RoomRecord room;
  room.room_id = "0190c6a0-0000-7000-8000-000000000001";
  room.name = "team";
  room.members = {{"0190c6a0-0000-7000-8000-00000000000a", parley::rooms::Role::Owner, 1},
                  {"0190c6a0-0000-7000-8000-00000000000b", parley::rooms::Role::Member, 2}};
  put("rooms", "room-record", std::string(1, '\x01') +
                                  parley::rooms_plugin::encode_room_record(room));
  parley::rooms_plugin::MessageFields m;
  m.message_id = m.room_id = m.sender_user_id = room.room_id;
  m.text = "hi";
  m.client_msg_id = "c1";
  m.seq = 1;
  put("rooms", "message", std::string(1, '\x02') + parley::rooms_plugin::encode_message(m));
  put("rooms", "seq-state", std::string(1, '\x01') +
                                parley::rooms_plugin::encode_seq_state({42, 1700000000000}));
  put("rooms", "utf8", std::string(1, '\x00') + "caf\xc3\xa9 \xf0\x9f\x98\x80");
  put("rooms", "utf8-bad", std::string(1, '\x00') + "\xed\xa0\x80\xc0\xaf");
  put("rooms", "history", std::string(1, '\x03') + std::string(24, '\x01') + room.room_id);
  return 0;
}
