#include "rooms_service.h"

#include <exception>
#include <vector>

#include "parley/util/uuid.hpp"
#include "rooms_plugin.h"

namespace parley::rooms_plugin {

namespace {

// Borrowed C views of one room, alive while this object is.
struct InfoView {
  parley_room_info info{};
  std::vector<const char*> ids;
  std::vector<uint8_t> roles;
  std::vector<uint64_t> joined;

  InfoView(const RoomRecord& rec, const SeqState& seq) {
    for (const Member& m : rec.members) {
      ids.push_back(m.user_id.c_str());
      roles.push_back(static_cast<uint8_t>(m.role));
      joined.push_back(m.joined_at);
    }
    info.struct_size = sizeof info;
    info.room_id = rec.room_id.c_str();
    info.kind = static_cast<uint8_t>(rec.kind);
    info.name = rec.name.c_str();
    info.created_at = rec.created_at;
    info.last_seq = seq.last_seq;
    info.last_activity = seq.last_activity;
    info.member_count = rec.members.size();
    info.member_user_ids = ids.data();
    info.member_roles = roles.data();
    info.member_joined_at = joined.data();
  }
};

bool valid_id(const char* s) { return s && util::is_canonical_uuid(s); }

// No C++ exception may cross into the calling plugin: a failure to even
// start the lookup (storage not ready, allocation) becomes EUNAVAIL, and cb
// is then not called (the rooms.h contract for a negative return).
template <class F>
int guard_call(F&& f) {
  try {
    f();
    return 0;
  } catch (...) {
    return PARLEY_EUNAVAIL;
  }
}

int get_room(const char* room_id, parley_room_cb cb, void* ud) {
  RoomsPlugin* p = RoomsPlugin::instance();
  if (!p) return PARLEY_EUNAVAIL;
  if (!cb || !valid_id(room_id)) return PARLEY_EINVAL;
  return guard_call([&] {
    p->with_room(room_id, [cb, ud](int st, RoomEntry* e) {
      if (st != 0) return cb(ud, st, nullptr);
      InfoView v(e->rec, e->seq);
      cb(ud, 0, &v.info);
    });
  });
}

int is_member(const char* room_id, const char* user_id, parley_room_member_cb cb,
              void* ud) {
  RoomsPlugin* p = RoomsPlugin::instance();
  if (!p) return PARLEY_EUNAVAIL;
  if (!cb || !valid_id(room_id) || !valid_id(user_id)) return PARLEY_EINVAL;
  std::string user(user_id);
  return guard_call([&] {
    p->with_room(room_id, [cb, ud, user](int st, RoomEntry* e) {
      if (st != 0) return cb(ud, st, 0, 0);
      const Member* m = find_member(e->rec, user);
      cb(ud, 0, m ? 1 : 0, m ? static_cast<uint8_t>(m->role) : 0);
    });
  });
}

int rooms_of_user(const char* user_id, parley_room_list_cb cb, void* ud) {
  RoomsPlugin* p = RoomsPlugin::instance();
  if (!p) return PARLEY_EUNAVAIL;
  if (!cb || !valid_id(user_id)) return PARLEY_EINVAL;
  return guard_call([&] {
    p->rooms_of(user_id, [cb, ud](int st, std::vector<RoomSnapshot> rooms) {
      if (st != 0) return cb(ud, st, nullptr, 0);
      std::vector<InfoView> views;
      views.reserve(rooms.size());
      for (const RoomSnapshot& r : rooms) views.emplace_back(r.rec, r.seq);
      std::vector<const parley_room_info*> ptrs;
      ptrs.reserve(views.size());
      for (const InfoView& v : views) ptrs.push_back(&v.info);
      cb(ud, 0, ptrs.data(), ptrs.size());
    });
  });
}

}  // namespace

parley_rooms_v1 make_rooms_service() {
  parley_rooms_v1 s{};
  s.struct_size = sizeof s;
  s.get_room = &get_room;
  s.is_member = &is_member;
  s.rooms_of_user = &rooms_of_user;
  return s;
}

}  // namespace parley::rooms_plugin
