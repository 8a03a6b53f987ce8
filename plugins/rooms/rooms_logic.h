// Pure rules of the rooms plugin (PROTOCOL.md §6), free of the SDK and of
// storage so they are unit-tested without a server: request validation,
// roles and permissions, owner hand-off, storage key layout, record
// encodings and history cursor → scan range computation.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/errors.h"
#include "parley/rooms_generated.h"

namespace parley::rooms_plugin {

using Role = parley::rooms::Role;
using RoomKind = parley::rooms::RoomKind;

// A refusal: a protocol status (PARLEY_STATUS_*) and a readable reason.
struct Error {
  uint16_t status = PARLEY_STATUS_INTERNAL;
  std::string message;
};
// nullopt = allowed / valid.
using Check = std::optional<Error>;

// ---------------------------------------------------------- validation ---

inline constexpr size_t kMaxNameChars = 100;
inline constexpr size_t kMaxClientMsgIdBytes = 64;
inline constexpr uint32_t kDefaultHistoryLimit = 50;
inline constexpr uint32_t kMaxHistoryLimit = 200;

// `field` names the payload field in the message ("room_id must be ...").
Check validate_uuid(std::string_view value, const char* field);
// 1 to 100 characters (code points) of valid UTF-8.
Check validate_room_name(std::string_view name);
// 1 to max_bytes bytes of valid UTF-8.
Check validate_text(std::string_view text, size_t max_bytes);
// 1 to 64 bytes.
Check validate_client_msg_id(std::string_view id);

// ------------------------------------------------------------- members ---

struct Member {
  std::string user_id;
  Role role = Role::Member;
  uint64_t joined_at = 0;
};

// What is persisted of a room apart from its sequence state. Members are
// kept in join order, so the longest-standing member is the first one.
struct RoomRecord {
  std::string room_id;
  RoomKind kind = RoomKind::Group;
  std::string name;
  uint64_t created_at = 0;
  std::vector<Member> members;
};

const Member* find_member(const RoomRecord& room, std::string_view user_id);

// -------------------------------------------------------- permissions ---

// Non-members: PermissionDenied.
Check check_member(const RoomRecord& room, std::string_view user_id);
// Group only (FailedPrecondition for a direct room); actor Owner or Admin.
Check check_add_members(const RoomRecord& room, std::string_view actor);
// Group only; actor Owner or Admin; target a member (NotFound) and never
// the Owner (PermissionDenied).
Check check_remove_member(const RoomRecord& room, std::string_view actor,
                          std::string_view target);
// Group only; a member.
Check check_leave(const RoomRecord& room, std::string_view user_id);

// Adds the users that are not members yet, as plain Members joined at `now`,
// in the given order (duplicates ignored). Returns how many were added.
size_t add_members(RoomRecord& room, const std::vector<std::string>& user_ids,
                   uint64_t now);
// Removes user_id (no-op if absent); if the room then has members but no
// Owner, the longest-standing member (earliest joined_at, then earliest in
// join order) becomes Owner. Returns true if someone was removed.
bool remove_member_and_hand_off(RoomRecord& room, std::string_view user_id);

// The direct-room pair key: both ids in a fixed (sorted) order, so (a, b)
// and (b, a) name the same room.
std::string direct_pair(std::string_view a, std::string_view b);

// --------------------------------------------------------- key layout ---
//
// One storage namespace ("rooms"); the first byte says what a key is:
//   'R' room(36) 0x00        → RoomRecord (a parley.rooms.Room buffer)
//   'R' room(36) 0x01        → SeqState (last_seq u64 BE, last_activity u64 BE)
//   'M' room(36) seq(u64 BE) → a parley.rooms.Message buffer (as sent)
//   'D' sender(36) room(36) client_msg_id → seq (u64 BE): the send dedupe index
//   'U' user(36) room(36)    → "" : the rooms of a user
//   'P' pair(72)             → room_id: one direct room per unordered pair
// Ids are canonical UUIDs (fixed 36 bytes), so raw concatenation is
// unambiguous; big-endian seq makes a room's messages a contiguous, ordered
// range.

std::string room_prefix(std::string_view room_id);  // 'R' room
std::string room_record_key(std::string_view room_id);
std::string room_seq_key(std::string_view room_id);
std::string message_key(std::string_view room_id, uint64_t seq);
std::string dedupe_key(std::string_view sender, std::string_view room_id,
                       std::string_view client_msg_id);
std::string user_room_key(std::string_view user_id, std::string_view room_id);
std::string user_rooms_prefix(std::string_view user_id);
// The room id of a user_room_key, or "" for a malformed key.
std::string_view room_of_user_room_key(std::string_view key);
std::string pair_key(std::string_view a, std::string_view b);

// ------------------------------------------------------------ records ---

std::string encode_room_record(const RoomRecord& room);
std::optional<RoomRecord> decode_room_record(std::string_view bytes);

struct SeqState {
  uint64_t last_seq = 0;
  uint64_t last_activity = 0;
};
std::string encode_seq_state(const SeqState& s);
std::optional<SeqState> decode_seq_state(std::string_view bytes);

// Builds a Room table (with members and last_seq) into fbb, unfinished.
flatbuffers::Offset<parley::rooms::Room> build_room(
    flatbuffers::FlatBufferBuilder& fbb, const RoomRecord& room,
    uint64_t last_seq);

// A finished parley.rooms.Message buffer ("PROM"): the stored value, the
// send Response, the rooms.message event and the bus payload at once.
struct MessageFields {
  std::string_view message_id, room_id, sender_user_id, text, client_msg_id;
  uint64_t seq = 0;
  uint64_t created_at = 0;
};
std::string encode_message(const MessageFields& m);
// Verifies a stored/received Message buffer; nullptr if it is not one.
const parley::rooms::Message* verify_message(std::string_view bytes);
// Copies a verified Message into fbb (for MessageList).
flatbuffers::Offset<parley::rooms::Message> copy_message(
    flatbuffers::FlatBufferBuilder& fbb, const parley::rooms::Message& m);

// ------------------------------------------------------------ history ---

struct HistoryQuery {
  uint64_t before_seq = 0;
  uint64_t after_seq = 0;
  uint32_t limit = 0;  // 0: default
};

// One storage scan: keys in [start, end), forward or reverse, at most
// `fetch` items. fetch is limit + 1: the extra item only tells has_more.
struct ScanRange {
  std::string start, end;
  bool reverse = false;
  size_t limit = 0;  // what the caller returns at most
  size_t fetch = 0;  // what the scan asks for
  bool empty = false;  // nothing can match (e.g. before_seq <= 1)
};

uint32_t effective_limit(uint32_t requested);
// Cursor modes (§6): both 0 → the latest `limit` (reverse scan from the end);
// after_seq → the first `limit` after it (forward); before_seq → the last
// `limit` before it (reverse). Both set: the first `limit` strictly between
// them (forward).
ScanRange history_range(std::string_view room_id, const HistoryQuery& q);

// Turns scan results (in scan order) into the page: at most range.limit
// items in ascending seq order, and whether more lie beyond the page in the
// scan's direction.
template <class T>
std::vector<T> history_page(const ScanRange& range, std::vector<T> items,
                            bool* has_more) {
  *has_more = items.size() > range.limit;
  if (items.size() > range.limit) items.resize(range.limit);
  if (range.reverse) std::reverse(items.begin(), items.end());
  return items;
}

}  // namespace parley::rooms_plugin
