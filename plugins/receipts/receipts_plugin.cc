// Lifecycle, configuration, the four methods and the bus topics.
// Loading and coalesced commits: receipts_store.cc.
#include "receipts_plugin.h"

#include <algorithm>
#include <exception>

#include "parley/rooms_generated.h"
#include "parley/util/uuid.hpp"

namespace parley::receipts {

namespace rfb = parley::rooms;

namespace {
constexpr const char* kIdent = "PRCP";
constexpr const char* kRoomsIdent = "PROM";

std::string str_of(const flatbuffers::String* s) {
  return s ? std::string(s->c_str(), s->size()) : std::string();
}
}  // namespace

ReceiptsPlugin::~ReceiptsPlugin() {
  // A graceful stop still writes the receipts that marks (and senders'
  // implicit reads) moved during the last window: the storage service shuts
  // down after us. Best effort — nobody was promised these yet; their
  // requests are answered Internal as the plugin goes.
  if (storage_ && state_.has_dirty()) {
    policy_ = FlushPolicy(0);  // no window timer while shutting down
    try {
      flush();
    } catch (const std::exception&) {
      // Shutting down: nothing more to do.
    }
  }
  // Callbacks still in flight in storage or rooms see alive_ expire and do
  // nothing; their captured Deferreds answer Internal as they are dropped.
  alive_.reset();
}

void ReceiptsPlugin::init(const Config& cfg) {
  cfg.declare_keys({"coalesce_ms"});
  policy_ = FlushPolicy(static_cast<uint64_t>(cfg.integer("coalesce_ms", 100, 0, 60000)));

  method("receipts.mark_delivered",
         [this](Request& req, span<const uint8_t> p) { handle_mark(req, p, MarkKind::Delivered); });
  method("receipts.mark_read",
         [this](Request& req, span<const uint8_t> p) { handle_mark(req, p, MarkKind::Read); });
  method("receipts.get", [this](Request& req, span<const uint8_t> p) { handle_get(req, p); });
  method("receipts.unread", [this](Request& req, span<const uint8_t> p) { handle_unread(req, p); });

  on_topic(PARLEY_ROOMS_TOPIC_MESSAGE_STORED, [this](std::string_view, span<const uint8_t> b) {
    auto* m = verify_payload<rfb::Message>(b, kRoomsIdent);
    if (m && m->room_id() && m->sender_user_id())
      on_message_stored(m->room_id()->str(), m->sender_user_id()->str(), m->seq(), m->created_at());
  });
  on_topic(PARLEY_ROOMS_TOPIC_ROOM_CHANGED, [this](std::string_view, span<const uint8_t> b) {
    auto* r = verify_payload<rfb::Room>(b, kRoomsIdent);
    if (!r || !r->room_id()) return;
    std::vector<std::string> members;
    if (r->members())
      for (const auto* m : *r->members())
        if (m->user_id()) members.push_back(m->user_id()->str());
    state_.observe_room(r->room_id()->str(), r->last_seq(), r->created_at(), std::move(members));
  });

  marks_total_ = counter("marks_total", "receipts.mark_* requests accepted");
  commits_total_ = counter("commits_total", "Storage batches committed for receipts");
  receipts_written_total_ = counter("receipts_written_total", "Receipts written to storage");
  updates_total_ = counter("updates_total", "receipts.updated events encoded (watermark moves)");
  deliveries_total_ = counter("deliveries_total", "receipts.updated events queued to connections");
  unread_seconds_ = histogram("unread_seconds", "Server time of receipts.unread");
}

void ReceiptsPlugin::on_all_loaded() {
  storage_ = Storage::from_service(service<void>(PARLEY_STORAGE_SERVICE, PARLEY_STORAGE_VERSION));
  ns_ = storage_.open_namespace(self());
  rooms_ = Rooms::from_service(service<void>(PARLEY_ROOMS_SERVICE, PARLEY_ROOMS_VERSION));
  info("ready: coalesce_ms=%llu", static_cast<unsigned long long>(policy_.window_ms()));
}

// ------------------------------------------------------------- methods ---

void ReceiptsPlugin::handle_mark(Request& req, span<const uint8_t> payload, MarkKind kind) {
  auto* p = verify_payload<parley::receipts::Mark>(payload, kIdent);
  if (!p) return req.error(PARLEY_STATUS_INVALID_ARGUMENT, "payload is not a parley.receipts.Mark");
  std::string room = str_of(p->room_id());
  if (!util::is_canonical_uuid(room))
    return req.error(PARLEY_STATUS_INVALID_ARGUMENT, "room_id must be a canonical UUID");
  uint64_t seq = p->seq();
  marks_total_.add();
  with_membership(req.defer(), room, [this, room, kind, seq](Deferred& d, uint64_t last_seq) {
    apply_mark(d, room, kind, clamp_seq(seq, last_seq));
  });
}

void ReceiptsPlugin::handle_get(Request& req, span<const uint8_t> payload) {
  auto* p = verify_payload<parley::receipts::RoomRef>(payload, kIdent);
  if (!p)
    return req.error(PARLEY_STATUS_INVALID_ARGUMENT, "payload is not a parley.receipts.RoomRef");
  std::string room = str_of(p->room_id());
  if (!util::is_canonical_uuid(room))
    return req.error(PARLEY_STATUS_INVALID_ARGUMENT, "room_id must be a canonical UUID");
  with_membership(req.defer(), room, [this, room](Deferred& d, uint64_t) {
    const RoomState* r = state_.find_room(room);
    if (r && r->receipts_loaded) return reply_receipts_when_durable(std::move(d), room);
    load_room_receipts(room, [this, d, room](int st) mutable {
      if (st != 0) {
        d.error(storage_error_status(st), std::string("loading receipts: ") + parley_strerror(st));
        return;
      }
      reply_receipts_when_durable(std::move(d), room);
    });
  });
}

void ReceiptsPlugin::handle_unread(Request& req, span<const uint8_t>) {
  auto start = std::chrono::steady_clock::now();
  std::string user(req.user());
  const UserState* u = state_.find_user(user);
  if (u && u->index == IndexState::Loaded && u->receipts_loaded) {
    // The hot path: memory only, unless one of the user's receipts is
    // still on its way to storage.
    if (state_.pending_batches_of_user(user).empty()) return reply_unread(&req, nullptr, start);
    return reply_unread_when_durable(req.defer(), start);
  }
  // First request of this user since start: learn their rooms and receipts.
  struct Gather {
    int left = 2;
    int status = 0;
    Deferred d;
  };
  auto g = std::make_shared<Gather>();
  g->d = req.defer();
  auto one_done = [this, g, start](int st) {
    if (st != 0 && g->status == 0) g->status = st;
    if (--g->left > 0) return;
    if (g->status != 0) {
      g->d.error(storage_error_status(g->status),
                 std::string("loading unread counts: ") + parley_strerror(g->status));
      return;
    }
    reply_unread_when_durable(std::move(g->d), start);
  };
  load_user_index(user, one_done);
  load_user_receipts(user, one_done);
}

// ------------------------------------------------------------- helpers ---

void ReceiptsPlugin::with_membership(Deferred d, const std::string& room_id,
                                     std::function<void(Deferred& d, uint64_t last_seq)> fn) {
  rooms_.get_room(
      room_id,
      guarded([this, d, room_id, fn = std::move(fn)](int st, const parley_room_info* r) mutable {
        if (st == PARLEY_ENOENT) return (void)d.error(PARLEY_STATUS_NOT_FOUND, "room not found");
        if (st == PARLEY_EINVAL)
          return (void)d.error(PARLEY_STATUS_INVALID_ARGUMENT, "room_id must be a canonical UUID");
        if (st != 0 || !r)
          return (void)d.error(PARLEY_STATUS_UNAVAILABLE,
                               std::string("rooms service: ") + parley_strerror(st));
        bool member = false;
        for (size_t i = 0; i < r->member_count && !member; ++i)
          member = d.user() == r->member_user_ids[i];
        uint64_t last_seq = r->last_seq;
        state_.observe_room_ids(room_id, last_seq, r->last_activity, r->member_user_ids,
                                r->member_count);
        if (!member)
          return (void)d.error(PARLEY_STATUS_PERMISSION_DENIED, "not a member of the room");
        fn(d, last_seq);
      }));
}

void ReceiptsPlugin::on_message_stored(const std::string& room_id, const std::string& sender,
                                       uint64_t seq, uint64_t created_at) {
  state_.observe_message(room_id, seq, created_at);
  // Sending a message means the sender has read the room up to it: their
  // own messages never count as unread. The implicit mark goes through the
  // same coalesced commits, with nobody waiting for it; a get or unread
  // sent after the rooms.send Response waits for it (read-your-writes).
  // It is recorded in memory at once, even before the room's stored
  // receipts are loaded (the load merges into it), so no concurrent load
  // can lose or lower it and a failed load leaves it for the next one.
  auto sender_read = [this, room_id, sender, seq] {
    if (state_.receipt_known(room_id, sender)) {
      if (state_.mark(room_id, sender, MarkKind::Read, seq, util::now_ms()) != 0) maybe_flush();
      return;
    }
    state_.mark_before_load(room_id, sender, MarkKind::Read, seq, util::now_ms());
    load_room_receipts(room_id, [](int) {});  // the load flushes what it settles
  };
  const RoomState* r = state_.find_room(room_id);
  if (r && r->info_known) return sender_read();
  // A room not seen yet: learn its members (for the event) first. The mark
  // is kept even if the rooms service cannot answer.
  rooms_.get_room(room_id,
                  guarded([this, room_id, sender_read](int st, const parley_room_info* info) {
                    if (st == 0 && info)
                      state_.observe_room_ids(room_id, info->last_seq, info->last_activity,
                                              info->member_user_ids, info->member_count);
                    sender_read();
                  }));
}

void ReceiptsPlugin::apply_mark(Deferred d, const std::string& room_id, MarkKind kind,
                                uint64_t seq) {
  if (!state_.receipt_known(room_id, d.user())) {
    load_room_receipts(room_id, [this, d, room_id, kind, seq](int st) mutable {
      if (st != 0) {
        d.error(storage_error_status(st), std::string("loading receipts: ") + parley_strerror(st));
        return;
      }
      apply_mark(d, room_id, kind, seq);
    });
    return;
  }
  uint64_t batch = state_.mark(room_id, d.user(), kind, seq, util::now_ms());
  if (batch == 0) {
    d.reply();  // already durable: nothing moves
    return;
  }
  waiters_[batch].push_back([d = std::move(d)](int st) mutable {
    if (st == 0)
      d.reply();
    else
      d.error(storage_error_status(st), std::string("storing the receipt: ") + parley_strerror(st));
  });
  maybe_flush();
}

void ReceiptsPlugin::after_batches(const std::vector<uint64_t>& ids, std::function<void()> fn) {
  auto left = std::make_shared<size_t>(ids.size());
  auto then = std::make_shared<std::function<void()>>(std::move(fn));
  for (uint64_t id : ids)
    waiters_[id].push_back([left, then](int) {
      if (--*left == 0) (*then)();
    });
  // A dirty receipt waits for the open batch: make sure a flush comes.
  maybe_flush();
}

void ReceiptsPlugin::reply_receipts_when_durable(Deferred d, const std::string& room_id) {
  std::vector<uint64_t> ids = state_.pending_batches_of(room_id, d.user());
  if (ids.empty()) return reply_receipts(d, room_id);
  after_batches(ids, [this, d = std::move(d), room_id]() mutable { reply_receipts(d, room_id); });
}

void ReceiptsPlugin::reply_unread_when_durable(Deferred d,
                                               std::chrono::steady_clock::time_point start) {
  std::vector<uint64_t> ids = state_.pending_batches_of_user(d.user());
  if (ids.empty()) return reply_unread(nullptr, &d, start);
  after_batches(ids,
                [this, d = std::move(d), start]() mutable { reply_unread(nullptr, &d, start); });
}

void ReceiptsPlugin::reply_receipts(Deferred& d, const std::string& room_id) {
  const RoomState* r = state_.find_room(room_id);
  flatbuffers::FlatBufferBuilder fbb(256);
  std::vector<flatbuffers::Offset<parley::receipts::Receipt>> out;
  if (r) {
    out.reserve(r->members.size());
    auto room = fbb.CreateSharedString(room_id);
    for (const std::string& m : r->members) {
      Watermark w = state_.durable(room_id, m);
      out.push_back(parley::receipts::CreateReceipt(fbb, room, fbb.CreateString(m), w.read_seq,
                                                    w.delivered_seq, w.updated_at));
    }
  }
  fbb.Finish(parley::receipts::CreateReceiptList(fbb, fbb.CreateVector(out)), kIdent);
  d.reply(fbb);
}

void ReceiptsPlugin::reply_unread(Request* req, Deferred* d,
                                  std::chrono::steady_clock::time_point start) {
  const std::string user = req ? std::string(req->user()) : d->user();
  std::vector<UnreadRow> rows = state_.unread_of(user);
  flatbuffers::FlatBufferBuilder fbb(64 + rows.size() * 96);
  std::vector<flatbuffers::Offset<parley::receipts::Unread>> out;
  out.reserve(rows.size());
  for (const UnreadRow& row : rows)
    out.push_back(parley::receipts::CreateUnread(fbb, fbb.CreateString(*row.room_id), row.last_seq,
                                                 row.read_seq, row.unread));
  fbb.Finish(parley::receipts::CreateUnreadList(fbb, fbb.CreateVector(out)), kIdent);
  if (req)
    req->reply(fbb);
  else
    d->reply(fbb);
  unread_seconds_.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace parley::receipts

PARLEY_PLUGIN(parley::receipts::ReceiptsPlugin)
