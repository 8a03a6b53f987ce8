// Lifecycle, configuration, the room cache and shared helpers.
#include "rooms_plugin.h"

#include <algorithm>

#include "parley/util/uuid.hpp"
#include "rooms_service.h"

namespace parley::rooms_plugin {

namespace {
RoomsPlugin* g_instance = nullptr;
}  // namespace

void RoomEntry::refresh_member_ids() {
  member_ids.clear();
  member_ids.reserve(rec.members.size());
  for (const Member& m : rec.members) member_ids.push_back(m.user_id.c_str());
}

void fail(Deferred& d, const Error& e) { d.error(e.status, e.message); }

void fail_status(Deferred& d, int err, const char* what) {
  if (err == PARLEY_ENOENT) {
    d.error(PARLEY_STATUS_NOT_FOUND, std::string(what) + " not found");
    return;
  }
  d.error(storage_error_status(err),
          std::string(what) + ": " + parley_strerror(err));
}

RoomsPlugin::RoomsPlugin() : rooms_(100000), user_rooms_(100000), recent_sends_(65536) {}

RoomsPlugin::~RoomsPlugin() {
  if (g_instance == this) g_instance = nullptr;
}

RoomsPlugin* RoomsPlugin::instance() { return g_instance; }

void RoomsPlugin::init(const Config& cfg) {
  cfg.declare_keys({"max_members", "max_text_bytes", "room_cache_size",
                    "user_cache_size", "dedupe_cache_size", "max_send_batch"});
  cfg_.max_members = static_cast<size_t>(cfg.integer("max_members", 1000, 2, 100000));
  cfg_.max_text_bytes =
      static_cast<size_t>(cfg.integer("max_text_bytes", 16384, 1, 512 * 1024));
  cfg_.room_cache_size =
      static_cast<size_t>(cfg.integer("room_cache_size", 100000, 16, 100000000));
  cfg_.user_cache_size =
      static_cast<size_t>(cfg.integer("user_cache_size", 100000, 16, 100000000));
  cfg_.dedupe_cache_size =
      static_cast<size_t>(cfg.integer("dedupe_cache_size", 65536, 0, 100000000));
  cfg_.max_send_batch = static_cast<size_t>(cfg.integer("max_send_batch", 256, 1, 65536));
  rooms_ = LruCache<RoomEntry>(cfg_.room_cache_size);
  user_rooms_ = LruCache<std::vector<std::string>>(cfg_.user_cache_size);
  recent_sends_ = LruCache<uint64_t>(cfg_.dedupe_cache_size);

  using H = void (RoomsPlugin::*)(Request&, span<const uint8_t>);
  const std::pair<const char*, H> methods[] = {
      {"rooms.open_direct", &RoomsPlugin::handle_open_direct},
      {"rooms.create", &RoomsPlugin::handle_create},
      {"rooms.get", &RoomsPlugin::handle_get},
      {"rooms.list", &RoomsPlugin::handle_list},
      {"rooms.add_members", &RoomsPlugin::handle_add_members},
      {"rooms.remove_member", &RoomsPlugin::handle_remove_member},
      {"rooms.leave", &RoomsPlugin::handle_leave},
      {"rooms.send", &RoomsPlugin::handle_send},
      {"rooms.history", &RoomsPlugin::handle_history},
      {"rooms.typing", &RoomsPlugin::handle_typing},
  };
  // (No structured binding: clang 14, the fuzz build's compiler, cannot
  // capture one in a lambda.)
  for (const auto& m : methods) {
    H h = m.second;
    method(m.first, [this, h](Request& req, span<const uint8_t> p) { (this->*h)(req, p); });
  }

  sends_total_ = counter("messages_stored_total", "Messages durably stored");
  deliveries_total_ =
      counter("deliveries_total", "rooms.message events queued to connections");
  send_batches_total_ = counter("send_batches_total", "Storage commits of messages");

  service_ = make_rooms_service();
  export_service(PARLEY_ROOMS_SERVICE, PARLEY_ROOMS_VERSION, &service_);
  g_instance = this;
}

void RoomsPlugin::on_all_loaded() {
  storage_ = Storage::from_service(
      service<void>(PARLEY_STORAGE_SERVICE, PARLEY_STORAGE_VERSION));
  ns_ = storage_.open_namespace(self());
  auth_ = service<parley_auth_v1>(PARLEY_AUTH_SERVICE, PARLEY_AUTH_VERSION);
  if (!auth_ || auth_->struct_size < offsetof(parley_auth_v1, reserved))
    throw std::runtime_error("the auth service v1 is not available");
  info("ready: max_members=%zu max_text_bytes=%zu room_cache_size=%zu",
       cfg_.max_members, cfg_.max_text_bytes, cfg_.room_cache_size);
}

// ------------------------------------------------------------ room cache ---

RoomEntry* RoomsPlugin::insert_room(RoomRecord rec, SeqState seq) {
  auto e = std::make_unique<RoomEntry>();
  std::string id = rec.room_id;
  e->rec = std::move(rec);
  e->seq = seq;
  e->sequencer = SendSequencer(seq.last_seq);
  e->refresh_member_ids();
  return rooms_.put(id, std::move(e), [](const RoomEntry& r) { return !r.busy(); });
}

void RoomsPlugin::with_room(const std::string& room_id, RoomFn fn) {
  if (RoomEntry* e = rooms_.find(room_id)) {
    fn(0, e);
    return;
  }
  auto& waiters = loading_[room_id];
  waiters.push_back(std::move(fn));
  if (waiters.size() > 1) return;  // a load is already on its way
  storage_.scan_prefix(
      ns_, room_prefix(room_id), false, 0,
      guarded([this, room_id](int status, const std::vector<Storage::Item>& items, bool) {
        auto node = loading_.extract(room_id);
        if (node.empty()) return;
        std::vector<RoomFn> waiters = std::move(node.mapped());
        RoomEntry* e = nullptr;
        if (status == 0) {
          std::optional<RoomRecord> rec;
          SeqState seq;
          const std::string rkey = room_record_key(room_id), skey = room_seq_key(room_id);
          for (const auto& it : items) {
            if (it.key == rkey) rec = decode_room_record(it.value);
            else if (it.key == skey) seq = decode_seq_state(it.value).value_or(SeqState{});
          }
          if (!rec) {
            status = PARLEY_ENOENT;
          } else if (RoomEntry* cached = rooms_.find(room_id)) {
            e = cached;  // created meanwhile (cannot happen for new ids; be safe)
          } else {
            e = insert_room(std::move(*rec), seq);
          }
        }
        if (e) ++e->pins;
        for (auto& w : waiters) w(status, e);
        if (e) --e->pins;
      }));
}

void RoomsPlugin::room_ids_of(const std::string& user_id, RoomIdsFn fn) {
  if (std::vector<std::string>* ids = user_rooms_.find(user_id)) {
    fn(0, *ids);
    return;
  }
  ++user_scans_[user_id];
  storage_.scan_prefix(
      ns_, user_rooms_prefix(user_id), false, 0,
      guarded([this, user_id, fn = std::move(fn)](int status,
                                                  const std::vector<Storage::Item>& items,
                                                  bool) mutable {
        std::vector<std::string> ids;
        for (const auto& it : items) {
          std::string_view id = room_of_user_room_key(it.key);
          if (!id.empty()) ids.emplace_back(id);
        }
        // Cache the list unless a membership change of this user committed
        // while the scan ran (the scan may predate it).
        auto scans = user_scans_.find(user_id);
        bool last_scan = scans != user_scans_.end() && --scans->second == 0;
        if (last_scan) user_scans_.erase(scans);
        bool stale = users_changed_during_scan_.count(user_id) != 0;
        if (last_scan) users_changed_during_scan_.erase(user_id);
        if (status == 0 && !stale)
          user_rooms_.put(user_id, std::make_unique<std::vector<std::string>>(ids));
        fn(status, ids);
      }));
}

void RoomsPlugin::user_rooms_changed(const std::string& user_id, const std::string& room_id,
                                     bool added) {
  if (user_scans_.count(user_id)) users_changed_during_scan_.insert(user_id);
  std::vector<std::string>* ids = user_rooms_.peek(user_id);
  if (!ids) return;
  auto it = std::find(ids->begin(), ids->end(), room_id);
  if (added && it == ids->end()) ids->push_back(room_id);
  if (!added && it != ids->end()) ids->erase(it);
}

void RoomsPlugin::rooms_of(const std::string& user_id, RoomsFn fn) {
  room_ids_of(user_id, [this, user_id, fn = std::move(fn)](
                           int status, const std::vector<std::string>& ids) mutable {
    if (status != 0) {
      fn(status, {});
      return;
    }
    struct Gather {
      size_t left = 0;
      int error = 0;
      std::vector<RoomSnapshot> rooms;
      RoomsFn fn;
    };
    auto g = std::make_shared<Gather>();
    g->fn = std::move(fn);
    g->left = ids.size() + 1;  // +1: held until every lookup has started
    g->rooms.reserve(ids.size());
    auto finish = [](Gather& g) {
      std::sort(g.rooms.begin(), g.rooms.end(), [](const RoomSnapshot& a, const RoomSnapshot& b) {
        if (a.seq.last_activity != b.seq.last_activity)
          return a.seq.last_activity > b.seq.last_activity;
        return a.rec.room_id > b.rec.room_id;
      });
      g.fn(g.error, g.error ? std::vector<RoomSnapshot>{} : std::move(g.rooms));
    };
    // Copy: a synchronous callback below may change the cached list.
    std::vector<std::string> copy = ids;
    for (const std::string& id : copy) {
      with_room(id, [g, user_id, finish](int st, RoomEntry* e) {
        if (st == 0 && find_member(e->rec, user_id))
          g->rooms.push_back(RoomSnapshot{e->rec, e->seq});
        else if (st != 0 && st != PARLEY_ENOENT)
          g->error = st;
        if (--g->left == 0) finish(*g);
      });
    }
    if (--g->left == 0) finish(*g);
  });
}

// ------------------------------------------------------------- helpers ---

void RoomsPlugin::notify_room_changed(const RoomEntry& e,
                                      const std::vector<std::string>& extra,
                                      parley_conn_id except) {
  flatbuffers::FlatBufferBuilder fbb(512);
  fbb.Finish(build_room(fbb, e.rec, e.seq.last_seq), parley::rooms::RoomIdentifier());
  std::vector<const char*> ids = e.member_ids;
  for (const std::string& u : extra)
    if (!find_member(e.rec, u)) ids.push_back(u.c_str());
  api().send_event_to_users(ids.data(), ids.size(), "rooms.updated",
                            fbb.GetBufferPointer(), fbb.GetSize(), except);
  api().publish(self(), PARLEY_ROOMS_TOPIC_ROOM_CHANGED, fbb.GetBufferPointer(),
                fbb.GetSize());
}

void RoomsPlugin::check_users_exist(
    std::vector<std::string> ids,
    std::function<void(int status, std::string missing)> done) {
  if (ids.empty()) {
    done(0, "");
    return;
  }
  struct Gather {
    size_t left;
    int status = 0;
    std::string missing;
    std::function<void(int, std::string)> done;
  };
  auto g = std::make_shared<Gather>();
  g->left = ids.size();
  g->done = std::move(done);
  for (const std::string& id : ids) {
    // The auth service takes a C callback: box a reference to the gather.
    auto* box = new std::pair<std::shared_ptr<Gather>, std::string>(g, id);
    int rc = auth_->find_user_by_id(
        id.c_str(),
        [](void* ud, int status, const parley_user_info*) {
          std::unique_ptr<std::pair<std::shared_ptr<Gather>, std::string>> b(
              static_cast<std::pair<std::shared_ptr<Gather>, std::string>*>(ud));
          if (!RoomsPlugin::instance()) return;  // auth outlives us at shutdown
          Gather& g = *b->first;
          if (status == PARLEY_ENOENT && g.status == 0) {
            g.status = PARLEY_ENOENT;
            g.missing = b->second;
          } else if (status != 0 && status != PARLEY_ENOENT && g.status == 0) {
            g.status = status;
          }
          if (--g.left == 0) {
            try {
              g.done(g.status, g.missing);
            } catch (const std::exception&) {
              // The deferred request inside answers Internal when dropped.
            }
          }
        },
        box);
    if (rc != 0) {
      delete box;
      if (g->status == 0) g->status = rc;
      if (--g->left == 0) g->done(g->status, g->missing);
    }
  }
}

}  // namespace parley::rooms_plugin

PARLEY_PLUGIN(parley::rooms_plugin::RoomsPlugin)
