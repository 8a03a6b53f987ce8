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

#include "dispatch_input.h"
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
  // dispatch: one session per seed (dispatch_input.h); selector bit 0 =
  // authenticated as the setup user, bit 1 = no sys.hello.
  {
    using W = parley::fuzz::dispatch::SeedWriter;
    using C = parley::fuzz::dispatch::Choice;
    auto P = [](C c) { return W::pick(c); };
    auto seed = [](const char* name, const W& w) { put("dispatch", name, w.bytes()); };
    seed("auth-register", W(0).call("auth.register", P(C::FreshPhone) + P(C::Password) +
                                                          W::text("Seed User")));
    seed("auth-register-bad", W(0).call("auth.register", W::text("12345") +
                                                              W::text("short") + P(C::Empty)));
    seed("auth-login", W(0).call("auth.login", P(C::Phone) + P(C::Password)));
    seed("auth-login-wrong", W(0).call("auth.login", P(C::Phone) + W::text("wrong-password")));
    seed("auth-resume", W(0).call("auth.resume", P(C::Token)));
    seed("auth-resume-bad", W(0).call("auth.resume", W::text("AAAAAAAAAAAAAAAAAAAAAA")));
    seed("auth-refresh", W(0).call("auth.refresh", P(C::Refresh)));
    seed("auth-logout", W(1).call("auth.logout", ""));
    seed("auth-whoami", W(1).call("auth.whoami", ""));
    seed("auth-find_user", W(1).call("auth.find_user", P(C::PeerPhone)));
    seed("auth-update_profile", W(1).call("auth.update_profile", W::text("Renamed")));
    seed("rooms-open_direct", W(1).call("rooms.open_direct", P(C::Peer)));
    seed("rooms-create", W(1).call("rooms.create", W::text("team") + W::list({P(C::Peer)})));
    seed("rooms-get", W(1).call("rooms.get", P(C::Room)));
    seed("rooms-list", W(1).call("rooms.list", ""));
    seed("rooms-add_members", W(1).call("rooms.create", W::text("g") + W::list({}))
                                  .call("rooms.add_members", P(C::LastRoom) +
                                                                 W::list({P(C::Peer)})));
    seed("rooms-remove_member",
         W(1).call("rooms.create", W::text("g") + W::list({P(C::Peer)}))
             .call("rooms.remove_member", P(C::LastRoom) + P(C::Peer)));
    seed("rooms-leave", W(1).call("rooms.create", W::text("g") + W::list({P(C::Peer)}))
                            .call("rooms.leave", P(C::LastRoom)));
    seed("rooms-send", W(1).call("rooms.send", P(C::Room) + P(C::FreshUuid) +
                                                   W::text("hello \xc3\xa9")));
    seed("rooms-send-pipelined", W(1).call("rooms.send", P(C::Room) + P(C::FreshUuid) +
                                                             W::text("one"))
                                     .call("rooms.send", P(C::Room) + P(C::FreshUuid) +
                                                             W::text("two"), false)
                                     .call("rooms.history", P(C::Room) + W::num(0) +
                                                                W::num(0) + W::small(10), false));
    seed("rooms-history", W(1).call("rooms.history", P(C::Room) + W::num(0) + W::num(0) +
                                                         W::small(50)));
    seed("rooms-typing", W(1).call("rooms.typing", P(C::Room) + W::flag(true)));
    const std::string last_seq(1, '\x03');  // a ulong field: the last seq seen
    seed("receipts-mark_delivered",
         W(1).call("rooms.send", P(C::Room) + P(C::FreshUuid) + W::text("x"))
             .call("receipts.mark_delivered", P(C::LastRoom) + last_seq));
    seed("receipts-mark_read",
         W(1).call("rooms.send", P(C::Room) + P(C::FreshUuid) + W::text("x"))
             .call("receipts.mark_read", P(C::LastRoom) + last_seq)
             .call("receipts.unread", ""));
    seed("receipts-get", W(1).call("receipts.get", P(C::Room)));
    seed("receipts-unread", W(1).call("receipts.unread", ""));
    seed("echo-say", W(0).call("echo.say", W::text("hi")));
    seed("sys-ping", W(0).raw("sys.ping", ""));
    seed("sys-hello-again", W(0).raw("sys.hello", ""));
    seed("unknown-method", W(1).raw("rooms.nope", "x"));
    seed("unauthenticated", W(0).call("rooms.list", ""));
    seed("hangup-inflight", W(1 | 4).call("rooms.send", P(C::Room) + P(C::FreshUuid) +
                                                            W::text("bye"))
                                .call("receipts.mark_read", P(C::Room) + last_seq, false)
                                .call("auth.logout", "", false));
    seed("before-hello", W(2).call("echo.say", W::text("hi")));
    // A virtual connection gets the Envelope without prefix, aligned to its
    // own start.
    auto f = parley::kernel::encode_frame(parley::Kind::Request, 7, "echo.say", 0, "", {},
                                          parley::kernel::FrameLayout::Standalone);
    auto span = f->envelope();
    std::string env(span.begin(), span.end());
    if (env.find('\xff') == std::string::npos) seed("raw-envelope", W(0).envelope(env));
  }
  return 0;
}
