// Loading receipts and user indexes, and the coalesced commits that make
// marks durable and announce them.
#include <exception>

#include "receipts_plugin.h"

namespace parley::receipts {

namespace {
constexpr const char* kIdent = "PRCP";

// Adds done to the waiters of key; true when a load must start (first one).
bool join(std::unordered_map<std::string, std::vector<std::function<void(int)>>>& loads,
          const std::string& key, std::function<void(int)> done) {
  auto& w = loads[key];
  w.push_back(std::move(done));
  return w.size() == 1;
}

// Calls every waiter of key with status (the list is taken first: a waiter
// may start another load of the same key).
void finish(std::unordered_map<std::string, std::vector<std::function<void(int)>>>& loads,
            const std::string& key, int status) {
  auto node = loads.extract(key);
  if (node.empty()) return;
  for (auto& fn : node.mapped()) fn(status);
}
}  // namespace

// ------------------------------------------------------------- loading ---

void ReceiptsPlugin::load_room_receipts(const std::string& room_id, Done done) {
  if (!join(room_loads_, room_id, std::move(done))) return;
  storage_.scan_prefix(
      ns_, room_prefix(room_id), false, 0,
      guarded([this, room_id](int st, const std::vector<Storage::Item>& items, bool) {
        if (st == 0) {
          for (const Storage::Item& it : items) {
            auto k = parse_room_key(it.key);
            auto w = decode_watermark(it.value);
            if (k && w) state_.load_receipt(k->first, k->second, *w);
          }
          state_.room_receipts_loaded(room_id);
        }
        finish(room_loads_, room_id, st);
        maybe_flush();  // implicit reads noted before the load may be dirty now
      }));
}

void ReceiptsPlugin::load_user_receipts(const std::string& user_id, Done done) {
  if (state_.user(user_id).receipts_loaded) return done(0);
  if (!join(user_loads_, user_id, std::move(done))) return;
  storage_.scan_prefix(
      ns_, user_prefix(user_id), false, 0,
      guarded([this, user_id](int st, const std::vector<Storage::Item>& items, bool) {
        if (st == 0) {
          for (const Storage::Item& it : items) {
            auto k = parse_user_key(it.key);  // (user, room)
            auto w = decode_watermark(it.value);
            if (k && w) state_.load_receipt(k->second, k->first, *w);
          }
          state_.user_receipts_loaded(user_id);
        }
        finish(user_loads_, user_id, st);
        maybe_flush();  // implicit reads noted before the load may be dirty now
      }));
}

void ReceiptsPlugin::load_user_index(const std::string& user_id, Done done) {
  if (state_.user(user_id).index == IndexState::Loaded) return done(0);
  if (!join(index_loads_, user_id, std::move(done))) return;
  state_.index_load_started(user_id);
  rooms_.rooms_of_user(
      user_id, guarded([this, user_id](int st, const parley_room_info* const* rooms, size_t n) {
        if (st == 0) {
          std::vector<std::string> ids;
          ids.reserve(n);
          for (size_t i = 0; i < n; ++i) {
            const parley_room_info& r = *rooms[i];
            ids.emplace_back(r.room_id);
            state_.observe_room_ids(ids.back(), r.last_seq, r.last_activity, r.member_user_ids,
                                    r.member_count);
          }
          state_.index_loaded(user_id, ids);
        } else {
          state_.index_load_failed(user_id);
        }
        finish(index_loads_, user_id, st);
      }));
}

// ------------------------------------------------------------- commits ---

void ReceiptsPlugin::maybe_flush() {
  if (state_.has_dirty() && policy_.should_flush()) flush();
}

void ReceiptsPlugin::flush() {
  auto batch = std::make_shared<Batch>(state_.take_batch());
  if (policy_.flush_started()) {
    try {
      window_timer_ = timer(policy_.window_ms(), 0, [this] {
        policy_.window_ended();
        maybe_flush();
      });
    } catch (const std::exception& ex) {
      // No timer (shutting down): never stay cooling, flush after the commit.
      warn("coalescing window timer: %s", ex.what());
      policy_.window_ended();
    }
  }
  commits_total_.add();
  receipts_written_total_.add(static_cast<double>(batch->entries.size()));
  try {
    Storage::Batch b = storage_.batch();
    for (const ReceiptRef& e : batch->entries) {
      std::string value = encode_watermark(e.value);
      b.put(ns_, room_key(e.room_id, e.user_id), value);
      b.put(ns_, user_key(e.user_id, e.room_id), value);
    }
    storage_.commit(std::move(b), guarded([this, batch](int st) { on_committed(*batch, st); }));
  } catch (const std::exception& ex) {
    error("writing receipts: %s", ex.what());
    on_committed(*batch, PARLEY_EUNAVAIL);
  }
}

void ReceiptsPlugin::on_committed(const Batch& batch, int status) {
  policy_.flush_finished();
  std::vector<Done> waiters;
  if (auto node = waiters_.extract(batch.id); !node.empty()) waiters = std::move(node.mapped());
  if (status == 0) {
    std::vector<ReceiptRef> moved = state_.commit_succeeded(batch);
    for (Done& w : waiters) w(0);
    for (const ReceiptRef& r : moved) announce(r);
  } else {
    state_.commit_failed(batch);
    warn("receipts batch of %zu failed: %s", batch.entries.size(), parley_strerror(status));
    for (Done& w : waiters) w(status);
  }
  maybe_flush();
}

void ReceiptsPlugin::announce(const ReceiptRef& r) {
  const RoomState* room = state_.find_room(r.room_id);
  if (!room || room->members.empty()) return;
  flatbuffers::FlatBufferBuilder fbb(192);
  fbb.Finish(parley::receipts::CreateReceiptDirect(fbb, r.room_id.c_str(), r.user_id.c_str(),
                                                   r.value.read_seq, r.value.delivered_seq,
                                                   r.value.updated_at),
             kIdent);
  std::vector<const char*> ids;
  ids.reserve(room->members.size());
  for (const std::string& m : room->members) ids.push_back(m.c_str());
  // One encoding for every connection of every member, the marking
  // connection and the reader's other devices included.
  int64_t n = api().send_event_to_users(ids.data(), ids.size(), "receipts.updated",
                                        fbb.GetBufferPointer(), fbb.GetSize(), 0);
  updates_total_.add();
  if (n > 0) deliveries_total_.add(static_cast<double>(n));
}

}  // namespace parley::receipts
