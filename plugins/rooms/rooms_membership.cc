// rooms.open_direct, create, get, list, add_members, remove_member, leave.
#include <algorithm>
#include <unordered_set>

#include "parley/util/keys.hpp"
#include "parley/util/uuid.hpp"
#include "rooms_plugin.h"

namespace parley::rooms_plugin {

namespace rfb = parley::rooms;

namespace {

constexpr const char* kIdent = "PROM";

void reply_room(Deferred& d, const RoomRecord& rec, uint64_t last_seq) {
  flatbuffers::FlatBufferBuilder fbb(512);
  fbb.Finish(build_room(fbb, rec, last_seq), rfb::RoomIdentifier());
  d.reply(fbb);
}

void bad_payload(Request& req, const char* table) {
  req.error(PARLEY_STATUS_INVALID_ARGUMENT,
            std::string("payload is not a parley.rooms.") + table);
}

}  // namespace

// -------------------------------------------------------- open_direct ---

void RoomsPlugin::handle_open_direct(Request& req, span<const uint8_t> payload) {
  auto* p = verify_payload<rfb::OpenDirect>(payload, kIdent);
  if (!p) return bad_payload(req, "OpenDirect");
  std::string peer = str_of(p->peer_user_id());
  if (auto c = validate_uuid(peer, "peer_user_id"))
    return req.error(c->status, c->message);
  std::string me(req.user());
  if (peer == me)
    return req.error(PARLEY_STATUS_INVALID_ARGUMENT, "cannot open a direct room with yourself");
  Deferred d = req.defer();
  check_users_exist({peer}, [this, d, me, peer](int st, std::string) mutable {
    if (st == PARLEY_ENOENT) return refuse(d, PARLEY_STATUS_NOT_FOUND, "no such user");
    if (st != 0) return fail_status(d, st, "user lookup");
    open_direct_pair(d, me, peer);
  });
}

void RoomsPlugin::open_direct_pair(Deferred d, const std::string& me,
                                   const std::string& peer) {
  std::string pk = pair_key(me, peer);
  auto& waiters = pairs_pending_[pk];
  waiters.push_back([this, d](int st, const std::string& room_id) mutable {
    if (st != 0) return fail_status(d, st, "direct room");
    with_room(room_id, [d](int st, RoomEntry* e) mutable {
      if (st != 0) return fail_status(d, st, "room");
      reply_room(d, e->rec, e->seq.last_seq);
    });
  });
  if (waiters.size() > 1) return;  // the pair is being looked up or created
  parley_conn_id except = d.conn();
  storage_.get(ns_, pk, guarded([this, pk, me, peer, except](int st, std::string_view v) {
    if (st == 0) return finish_pair(pk, 0, std::string(v));
    if (st != PARLEY_ENOENT) return finish_pair(pk, st, "");
    create_direct(pk, me, peer, except);
  }));
}

void RoomsPlugin::create_direct(const std::string& pair, const std::string& me,
                                const std::string& peer, parley_conn_id except) {
  uint64_t now = util::now_ms();
  RoomRecord rec;
  rec.room_id = util::uuid7(now);
  rec.kind = RoomKind::Direct;
  rec.created_at = now;
  rec.members = {Member{me, Role::Member, now}, Member{peer, Role::Member, now}};
  std::string room_id = rec.room_id;
  commit_new_room(std::move(rec), {{pair, room_id}},
                  [this, pair, room_id, except](int st) {
                    if (st == 0)
                      if (RoomEntry* e = rooms_.peek(room_id)) notify_room_changed(*e, {}, except);
                    finish_pair(pair, st, room_id);
                  });
}

void RoomsPlugin::finish_pair(const std::string& pair, int status,
                              const std::string& room_id) {
  auto node = pairs_pending_.extract(pair);
  if (node.empty()) return;
  for (auto& w : node.mapped()) w(status, room_id);
}

void RoomsPlugin::commit_new_room(
    RoomRecord rec, std::vector<std::pair<std::string, std::string>> extra_puts,
    std::function<void(int status)> done) {
  SeqState seq{0, rec.created_at};
  auto b = storage_.batch();
  b.put(ns_, room_record_key(rec.room_id), encode_room_record(rec));
  b.put(ns_, room_seq_key(rec.room_id), encode_seq_state(seq));
  for (const Member& m : rec.members) b.put(ns_, user_room_key(m.user_id, rec.room_id), "");
  for (const auto& [k, v] : extra_puts) b.put(ns_, k, v);
  auto shared = std::make_shared<RoomRecord>(std::move(rec));
  storage_.commit(std::move(b), guarded([this, shared, seq, done = std::move(done)](int st) {
    if (st == 0) {
      for (const Member& m : shared->members) user_rooms_changed(m.user_id, shared->room_id, true);
      insert_room(std::move(*shared), seq);
    }
    done(st);
  }));
}

// ------------------------------------------------------------- create ---

void RoomsPlugin::handle_create(Request& req, span<const uint8_t> payload) {
  auto* p = verify_payload<rfb::Create>(payload, kIdent);
  if (!p) return bad_payload(req, "Create");
  std::string name = str_of(p->name());
  if (auto c = validate_room_name(name)) return req.error(c->status, c->message);
  std::string me(req.user());
  std::vector<std::string> others;
  std::unordered_set<std::string> seen{me};
  if (p->member_user_ids()) {
    if (p->member_user_ids()->size() > cfg_.max_members)
      return req.error(PARLEY_STATUS_INVALID_ARGUMENT, "too many members");
    for (const auto* s : *p->member_user_ids()) {
      std::string id = str_of(s);
      if (auto c = validate_uuid(id, "member_user_ids")) return req.error(c->status, c->message);
      if (seen.insert(id).second) others.push_back(id);
    }
  }
  if (others.size() + 1 > cfg_.max_members)
    return req.error(PARLEY_STATUS_INVALID_ARGUMENT,
                     "a room has at most " + std::to_string(cfg_.max_members) + " members");
  Deferred d = req.defer();
  check_users_exist(others, [this, d, me, name, others](int st, std::string missing) mutable {
    if (st == PARLEY_ENOENT) return refuse(d, PARLEY_STATUS_NOT_FOUND, "no such user: " + missing);
    if (st != 0) return fail_status(d, st, "user lookup");
    uint64_t now = util::now_ms();
    RoomRecord rec;
    rec.room_id = util::uuid7(now);
    rec.kind = RoomKind::Group;
    rec.name = name;
    rec.created_at = now;
    rec.members.push_back(Member{me, Role::Owner, now});
    for (const std::string& u : others) rec.members.push_back(Member{u, Role::Member, now});
    std::string room_id = rec.room_id;
    commit_new_room(std::move(rec), {}, [this, d, room_id](int st) mutable {
      if (st != 0) return fail_status(d, st, "create");
      RoomEntry* e = rooms_.peek(room_id);
      if (!e) return refuse(d, PARLEY_STATUS_INTERNAL, "room vanished");
      reply_room(d, e->rec, e->seq.last_seq);
      notify_room_changed(*e, {}, d.conn());
    });
  });
}

// ------------------------------------------------------------ get, list ---

void RoomsPlugin::handle_get(Request& req, span<const uint8_t> payload) {
  auto* p = verify_payload<rfb::RoomRef>(payload, kIdent);
  if (!p) return bad_payload(req, "RoomRef");
  std::string room = str_of(p->room_id());
  if (auto c = validate_uuid(room, "room_id")) return req.error(c->status, c->message);
  Deferred d = req.defer();
  with_room(room, [d](int st, RoomEntry* e) mutable {
    if (st != 0) return fail_status(d, st, "room");
    if (auto c = check_member(e->rec, d.user())) return fail(d, *c);
    reply_room(d, e->rec, e->seq.last_seq);
  });
}

void RoomsPlugin::handle_list(Request& req, span<const uint8_t>) {
  Deferred d = req.defer();
  rooms_of(d.user(), [d](int st, std::vector<RoomSnapshot> rooms) mutable {
    if (st != 0) return fail_status(d, st, "list");
    flatbuffers::FlatBufferBuilder fbb(1024);
    std::vector<flatbuffers::Offset<rfb::Room>> offs;
    offs.reserve(rooms.size());
    for (const RoomSnapshot& r : rooms) offs.push_back(build_room(fbb, r.rec, r.seq.last_seq));
    fbb.Finish(rfb::CreateRoomList(fbb, fbb.CreateVector(offs)), rfb::RoomIdentifier());
    d.reply(fbb);
  });
}

// ------------------------------------------------- membership changes ---

void RoomsPlugin::mutate(const std::string& room_id, Deferred d, Mutation m) {
  with_room(room_id, [this, room_id, d, m = std::move(m)](int st, RoomEntry* e) mutable {
    if (st != 0) return fail_status(d, st, "room");
    e->mutations.push_back(std::move(m));
    run_mutations(room_id);
  });
}

void RoomsPlugin::run_mutations(const std::string& room_id) {
  RoomEntry* e = rooms_.peek(room_id);
  if (!e || e->mutating || e->mutations.empty()) return;
  auto m = std::move(e->mutations.front());
  e->mutations.pop_front();
  e->mutating = true;
  m(*e, [this, room_id] {
    if (RoomEntry* again = rooms_.peek(room_id)) again->mutating = false;
    run_mutations(room_id);
  });
}

void RoomsPlugin::commit_membership(const std::string& room_id, RoomRecord next,
                                    std::vector<std::string> added,
                                    std::vector<std::string> removed,
                                    std::function<void(int status)> done) {
  auto b = storage_.batch();
  b.put(ns_, room_record_key(room_id), encode_room_record(next));
  for (const std::string& u : added) b.put(ns_, user_room_key(u, room_id), "");
  for (const std::string& u : removed) b.del(ns_, user_room_key(u, room_id));
  auto shared = std::make_shared<RoomRecord>(std::move(next));
  storage_.commit(std::move(b), guarded([this, room_id, shared, added, removed,
                                         done = std::move(done)](int st) {
    if (st == 0) {
      for (const std::string& u : added) user_rooms_changed(u, room_id, true);
      for (const std::string& u : removed) user_rooms_changed(u, room_id, false);
      if (RoomEntry* e = rooms_.peek(room_id)) {
        e->rec = std::move(*shared);
        e->refresh_member_ids();
      }
    }
    done(st);
  }));
}

void RoomsPlugin::handle_add_members(Request& req, span<const uint8_t> payload) {
  auto* p = verify_payload<rfb::AddMembers>(payload, kIdent);
  if (!p) return bad_payload(req, "AddMembers");
  std::string room = str_of(p->room_id());
  if (auto c = validate_uuid(room, "room_id")) return req.error(c->status, c->message);
  std::vector<std::string> ids;
  std::unordered_set<std::string> seen;
  if (p->user_ids()) {
    if (p->user_ids()->size() > cfg_.max_members)
      return req.error(PARLEY_STATUS_RESOURCE_EXHAUSTED, "too many members");
    for (const auto* s : *p->user_ids()) {
      std::string id = str_of(s);
      if (auto c = validate_uuid(id, "user_ids")) return req.error(c->status, c->message);
      if (seen.insert(id).second) ids.push_back(id);
    }
  }
  Deferred d = req.defer();
  with_room(room, [this, d, room, ids](int st, RoomEntry* e) mutable {
    if (st != 0) return fail_status(d, st, "room");
    // Refuse early, before asking auth about every id.
    if (auto c = check_add_members(e->rec, d.user())) return fail(d, *c);
    check_users_exist(ids, [this, d, room, ids](int st, std::string missing) mutable {
      if (st == PARLEY_ENOENT) return refuse(d, PARLEY_STATUS_NOT_FOUND, "no such user: " + missing);
      if (st != 0) return fail_status(d, st, "user lookup");
      mutate(room, d, [this, d, room, ids](RoomEntry& e, std::function<void()> done) mutable {
        if (auto c = check_add_members(e.rec, d.user())) {
          fail(d, *c);
          return done();
        }
        RoomRecord next = e.rec;
        std::vector<std::string> added;
        for (const std::string& u : ids)
          if (!find_member(next, u)) added.push_back(u);
        add_members(next, added, util::now_ms());
        if (added.empty()) {
          reply_room(d, e.rec, e.seq.last_seq);
          return done();
        }
        if (next.members.size() > cfg_.max_members) {
          d.error(PARLEY_STATUS_RESOURCE_EXHAUSTED,
                  "a room has at most " + std::to_string(cfg_.max_members) + " members");
          return done();
        }
        commit_membership(room, std::move(next), added, {},
                          [this, d, room, done](int st) mutable {
                            RoomEntry* e = rooms_.peek(room);
                            if (st != 0 || !e) {
                              fail_status(d, st ? st : PARLEY_EUNAVAIL, "add_members");
                            } else {
                              reply_room(d, e->rec, e->seq.last_seq);
                              notify_room_changed(*e, {}, d.conn());
                            }
                            done();
                          });
      });
    });
  });
}

void RoomsPlugin::handle_remove_member(Request& req, span<const uint8_t> payload) {
  auto* p = verify_payload<rfb::RemoveMember>(payload, kIdent);
  if (!p) return bad_payload(req, "RemoveMember");
  std::string room = str_of(p->room_id()), target = str_of(p->user_id());
  if (auto c = validate_uuid(room, "room_id")) return req.error(c->status, c->message);
  if (auto c = validate_uuid(target, "user_id")) return req.error(c->status, c->message);
  Deferred d = req.defer();
  mutate(room, d, [this, d, room, target](RoomEntry& e, std::function<void()> done) mutable {
    if (auto c = check_remove_member(e.rec, d.user(), target)) {
      fail(d, *c);
      return done();
    }
    RoomRecord next = e.rec;
    remove_member_and_hand_off(next, target);
    commit_membership(room, std::move(next), {}, {target},
                      [this, d, room, target, done](int st) mutable {
                        RoomEntry* e = rooms_.peek(room);
                        if (st != 0 || !e) {
                          fail_status(d, st ? st : PARLEY_EUNAVAIL, "remove_member");
                        } else {
                          reply_room(d, e->rec, e->seq.last_seq);
                          notify_room_changed(*e, {target}, d.conn());
                        }
                        done();
                      });
  });
}

void RoomsPlugin::handle_leave(Request& req, span<const uint8_t> payload) {
  auto* p = verify_payload<rfb::RoomRef>(payload, kIdent);
  if (!p) return bad_payload(req, "RoomRef");
  std::string room = str_of(p->room_id());
  if (auto c = validate_uuid(room, "room_id")) return req.error(c->status, c->message);
  Deferred d = req.defer();
  mutate(room, d, [this, d, room](RoomEntry& e, std::function<void()> done) mutable {
    std::string me = d.user();
    if (auto c = check_leave(e.rec, me)) {
      fail(d, *c);
      return done();
    }
    RoomRecord next = e.rec;
    remove_member_and_hand_off(next, me);
    commit_membership(room, std::move(next), {}, {me},
                      [this, d, room, me, done](int st) mutable {
                        RoomEntry* e = rooms_.peek(room);
                        if (st != 0 || !e) {
                          fail_status(d, st ? st : PARLEY_EUNAVAIL, "leave");
                        } else {
                          d.reply();
                          notify_room_changed(*e, {me}, d.conn());
                        }
                        done();
                      });
  });
}

}  // namespace parley::rooms_plugin
