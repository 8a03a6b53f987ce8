// Test plugin `roomsprobe`: a consumer of the rooms service v1 and of the
// rooms bus topics, the way the receipts plugin will be one. Methods:
//   roomsprobe.get_room  (rooms.RoomRef) → rooms.Room built from get_room()
//   roomsprobe.is_member (rooms.RemoveMember: room_id, user_id) → rooms.Member
//                        (role) or NotFound when not a member
//   roomsprobe.rooms     (empty) → rooms.RoomList from rooms_of_user(caller)
//   roomsprobe.last_message (empty) → the last rooms.message_stored payload
//   roomsprobe.last_room    (empty) → the last rooms.room_changed payload
// Configure: `roomsprobe: {path: <build>/lib/parley/test-plugins/libroomsprobe.so}`.
#include <string>
#include <vector>

#include "parley/plugin.hpp"
#include "parley/rooms_generated.h"
#include "parley/services/rooms.hpp"

namespace {

namespace rfb = parley::rooms;

flatbuffers::Offset<rfb::Room> room_from_info(flatbuffers::FlatBufferBuilder& fbb,
                                              const parley_room_info& r) {
  std::vector<flatbuffers::Offset<rfb::Member>> members;
  for (size_t i = 0; i < r.member_count; ++i)
    members.push_back(rfb::CreateMember(fbb, fbb.CreateString(r.member_user_ids[i]),
                                        static_cast<rfb::Role>(r.member_roles[i]),
                                        r.member_joined_at[i]));
  auto id = fbb.CreateString(r.room_id);
  auto name = fbb.CreateString(r.name);
  auto mv = fbb.CreateVector(members);
  return rfb::CreateRoom(fbb, id, static_cast<rfb::RoomKind>(r.kind), name, mv, r.created_at,
                         r.last_seq);
}

void reply_error(parley::Deferred& d, int status) {
  d.error(status == PARLEY_ENOENT ? PARLEY_STATUS_NOT_FOUND
          : status == PARLEY_EINVAL ? PARLEY_STATUS_INVALID_ARGUMENT
                                    : PARLEY_STATUS_UNAVAILABLE,
          parley_strerror(status));
}

class RoomsProbe : public parley::Plugin {
 public:
  static constexpr const char* kName = "roomsprobe";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr const char* kRequires[] = {"rooms", nullptr};

  void init(const parley::Config&) override {
    method("roomsprobe.get_room", [this](parley::Request& req, parley::span<const uint8_t> p) {
      auto* ref = parley::verify_payload<rfb::RoomRef>(p, "PROM");
      std::string id = ref && ref->room_id() ? ref->room_id()->str() : "";
      auto d = req.defer();
      rooms_.get_room(id, [d](int st, const parley_room_info* r) mutable {
        if (st != 0) return reply_error(d, st);
        flatbuffers::FlatBufferBuilder fbb;
        fbb.Finish(room_from_info(fbb, *r), "PROM");
        d.reply(fbb);
      });
    });
    method("roomsprobe.is_member", [this](parley::Request& req, parley::span<const uint8_t> p) {
      auto* m = parley::verify_payload<rfb::RemoveMember>(p, "PROM");
      std::string room = m && m->room_id() ? m->room_id()->str() : "";
      std::string user = m && m->user_id() ? m->user_id()->str() : "";
      auto d = req.defer();
      rooms_.is_member(room, user, [d, user](int st, bool is, uint8_t role) mutable {
        if (st != 0) return reply_error(d, st);
        if (!is) return reply_error(d, PARLEY_ENOENT);
        flatbuffers::FlatBufferBuilder fbb;
        fbb.Finish(rfb::CreateMemberDirect(fbb, user.c_str(), static_cast<rfb::Role>(role)),
                   "PROM");
        d.reply(fbb);
      });
    });
    method("roomsprobe.rooms", [this](parley::Request& req, parley::span<const uint8_t>) {
      auto d = req.defer();
      rooms_.rooms_of_user(d.user(), [d](int st, const parley_room_info* const* rooms,
                                         size_t n) mutable {
        if (st != 0) return reply_error(d, st);
        flatbuffers::FlatBufferBuilder fbb;
        std::vector<flatbuffers::Offset<rfb::Room>> offs;
        for (size_t i = 0; i < n; ++i) offs.push_back(room_from_info(fbb, *rooms[i]));
        fbb.Finish(rfb::CreateRoomList(fbb, fbb.CreateVector(offs)), "PROM");
        d.reply(fbb);
      });
    });
    method("roomsprobe.last_message", [this](parley::Request& req, parley::span<const uint8_t>) {
      req.reply(parley::span<const uint8_t>(last_message_.data(), last_message_.size()));
    });
    method("roomsprobe.last_room", [this](parley::Request& req, parley::span<const uint8_t>) {
      req.reply(parley::span<const uint8_t>(last_room_.data(), last_room_.size()));
    });
    on_topic(PARLEY_ROOMS_TOPIC_MESSAGE_STORED,
             [this](std::string_view, parley::span<const uint8_t> b) {
               if (parley::verify_payload<rfb::Message>(b, "PROM"))
                 last_message_.assign(b.begin(), b.end());
             });
    on_topic(PARLEY_ROOMS_TOPIC_ROOM_CHANGED,
             [this](std::string_view, parley::span<const uint8_t> b) {
               if (parley::verify_payload<rfb::Room>(b, "PROM"))
                 last_room_.assign(b.begin(), b.end());
             });
  }

  void on_all_loaded() override {
    rooms_ = parley::Rooms::from_service(service<void>(PARLEY_ROOMS_SERVICE, PARLEY_ROOMS_VERSION));
  }

 private:
  parley::Rooms rooms_;
  std::vector<uint8_t> last_message_, last_room_;
};

}  // namespace

PARLEY_PLUGIN(RoomsProbe)
