#include "receipts_state.h"

#include <algorithm>
#include <string_view>

namespace parley::receipts {

// ---------------------------------------------------------------- rooms ---

RoomState* ReceiptState::find_room(const std::string& room_id) {
  auto it = rooms_.find(room_id);
  return it == rooms_.end() ? nullptr : &it->second;
}

const RoomState* ReceiptState::find_room(const std::string& room_id) const {
  auto it = rooms_.find(room_id);
  return it == rooms_.end() ? nullptr : &it->second;
}

void ReceiptState::note_membership(const std::string& user_id, const std::string& room_id,
                                   bool member) {
  auto it = users_.find(user_id);
  if (it == users_.end()) return;
  UserState& u = it->second;
  if (u.index == IndexState::Loaded) {
    if (member)
      u.rooms.insert(room_id);
    else
      u.rooms.erase(room_id);
  } else if (u.index == IndexState::Loading) {
    u.changes_during_load[room_id] = member;
  }
}

void ReceiptState::observe_room(const std::string& room_id, uint64_t last_seq,
                                uint64_t last_activity, std::vector<std::string> members) {
  RoomState& r = rooms_[room_id];
  r.last_seq = std::max(r.last_seq, last_seq);
  r.last_activity = std::max(r.last_activity, last_activity);
  if (r.info_known && r.members == members) return;  // the common case: no change
  // Hash sets keep a change in a 1,000-member room linear.
  std::unordered_set<std::string_view> now(members.begin(), members.end());
  if (r.info_known) {
    std::unordered_set<std::string_view> before(r.members.begin(), r.members.end());
    for (const std::string& m : members)
      if (!before.count(m)) note_membership(m, room_id, true);
    for (const std::string& old : r.members)
      if (!now.count(old)) note_membership(old, room_id, false);
  } else {
    for (const std::string& m : members) note_membership(m, room_id, true);
    // The previous members are unknown, so no loaded index holds this room
    // (loading one puts its rooms here); a loading one might, from an older
    // answer: note that every loading user who is not listed is out.
    for (const std::string& u : loading_users_)
      if (!now.count(u)) note_membership(u, room_id, false);
  }
  r.members = std::move(members);
  r.info_known = true;
}

void ReceiptState::observe_room_ids(const std::string& room_id, uint64_t last_seq,
                                    uint64_t last_activity, const char* const* ids, size_t n) {
  RoomState* r = find_room(room_id);
  if (r && r->info_known && r->members.size() == n &&
      std::equal(r->members.begin(), r->members.end(), ids,
                 [](const std::string& a, const char* b) { return a == b; })) {
    r->last_seq = std::max(r->last_seq, last_seq);
    r->last_activity = std::max(r->last_activity, last_activity);
    return;
  }
  observe_room(room_id, last_seq, last_activity, std::vector<std::string>(ids, ids + n));
}

void ReceiptState::observe_message(const std::string& room_id, uint64_t seq, uint64_t created_at) {
  RoomState* r = find_room(room_id);
  if (!r || !r->info_known) return;
  r->last_seq = std::max(r->last_seq, seq);
  r->last_activity = std::max(r->last_activity, created_at);
}

// --------------------------------------------------------- user indexes ---

const UserState* ReceiptState::find_user(const std::string& user_id) const {
  auto it = users_.find(user_id);
  return it == users_.end() ? nullptr : &it->second;
}

void ReceiptState::index_load_started(const std::string& user_id) {
  UserState& u = users_[user_id];
  u.index = IndexState::Loading;
  u.changes_during_load.clear();
  loading_users_.insert(user_id);
}

void ReceiptState::index_loaded(const std::string& user_id,
                                const std::vector<std::string>& room_ids) {
  UserState& u = users_[user_id];
  u.rooms.clear();
  u.rooms.insert(room_ids.begin(), room_ids.end());
  for (const auto& [room, member] : u.changes_during_load) {
    if (member)
      u.rooms.insert(room);
    else
      u.rooms.erase(room);
  }
  u.changes_during_load.clear();
  u.index = IndexState::Loaded;
  loading_users_.erase(user_id);
}

void ReceiptState::index_load_failed(const std::string& user_id) {
  UserState& u = users_[user_id];
  u.index = IndexState::Absent;
  u.rooms.clear();
  u.changes_during_load.clear();
  loading_users_.erase(user_id);
}

// ------------------------------------------------------ stored receipts ---

MemberReceipt* ReceiptState::find_receipt(const std::string& room_id, const std::string& user_id) {
  RoomState* r = find_room(room_id);
  if (!r) return nullptr;
  auto it = r->receipts.find(user_id);
  return it == r->receipts.end() ? nullptr : &it->second;
}

void ReceiptState::load_receipt(const std::string& room_id, const std::string& user_id,
                                const Watermark& w) {
  RoomState& r = rooms_[room_id];
  auto [it, inserted] = r.receipts.try_emplace(user_id);
  if (inserted) {
    it->second.durable = w;
    it->second.pending = w;
    return;
  }
  if (!it->second.stored_known) settle_loaded(room_id, user_id, it->second, w);
}

void ReceiptState::settle_loaded(const std::string& room_id, const std::string& user_id,
                                 MemberReceipt& m, const Watermark& stored) {
  m.stored_known = true;
  m.durable = stored;
  m.pending = merge(stored, m.pending);
  if (moved(m.durable, m.pending) && !m.dirty) {
    m.dirty = true;
    dirty_.emplace_back(room_id, user_id);
  }
}

void ReceiptState::room_receipts_loaded(const std::string& room_id) {
  RoomState& r = rooms_[room_id];
  r.receipts_loaded = true;
  for (auto& [user, m] : r.receipts)
    if (!m.stored_known) settle_loaded(room_id, user, m, Watermark{});
}

void ReceiptState::user_receipts_loaded(const std::string& user_id) {
  users_[user_id].receipts_loaded = true;
  for (auto& [room_id, r] : rooms_) {
    auto it = r.receipts.find(user_id);
    if (it != r.receipts.end() && !it->second.stored_known)
      settle_loaded(room_id, user_id, it->second, Watermark{});
  }
}

bool ReceiptState::receipt_known(const std::string& room_id, const std::string& user_id) const {
  const RoomState* r = find_room(room_id);
  if (r && r->receipts_loaded) return true;
  if (r) {
    auto it = r->receipts.find(user_id);
    if (it != r->receipts.end() && it->second.stored_known) return true;
  }
  const UserState* u = find_user(user_id);
  return u && u->receipts_loaded;
}

Watermark ReceiptState::durable(const std::string& room_id, const std::string& user_id) const {
  const RoomState* r = find_room(room_id);
  if (!r) return {};
  auto it = r->receipts.find(user_id);
  return it == r->receipts.end() ? Watermark{} : it->second.durable;
}

// ---------------------------------------------------- marks and batches ---

uint64_t ReceiptState::mark(const std::string& room_id, const std::string& user_id, MarkKind kind,
                            uint64_t seq, uint64_t now) {
  MemberReceipt& m = rooms_[room_id].receipts[user_id];
  if (covers(m.durable, kind, seq)) return 0;
  Watermark next = apply_mark(m.pending, kind, seq, now);
  if (!moved(m.pending, next) && !m.dirty && m.last_batch != 0) {
    // Pending already covers the mark and sits in a batch in flight: the
    // mark is durable when that batch is.
    return m.last_batch;
  }
  m.pending = next;
  if (!m.dirty) {
    m.dirty = true;
    dirty_.emplace_back(room_id, user_id);
  }
  return open_batch_;
}

void ReceiptState::mark_before_load(const std::string& room_id, const std::string& user_id,
                                    MarkKind kind, uint64_t seq, uint64_t now) {
  auto [it, inserted] = rooms_[room_id].receipts.try_emplace(user_id);
  MemberReceipt& m = it->second;
  if (inserted) m.stored_known = false;
  m.pending = apply_mark(m.pending, kind, seq, now);
}

Batch ReceiptState::take_batch() {
  Batch b;
  b.id = open_batch_++;
  b.entries.reserve(dirty_.size());
  for (auto& [room, user] : dirty_) {
    MemberReceipt* m = find_receipt(room, user);
    if (!m) continue;  // cannot happen: receipts are never dropped
    m->dirty = false;
    m->last_batch = b.id;
    b.entries.push_back(ReceiptRef{std::move(room), std::move(user), m->pending});
  }
  dirty_.clear();
  return b;
}

std::vector<ReceiptRef> ReceiptState::commit_succeeded(const Batch& b) {
  std::vector<ReceiptRef> out;
  for (const ReceiptRef& e : b.entries) {
    MemberReceipt* m = find_receipt(e.room_id, e.user_id);
    if (!m) continue;
    Watermark before = m->durable;
    m->durable = merge(m->durable, e.value);
    if (moved(before, m->durable)) out.push_back(ReceiptRef{e.room_id, e.user_id, m->durable});
    if (m->last_batch == b.id) m->last_batch = 0;
  }
  return out;
}

void ReceiptState::commit_failed(const Batch& b) {
  for (const ReceiptRef& e : b.entries) {
    MemberReceipt* m = find_receipt(e.room_id, e.user_id);
    if (!m) continue;
    if (m->last_batch == b.id) m->last_batch = 0;
    if (!m->dirty && m->last_batch == 0) m->pending = m->durable;
  }
}

// ------------------------------------------------------ read-your-writes ---

uint64_t ReceiptState::pending_batch(const MemberReceipt& m) const {
  if (!m.stored_known || !moved(m.durable, m.pending)) return 0;
  return m.dirty ? open_batch_ : m.last_batch;
}

namespace {
std::vector<uint64_t> distinct(std::vector<uint64_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}
}  // namespace

std::vector<uint64_t> ReceiptState::pending_batches_of_user(const std::string& user_id) const {
  std::vector<uint64_t> ids;
  const UserState* u = find_user(user_id);
  if (!u) return ids;
  for (const std::string& room_id : u->rooms) {
    auto it = rooms_.find(room_id);
    if (it == rooms_.end()) continue;
    auto rc = it->second.receipts.find(user_id);
    if (rc == it->second.receipts.end()) continue;
    if (uint64_t b = pending_batch(rc->second)) ids.push_back(b);
  }
  return distinct(std::move(ids));
}

std::vector<uint64_t> ReceiptState::pending_batches_of(const std::string& room_id,
                                                       const std::string& user_id) const {
  const RoomState* r = find_room(room_id);
  if (!r) return {};
  auto it = r->receipts.find(user_id);
  if (it == r->receipts.end()) return {};
  uint64_t b = pending_batch(it->second);
  return b ? std::vector<uint64_t>{b} : std::vector<uint64_t>{};
}

// --------------------------------------------------------------- unread ---

std::vector<UnreadRow> ReceiptState::unread_of(const std::string& user_id) const {
  std::vector<UnreadRow> rows;
  const UserState* u = find_user(user_id);
  if (!u) return rows;
  rows.reserve(u->rooms.size());
  for (const std::string& room_id : u->rooms) {
    auto it = rooms_.find(room_id);
    if (it == rooms_.end()) continue;
    const RoomState& r = it->second;
    UnreadRow row;
    row.room_id = &it->first;
    row.last_seq = r.last_seq;
    auto rc = r.receipts.find(user_id);
    row.read_seq = rc == r.receipts.end() ? 0 : rc->second.durable.read_seq;
    row.unread = unread_count(r.last_seq, row.read_seq);
    row.last_activity = r.last_activity;
    rows.push_back(row);
  }
  std::sort(rows.begin(), rows.end(), [](const UnreadRow& a, const UnreadRow& b) {
    if (a.last_activity != b.last_activity) return a.last_activity > b.last_activity;
    return *a.room_id > *b.room_id;
  });
  return rows;
}

}  // namespace parley::receipts
