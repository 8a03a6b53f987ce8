/*
 * The `rooms` service, version 1: room membership and sequence numbers for
 * other plugins (receipts uses it to validate members, clamp watermarks and
 * list a user's rooms). Exported by the rooms plugin; look it up with
 *   get_service(PARLEY_ROOMS_SERVICE, PARLEY_ROOMS_VERSION)
 * in on_all_loaded (declare "rooms" in requires_services). Other plugins
 * never read the rooms plugin's storage: this service and the bus topics
 * below are the whole interface.
 *
 * THREAD: every call is made on the loop thread.
 *
 * CALLBACKS: each call that takes a callback returns 0 and then calls cb
 * exactly once on the loop thread, or returns a negative error (PARLEY_EINVAL
 * for a malformed id or NULL cb) and never calls cb. The rooms plugin keeps
 * the rooms it serves in a bounded in-memory cache, so:
 *   - when the answer is in memory, cb runs BEFORE the call returns
 *     (no loop round trip on the hot path; do not hold a lock across it);
 *   - otherwise cb runs later, after a read from storage.
 * Statuses passed to cb: 0; PARLEY_ENOENT (no such room); PARLEY_EUNAVAIL
 * (storage failed); PARLEY_ECANCELED (shutting down).
 *
 * OWNERSHIP: everything passed to a callback is borrowed for the duration of
 * the callback; copy what you keep. Strings are NUL-terminated UTF-8; ids are
 * canonical lowercase UUIDs.
 *
 * CONSISTENCY: answers reflect every change whose Response has been sent
 * (a message's seq is counted in last_seq once it is durable; a membership
 * change once it is durable), so last_seq never names a message that a
 * history read could miss.
 *
 * BUS TOPICS (plugin bus, PROTOCOL.md payloads in the rooms schema
 * `plugins/rooms/rooms.fbs`, namespace parley.rooms, file identifier "PROM";
 * verify with flatbuffers::Verifier::VerifyBuffer<T>("PROM")). Published by
 * the rooms plugin after the change is durable, in commit order; within a
 * room, in seq order. Subscribe with on_topic() in init.
 *
 *   PARLEY_ROOMS_TOPIC_MESSAGE_STORED  "rooms.message_stored"
 *       payload: parley.rooms.Message (the stored message, as sent in the
 *       rooms.message event: message_id, room_id, seq, sender_user_id, text,
 *       created_at, client_msg_id). seq == the room's new last_seq. A
 *       deduplicated resend publishes nothing.
 *
 *   PARLEY_ROOMS_TOPIC_ROOM_CHANGED  "rooms.room_changed"
 *       payload: parley.rooms.Room with the complete member list AFTER the
 *       change (and last_seq at that moment). Published when a room is
 *       created (open_direct creating a new pair, create) and when its
 *       membership changes (add_members, remove_member, leave, owner
 *       hand-off). A user who is in a previous Room of the same room_id but
 *       not in this one has left or been removed.
 *
 * Bus delivery is asynchronous (PROTOCOL: "runs later on the loop"), so a
 * client may act on a rooms.message event before a subscriber has seen the
 * topic. A plugin that must not fall behind (receipts clamping a watermark
 * to last_seq) asks get_room(), which answers from memory for any active
 * room.
 */
#ifndef PARLEY_SERVICES_ROOMS_H
#define PARLEY_SERVICES_ROOMS_H

#include <stddef.h>
#include <stdint.h>

#include "../plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PARLEY_ROOMS_SERVICE "rooms"
#define PARLEY_ROOMS_VERSION 1u

#define PARLEY_ROOMS_TOPIC_MESSAGE_STORED "rooms.message_stored"
#define PARLEY_ROOMS_TOPIC_ROOM_CHANGED "rooms.room_changed"

/* parley.rooms.RoomKind and parley.rooms.Role values. */
#define PARLEY_ROOM_KIND_DIRECT 0u
#define PARLEY_ROOM_KIND_GROUP 1u
#define PARLEY_ROOM_ROLE_MEMBER 0u
#define PARLEY_ROOM_ROLE_ADMIN 1u
#define PARLEY_ROOM_ROLE_OWNER 2u

/* One room as the rooms plugin knows it now. Borrowed for the callback;
 * every array has member_count entries, in join order (longest-standing
 * member first). Check struct_size before reading fields added later. */
typedef struct parley_room_info {
  uint32_t struct_size;
  const char *room_id;
  uint8_t kind;                       /* PARLEY_ROOM_KIND_* */
  const char *name;                   /* "" for direct rooms */
  uint64_t created_at;                /* Unix ms */
  uint64_t last_seq;                  /* seq of the newest durable message, 0 if none */
  uint64_t last_activity;             /* Unix ms of the newest message, or created_at */
  size_t member_count;
  const char *const *member_user_ids; /* [member_count] */
  const uint8_t *member_roles;        /* [member_count], PARLEY_ROOM_ROLE_* */
  const uint64_t *member_joined_at;   /* [member_count], Unix ms */
  void *reserved[6];
} parley_room_info;

/* status 0 and room (borrowed), or an error and room == NULL. */
typedef void (*parley_room_cb)(void *ud, int status,
                               const parley_room_info *room);
/* status 0 and is_member 1/0 (with the member's role when 1), or an error
 * (PARLEY_ENOENT: no such room). */
typedef void (*parley_room_member_cb)(void *ud, int status, int is_member,
                                      uint8_t role);
/* status 0 and rooms[0..n) (each borrowed), newest activity first, or an
 * error and n == 0. */
typedef void (*parley_room_list_cb)(void *ud, int status,
                                    const parley_room_info *const *rooms,
                                    size_t n);

typedef struct parley_rooms_v1 {
  uint32_t struct_size;

  /* The room with its members and last_seq. */
  int (*get_room)(const char *room_id, parley_room_cb cb, void *ud);

  /* Whether user_id is a member of room_id now. */
  int (*is_member)(const char *room_id, const char *user_id,
                   parley_room_member_cb cb, void *ud);

  /* Every room user_id is a member of (possibly none), newest activity
   * first. */
  int (*rooms_of_user)(const char *user_id, parley_room_list_cb cb, void *ud);

  void *reserved[8];
} parley_rooms_v1;

#ifdef __cplusplus
}
#endif

#endif /* PARLEY_SERVICES_ROOMS_H */
