// Plain C++ values for the protocol's payload tables (PROTOCOL.md §4-§7).
// Field names are the protocol's own, so code reads like the spec. They carry
// no FlatBuffers types, so applications need not include generated headers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace parley::client {

// Envelope status codes (protocol/envelope.fbs), plus two client-side codes
// that never travel on the wire.
enum class Status : uint16_t {
  Ok = 0, InvalidArgument = 1, Unauthenticated = 2, PermissionDenied = 3,
  NotFound = 4, AlreadyExists = 5, ResourceExhausted = 6,
  FailedPrecondition = 7, Unimplemented = 8, Unavailable = 9, Internal = 10,
  Malformed = 11, FrameTooLarge = 12, Timeout = 13,
  // Client side: the connection was lost (or never made) before a Response.
  Disconnected = 1000,
  // Client side: the Response payload did not verify as the expected table.
  BadResponse = 1001,
};
const char* status_name(Status s);

struct User {
  std::string user_id, phone, display_name;
  uint64_t created_at = 0;
};

struct Session {
  User user;
  std::string token;
  uint64_t token_expires_at = 0;
  std::string refresh_token;
};

enum class RoomKind : uint8_t { Direct = 0, Group = 1 };
enum class Role : uint8_t { Member = 0, Admin = 1, Owner = 2 };

struct Member {
  std::string user_id;
  Role role = Role::Member;
  uint64_t joined_at = 0;
};

struct Room {
  std::string room_id;
  RoomKind kind = RoomKind::Direct;
  std::string name;
  std::vector<Member> members;
  uint64_t created_at = 0;
  uint64_t last_seq = 0;
};

struct Message {
  std::string message_id, room_id;
  uint64_t seq = 0;
  std::string sender_user_id, text;
  uint64_t created_at = 0;
  std::string client_msg_id;
};

struct MessageList {
  std::vector<Message> messages;
  bool has_more = false;
};

struct TypingEvent {
  std::string room_id, user_id;
  bool typing = false;
};

struct Receipt {
  std::string room_id, user_id;
  uint64_t read_seq = 0, delivered_seq = 0, updated_at = 0;
};

struct Unread {
  std::string room_id;
  uint64_t last_seq = 0, read_seq = 0, unread = 0;
};

struct Welcome {
  uint16_t protocol = 0;
  std::string server;
  uint32_t max_frame_bytes = 0;
  std::vector<std::string> methods;
};

// Empty response payloads (auth.logout, rooms.leave, receipts.mark_*, ...).
struct Empty {};

}  // namespace parley::client
