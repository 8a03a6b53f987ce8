// Payload FlatBuffers <-> the plain structs of types.hpp. Every decoder runs
// the Verifier with the namespace's file identifier before reading a field.
#include <flatbuffers/flatbuffers.h>

#include "parley/auth_generated.h"
#include "parley/client/client.hpp"
#include "parley/receipts_generated.h"
#include "parley/rooms_generated.h"
#include "parley/sys_generated.h"
#include "requests.h"

namespace parley::client {

namespace afb = parley::auth;
namespace rfb = parley::rooms;
namespace cfb = parley::receipts;

namespace {

std::string str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

std::vector<uint8_t> bytes(flatbuffers::FlatBufferBuilder& fbb) {
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

// The payload's root table T, verified with `ident`; nullptr if it fails.
// `payload` is a vector of its own, so its data is suitably aligned.
template <class T>
const T* root(const std::vector<uint8_t>& payload, const char* ident) {
  if (payload.size() < 8 || !flatbuffers::BufferHasIdentifier(payload.data(), ident))
    return nullptr;
  flatbuffers::Verifier verifier(payload.data(), payload.size());
  if (!verifier.VerifyBuffer<T>(ident)) return nullptr;
  return flatbuffers::GetRoot<T>(payload.data());
}

User to_user(const afb::User* u) {
  User out;
  if (!u) return out;
  out.user_id = str(u->user_id());
  out.phone = str(u->phone());
  out.display_name = str(u->display_name());
  out.created_at = u->created_at();
  return out;
}

Room to_room(const rfb::Room* r) {
  Room out;
  out.room_id = str(r->room_id());
  out.kind = static_cast<RoomKind>(r->kind());
  out.name = str(r->name());
  out.created_at = r->created_at();
  out.last_seq = r->last_seq();
  if (r->members()) {
    for (const auto* m : *r->members()) {
      out.members.push_back({str(m->user_id()), static_cast<Role>(m->role()), m->joined_at()});
    }
  }
  return out;
}

Message to_message(const rfb::Message* m) {
  Message out;
  out.message_id = str(m->message_id());
  out.room_id = str(m->room_id());
  out.seq = m->seq();
  out.sender_user_id = str(m->sender_user_id());
  out.text = str(m->text());
  out.created_at = m->created_at();
  out.client_msg_id = str(m->client_msg_id());
  return out;
}

Receipt to_receipt(const cfb::Receipt* r) {
  return {str(r->room_id()), str(r->user_id()), r->read_seq(), r->delivered_seq(),
          r->updated_at()};
}

std::vector<flatbuffers::Offset<flatbuffers::String>> strings(
    flatbuffers::FlatBufferBuilder& fbb, const std::vector<std::string>& in) {
  std::vector<flatbuffers::Offset<flatbuffers::String>> out;
  for (const auto& s : in) out.push_back(fbb.CreateString(s));
  return out;
}

}  // namespace

const char* status_name(Status s) {
  switch (s) {
    case Status::Ok: return "Ok";
    case Status::InvalidArgument: return "InvalidArgument";
    case Status::Unauthenticated: return "Unauthenticated";
    case Status::PermissionDenied: return "PermissionDenied";
    case Status::NotFound: return "NotFound";
    case Status::AlreadyExists: return "AlreadyExists";
    case Status::ResourceExhausted: return "ResourceExhausted";
    case Status::FailedPrecondition: return "FailedPrecondition";
    case Status::Unimplemented: return "Unimplemented";
    case Status::Unavailable: return "Unavailable";
    case Status::Internal: return "Internal";
    case Status::Malformed: return "Malformed";
    case Status::FrameTooLarge: return "FrameTooLarge";
    case Status::Timeout: return "Timeout";
    case Status::Disconnected: return "Disconnected";
    case Status::BadResponse: return "BadResponse";
  }
  return "Unknown";
}

namespace codec {

std::vector<uint8_t> hello(const std::string& client_name) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(parley::sys::CreateHelloDirect(fbb, 1, client_name.c_str()), "PSYS");
  return bytes(fbb);
}

std::vector<uint8_t> send(const std::string& room_id, const std::string& client_msg_id,
                          const std::string& text) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(rfb::CreateSendDirect(fbb, room_id.c_str(), client_msg_id.c_str(), text.c_str()),
             "PROM");
  return bytes(fbb);
}

std::vector<uint8_t> history(const std::string& room_id, uint64_t before_seq,
                             uint64_t after_seq, uint16_t limit) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(rfb::CreateHistoryDirect(fbb, room_id.c_str(), before_seq, after_seq, limit),
             "PROM");
  return bytes(fbb);
}

std::optional<Session> session(const std::vector<uint8_t>& payload) {
  const auto* s = root<afb::Session>(payload, "PAUT");
  if (!s) return std::nullopt;
  return Session{to_user(s->user()), str(s->token()), s->token_expires_at(),
                 str(s->refresh_token())};
}

std::optional<User> user(const std::vector<uint8_t>& payload) {
  const auto* u = root<afb::User>(payload, "PAUT");
  if (!u) return std::nullopt;
  return to_user(u);
}

std::optional<Room> room(const std::vector<uint8_t>& payload) {
  const auto* r = root<rfb::Room>(payload, "PROM");
  if (!r) return std::nullopt;
  return to_room(r);
}

std::optional<std::vector<Room>> room_list(const std::vector<uint8_t>& payload) {
  const auto* l = root<rfb::RoomList>(payload, "PROM");
  if (!l) return std::nullopt;
  std::vector<Room> out;
  if (l->rooms())
    for (const auto* r : *l->rooms()) out.push_back(to_room(r));
  return out;
}

std::optional<Message> message(const std::vector<uint8_t>& payload) {
  const auto* m = root<rfb::Message>(payload, "PROM");
  if (!m) return std::nullopt;
  return to_message(m);
}

std::optional<MessageList> message_list(const std::vector<uint8_t>& payload) {
  const auto* l = root<rfb::MessageList>(payload, "PROM");
  if (!l) return std::nullopt;
  MessageList out;
  out.has_more = l->has_more();
  if (l->messages())
    for (const auto* m : *l->messages()) out.messages.push_back(to_message(m));
  return out;
}

std::optional<TypingEvent> typing_event(const std::vector<uint8_t>& payload) {
  const auto* t = root<rfb::TypingEvent>(payload, "PROM");
  if (!t) return std::nullopt;
  return TypingEvent{str(t->room_id()), str(t->user_id()), t->typing()};
}

std::optional<Receipt> receipt(const std::vector<uint8_t>& payload) {
  const auto* r = root<cfb::Receipt>(payload, "PRCP");
  if (!r) return std::nullopt;
  return to_receipt(r);
}

std::optional<std::vector<Receipt>> receipt_list(const std::vector<uint8_t>& payload) {
  const auto* l = root<cfb::ReceiptList>(payload, "PRCP");
  if (!l) return std::nullopt;
  std::vector<Receipt> out;
  if (l->receipts())
    for (const auto* r : *l->receipts()) out.push_back(to_receipt(r));
  return out;
}

std::optional<std::vector<Unread>> unread_list(const std::vector<uint8_t>& payload) {
  const auto* l = root<cfb::UnreadList>(payload, "PRCP");
  if (!l) return std::nullopt;
  std::vector<Unread> out;
  if (l->rooms())
    for (const auto* u : *l->rooms())
      out.push_back({str(u->room_id()), u->last_seq(), u->read_seq(), u->unread()});
  return out;
}

std::optional<Welcome> welcome(const std::vector<uint8_t>& payload) {
  const auto* w = root<parley::sys::Welcome>(payload, "PSYS");
  if (!w) return std::nullopt;
  Welcome out;
  out.protocol = w->protocol();
  out.server = str(w->server());
  out.max_frame_bytes = w->max_frame_bytes();
  if (w->methods())
    for (const auto* m : *w->methods()) out.methods.push_back(m->str());
  return out;
}

}  // namespace codec

namespace requests {

std::vector<uint8_t> register_user(const std::string& phone, const std::string& password,
                                   const std::string& display_name) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(afb::CreateRegisterDirect(fbb, phone.c_str(), password.c_str(),
                                       display_name.c_str()),
             "PAUT");
  return bytes(fbb);
}

std::vector<uint8_t> login(const std::string& phone, const std::string& password) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(afb::CreateLoginDirect(fbb, phone.c_str(), password.c_str()), "PAUT");
  return bytes(fbb);
}

std::vector<uint8_t> resume(const std::string& token) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(afb::CreateResumeDirect(fbb, token.c_str()), "PAUT");
  return bytes(fbb);
}

std::vector<uint8_t> refresh(const std::string& refresh_token) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(afb::CreateRefreshDirect(fbb, refresh_token.c_str()), "PAUT");
  return bytes(fbb);
}

std::vector<uint8_t> find_user(const std::string& phone) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(afb::CreateFindUserDirect(fbb, phone.c_str()), "PAUT");
  return bytes(fbb);
}

std::vector<uint8_t> profile(const std::string& display_name) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(afb::CreateProfileDirect(fbb, display_name.c_str()), "PAUT");
  return bytes(fbb);
}

std::vector<uint8_t> open_direct(const std::string& peer_user_id) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(rfb::CreateOpenDirectDirect(fbb, peer_user_id.c_str()), "PROM");
  return bytes(fbb);
}

std::vector<uint8_t> create(const std::string& name, const std::vector<std::string>& members) {
  flatbuffers::FlatBufferBuilder fbb;
  auto ids = strings(fbb, members);
  fbb.Finish(rfb::CreateCreateDirect(fbb, name.c_str(), &ids), "PROM");
  return bytes(fbb);
}

std::vector<uint8_t> room_ref(const std::string& room_id) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(rfb::CreateRoomRefDirect(fbb, room_id.c_str()), "PROM");
  return bytes(fbb);
}

std::vector<uint8_t> add_members(const std::string& room_id,
                                 const std::vector<std::string>& user_ids) {
  flatbuffers::FlatBufferBuilder fbb;
  auto ids = strings(fbb, user_ids);
  fbb.Finish(rfb::CreateAddMembersDirect(fbb, room_id.c_str(), &ids), "PROM");
  return bytes(fbb);
}

std::vector<uint8_t> remove_member(const std::string& room_id, const std::string& user_id) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(rfb::CreateRemoveMemberDirect(fbb, room_id.c_str(), user_id.c_str()), "PROM");
  return bytes(fbb);
}

std::vector<uint8_t> typing(const std::string& room_id, bool typing) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(rfb::CreateTypingDirect(fbb, room_id.c_str(), typing), "PROM");
  return bytes(fbb);
}

std::vector<uint8_t> mark(const std::string& room_id, uint64_t seq) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(cfb::CreateMarkDirect(fbb, room_id.c_str(), seq), "PRCP");
  return bytes(fbb);
}

std::vector<uint8_t> receipts_ref(const std::string& room_id) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(cfb::CreateRoomRefDirect(fbb, room_id.c_str()), "PRCP");
  return bytes(fbb);
}

}  // namespace requests
}  // namespace parley::client
