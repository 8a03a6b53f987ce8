#include "rooms_logic.h"

#include <algorithm>

#include "parley/util/keys.hpp"
#include "parley/util/utf8.hpp"
#include "parley/util/uuid.hpp"

namespace parley::rooms_plugin {

namespace {

Error err(uint16_t status, std::string message) {
  return Error{status, std::move(message)};
}

bool is_group(const RoomRecord& room) { return room.kind == RoomKind::Group; }

bool can_manage(const Member* m) {
  return m && (m->role == Role::Owner || m->role == Role::Admin);
}

}  // namespace

// ---------------------------------------------------------- validation ---

Check validate_uuid(std::string_view value, const char* field) {
  if (!util::is_canonical_uuid(value))
    return err(PARLEY_STATUS_INVALID_ARGUMENT,
               std::string(field) + " must be a canonical lowercase UUID");
  return std::nullopt;
}

Check validate_room_name(std::string_view name) {
  long chars = util::utf8_length(name);
  if (chars < 0) return err(PARLEY_STATUS_INVALID_ARGUMENT, "name is not valid UTF-8");
  if (chars < 1 || static_cast<size_t>(chars) > kMaxNameChars)
    return err(PARLEY_STATUS_INVALID_ARGUMENT, "name must be 1 to 100 characters");
  return std::nullopt;
}

Check validate_text(std::string_view text, size_t max_bytes) {
  if (text.empty() || text.size() > max_bytes)
    return err(PARLEY_STATUS_INVALID_ARGUMENT,
               "text must be 1 to " + std::to_string(max_bytes) + " bytes");
  if (!util::utf8_valid(text))
    return err(PARLEY_STATUS_INVALID_ARGUMENT, "text is not valid UTF-8");
  return std::nullopt;
}

Check validate_client_msg_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxClientMsgIdBytes)
    return err(PARLEY_STATUS_INVALID_ARGUMENT, "client_msg_id must be 1 to 64 bytes");
  return std::nullopt;
}

// ------------------------------------------------------------- members ---

const Member* find_member(const RoomRecord& room, std::string_view user_id) {
  for (const Member& m : room.members)
    if (m.user_id == user_id) return &m;
  return nullptr;
}

Check check_member(const RoomRecord& room, std::string_view user_id) {
  if (!find_member(room, user_id))
    return err(PARLEY_STATUS_PERMISSION_DENIED, "not a member of this room");
  return std::nullopt;
}

Check check_add_members(const RoomRecord& room, std::string_view actor) {
  const Member* me = find_member(room, actor);
  if (!me) return err(PARLEY_STATUS_PERMISSION_DENIED, "not a member of this room");
  if (!is_group(room))
    return err(PARLEY_STATUS_FAILED_PRECONDITION, "a direct room has exactly two members");
  if (!can_manage(me))
    return err(PARLEY_STATUS_PERMISSION_DENIED, "only an Owner or Admin may add members");
  return std::nullopt;
}

Check check_remove_member(const RoomRecord& room, std::string_view actor,
                          std::string_view target) {
  const Member* me = find_member(room, actor);
  if (!me) return err(PARLEY_STATUS_PERMISSION_DENIED, "not a member of this room");
  if (!is_group(room))
    return err(PARLEY_STATUS_FAILED_PRECONDITION, "a direct room has exactly two members");
  if (!can_manage(me))
    return err(PARLEY_STATUS_PERMISSION_DENIED, "only an Owner or Admin may remove members");
  const Member* t = find_member(room, target);
  if (!t) return err(PARLEY_STATUS_NOT_FOUND, "user_id is not a member of this room");
  if (t->role == Role::Owner)
    return err(PARLEY_STATUS_PERMISSION_DENIED, "the Owner cannot be removed");
  return std::nullopt;
}

Check check_leave(const RoomRecord& room, std::string_view user_id) {
  if (!find_member(room, user_id))
    return err(PARLEY_STATUS_PERMISSION_DENIED, "not a member of this room");
  if (!is_group(room))
    return err(PARLEY_STATUS_FAILED_PRECONDITION, "a direct room cannot be left");
  return std::nullopt;
}

size_t add_members(RoomRecord& room, const std::vector<std::string>& user_ids,
                   uint64_t now) {
  size_t added = 0;
  for (const std::string& id : user_ids) {
    if (find_member(room, id)) continue;
    room.members.push_back(Member{id, Role::Member, now});
    ++added;
  }
  return added;
}

bool remove_member_and_hand_off(RoomRecord& room, std::string_view user_id) {
  auto it = std::find_if(room.members.begin(), room.members.end(),
                         [&](const Member& m) { return m.user_id == user_id; });
  if (it == room.members.end()) return false;
  room.members.erase(it);
  if (room.members.empty() || !is_group(room)) return true;
  bool has_owner = std::any_of(room.members.begin(), room.members.end(),
                               [](const Member& m) { return m.role == Role::Owner; });
  if (!has_owner) {
    // min_element keeps the first of equal joined_at: join order breaks ties.
    auto longest = std::min_element(
        room.members.begin(), room.members.end(),
        [](const Member& a, const Member& b) { return a.joined_at < b.joined_at; });
    longest->role = Role::Owner;
  }
  return true;
}

std::string direct_pair(std::string_view a, std::string_view b) {
  if (b < a) std::swap(a, b);
  std::string out;
  out.reserve(a.size() + b.size());
  out.append(a).append(b);
  return out;
}

// --------------------------------------------------------- key layout ---

std::string room_prefix(std::string_view room_id) {
  return keys::KeyBuilder().u8('R').raw(room_id).done();
}
std::string room_record_key(std::string_view room_id) {
  return keys::KeyBuilder().u8('R').raw(room_id).u8(0).done();
}
std::string room_seq_key(std::string_view room_id) {
  return keys::KeyBuilder().u8('R').raw(room_id).u8(1).done();
}
std::string message_key(std::string_view room_id, uint64_t seq) {
  return keys::KeyBuilder().u8('M').raw(room_id).u64(seq).done();
}
std::string dedupe_key(std::string_view sender, std::string_view room_id,
                       std::string_view client_msg_id) {
  return keys::KeyBuilder().u8('D').raw(sender).raw(room_id).raw(client_msg_id).done();
}
std::string user_room_key(std::string_view user_id, std::string_view room_id) {
  return keys::KeyBuilder().u8('U').raw(user_id).raw(room_id).done();
}
std::string user_rooms_prefix(std::string_view user_id) {
  return keys::KeyBuilder().u8('U').raw(user_id).done();
}
std::string_view room_of_user_room_key(std::string_view key) {
  if (key.size() != 1 + 36 + 36 || key[0] != 'U') return {};
  return key.substr(1 + 36);
}
std::string pair_key(std::string_view a, std::string_view b) {
  return keys::KeyBuilder().u8('P').raw(direct_pair(a, b)).done();
}

// ------------------------------------------------------------ records ---

flatbuffers::Offset<parley::rooms::Room> build_room(
    flatbuffers::FlatBufferBuilder& fbb, const RoomRecord& room,
    uint64_t last_seq) {
  std::vector<flatbuffers::Offset<parley::rooms::Member>> members;
  members.reserve(room.members.size());
  for (const Member& m : room.members)
    members.push_back(parley::rooms::CreateMember(fbb, fbb.CreateString(m.user_id),
                                                  m.role, m.joined_at));
  auto room_id = fbb.CreateString(room.room_id);
  auto name = fbb.CreateString(room.name);
  auto mv = fbb.CreateVector(members);
  return parley::rooms::CreateRoom(fbb, room_id, room.kind, name, mv,
                                   room.created_at, last_seq);
}

std::string encode_room_record(const RoomRecord& room) {
  flatbuffers::FlatBufferBuilder fbb(256 + room.members.size() * 64);
  fbb.Finish(build_room(fbb, room, 0), parley::rooms::RoomIdentifier());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                     fbb.GetSize());
}

std::optional<RoomRecord> decode_room_record(std::string_view bytes) {
  flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!parley::rooms::VerifyRoomBuffer(v)) return std::nullopt;
  auto* r = parley::rooms::GetRoom(bytes.data());
  RoomRecord out;
  if (r->room_id()) out.room_id = r->room_id()->str();
  out.kind = r->kind();
  if (r->name()) out.name = r->name()->str();
  out.created_at = r->created_at();
  if (r->members()) {
    out.members.reserve(r->members()->size());
    for (const auto* m : *r->members()) {
      if (!m->user_id()) continue;
      out.members.push_back(Member{m->user_id()->str(), m->role(), m->joined_at()});
    }
  }
  return out;
}

std::string encode_seq_state(const SeqState& s) {
  return keys::KeyBuilder().u64(s.last_seq).u64(s.last_activity).done();
}

std::optional<SeqState> decode_seq_state(std::string_view bytes) {
  if (bytes.size() != 16) return std::nullopt;
  return SeqState{*keys::decode_u64(bytes.substr(0, 8)),
                  *keys::decode_u64(bytes.substr(8, 8))};
}

std::string encode_message(const MessageFields& m) {
  flatbuffers::FlatBufferBuilder fbb(256 + m.text.size());
  auto id = fbb.CreateString(m.message_id.data(), m.message_id.size());
  auto room = fbb.CreateString(m.room_id.data(), m.room_id.size());
  auto sender = fbb.CreateString(m.sender_user_id.data(), m.sender_user_id.size());
  auto text = fbb.CreateString(m.text.data(), m.text.size());
  auto cmid = fbb.CreateString(m.client_msg_id.data(), m.client_msg_id.size());
  fbb.Finish(parley::rooms::CreateMessage(fbb, id, room, m.seq, sender, text,
                                          m.created_at, cmid),
             parley::rooms::RoomIdentifier());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                     fbb.GetSize());
}

const parley::rooms::Message* verify_message(std::string_view bytes) {
  auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  flatbuffers::Verifier v(p, bytes.size());
  if (!v.VerifyBuffer<parley::rooms::Message>(parley::rooms::RoomIdentifier()))
    return nullptr;
  return flatbuffers::GetRoot<parley::rooms::Message>(p);
}

flatbuffers::Offset<parley::rooms::Message> copy_message(
    flatbuffers::FlatBufferBuilder& fbb, const parley::rooms::Message& m) {
  auto s = [&](const flatbuffers::String* v) {
    return v ? fbb.CreateString(v->c_str(), v->size()) : fbb.CreateString("");
  };
  auto id = s(m.message_id());
  auto room = s(m.room_id());
  auto sender = s(m.sender_user_id());
  auto text = s(m.text());
  auto cmid = s(m.client_msg_id());
  return parley::rooms::CreateMessage(fbb, id, room, m.seq(), sender, text,
                                      m.created_at(), cmid);
}

// ------------------------------------------------------------ history ---

uint32_t effective_limit(uint32_t requested) {
  if (requested == 0) return kDefaultHistoryLimit;
  return std::min(requested, kMaxHistoryLimit);
}

ScanRange history_range(std::string_view room_id, const HistoryQuery& q) {
  ScanRange r;
  r.limit = effective_limit(q.limit);
  r.fetch = r.limit + 1;
  // Messages of a room are seq 1..; [M room 0, M room UINT64_MAX] bounds
  // them and nothing else shares the prefix.
  const std::string first = message_key(room_id, 0);
  const std::string past_end = keys::prefix_successor(keys::KeyBuilder().u8('M').raw(room_id).view());
  if (q.after_seq == 0 && q.before_seq == 0) {
    r.start = first;
    r.end = past_end;
    r.reverse = true;
  } else if (q.before_seq == 0) {
    if (q.after_seq == UINT64_MAX) r.empty = true;
    r.start = message_key(room_id, q.after_seq + (q.after_seq == UINT64_MAX ? 0 : 1));
    r.end = past_end;
    r.reverse = false;
  } else if (q.after_seq == 0) {
    if (q.before_seq <= 1) r.empty = true;
    r.start = first;
    r.end = message_key(room_id, q.before_seq);
    r.reverse = true;
  } else {
    if (q.after_seq == UINT64_MAX || q.after_seq + 1 >= q.before_seq) r.empty = true;
    r.start = message_key(room_id, q.after_seq == UINT64_MAX ? q.after_seq : q.after_seq + 1);
    r.end = message_key(room_id, q.before_seq);
    r.reverse = false;
  }
  return r;
}

}  // namespace parley::rooms_plugin
