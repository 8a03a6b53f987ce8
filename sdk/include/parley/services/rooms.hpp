// C++ wrapper over the `rooms` service v1 (rooms.h). Header-only, C++17,
// compiled into the plugin that uses it.
//
//   // in on_all_loaded (declare "rooms" in kRequires):
//   rooms_ = parley::Rooms::from_service(
//       api().get_service(PARLEY_ROOMS_SERVICE, PARLEY_ROOMS_VERSION));
//   // anywhere on the loop:
//   rooms_.get_room(room_id, [](int status, const parley_room_info* room) {
//     if (status == 0) use(room->last_seq, room->member_user_ids, room->member_count);
//   });
//
// Each callback runs exactly once on the loop thread — before the call
// returns when the rooms plugin has the room in memory, else later. When the
// service refuses a call outright (bad id), the callback runs at once with
// that error. Everything passed to a callback is borrowed for the callback.
// Exceptions thrown by a callback are caught at the C boundary and reported
// on stderr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "rooms.h"

namespace parley {

class Rooms {
 public:
  using RoomCallback = std::function<void(int status, const parley_room_info* room)>;
  using MemberCallback = std::function<void(int status, bool is_member, uint8_t role)>;
  using ListCallback =
      std::function<void(int status, const parley_room_info* const* rooms, size_t n)>;

  Rooms() = default;
  explicit Rooms(const parley_rooms_v1* vt) : vt_(vt) {}
  // From get_service(PARLEY_ROOMS_SERVICE, PARLEY_ROOMS_VERSION). Throws
  // std::runtime_error when absent or too small to have the v1 functions.
  static Rooms from_service(const void* service) {
    auto vt = static_cast<const parley_rooms_v1*>(service);
    if (!vt) throw std::runtime_error("rooms service v1 not available");
    if (vt->struct_size < offsetof(parley_rooms_v1, reserved))
      throw std::runtime_error("rooms service vtable too small");
    return Rooms(vt);
  }
  explicit operator bool() const { return vt_ != nullptr; }

  void get_room(std::string_view room_id, RoomCallback done) const {
    std::string id(room_id);
    auto* fn = new RoomCallback(std::move(done));
    int rc = check()->get_room(id.c_str(), &Rooms::on_room, fn);
    if (rc != 0) on_room(fn, rc, nullptr);
  }
  void is_member(std::string_view room_id, std::string_view user_id,
                 MemberCallback done) const {
    std::string r(room_id), u(user_id);
    auto* fn = new MemberCallback(std::move(done));
    int rc = check()->is_member(r.c_str(), u.c_str(), &Rooms::on_member, fn);
    if (rc != 0) on_member(fn, rc, 0, 0);
  }
  void rooms_of_user(std::string_view user_id, ListCallback done) const {
    std::string u(user_id);
    auto* fn = new ListCallback(std::move(done));
    int rc = check()->rooms_of_user(u.c_str(), &Rooms::on_list, fn);
    if (rc != 0) on_list(fn, rc, nullptr, 0);
  }

 private:
  const parley_rooms_v1* check() const {
    if (!vt_) throw std::logic_error("rooms: no service (empty parley::Rooms)");
    return vt_;
  }
  template <class Fn, class... A>
  static void call(void* ud, const char* where, A... args) {
    std::unique_ptr<Fn> fn(static_cast<Fn*>(ud));
    try {
      if (*fn) (*fn)(args...);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "parley::Rooms: exception in %s callback: %s\n", where, e.what());
    } catch (...) {
      std::fprintf(stderr, "parley::Rooms: exception in %s callback\n", where);
    }
  }
  static void on_room(void* ud, int status, const parley_room_info* room) {
    call<RoomCallback>(ud, "get_room", status, room);
  }
  static void on_member(void* ud, int status, int is_member, uint8_t role) {
    call<MemberCallback>(ud, "is_member", status, is_member != 0, role);
  }
  static void on_list(void* ud, int status, const parley_room_info* const* rooms, size_t n) {
    call<ListCallback>(ud, "rooms_of_user", status, rooms, n);
  }

  const parley_rooms_v1* vt_ = nullptr;
};

}  // namespace parley
