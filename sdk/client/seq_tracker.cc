#include "seq_tracker.h"

namespace parley::client {

std::vector<Message> SeqTracker::offer(const Message& m, bool deliver) {
  auto [it, inserted] = rooms_.try_emplace(m.room_id);
  Room& r = it->second;
  if (inserted) r.last = m.seq > 0 ? m.seq - 1 : 0;
  if (m.seq <= r.last) return {};
  r.pending.try_emplace(m.seq, m, deliver);
  return drain(r);
}

std::vector<Message> SeqTracker::drain(Room& r) {
  std::vector<Message> out;
  while (!r.pending.empty() && r.pending.begin()->first <= r.last + 1) {
    auto node = r.pending.extract(r.pending.begin());
    if (node.key() == r.last + 1) {
      r.last = node.key();
      if (node.mapped().second) out.push_back(std::move(node.mapped().first));
    }
  }
  return out;
}

void SeqTracker::baseline(const std::string& room_id, uint64_t last_seq) {
  auto [it, inserted] = rooms_.try_emplace(room_id);
  if (inserted) it->second.last = last_seq;
}

bool SeqTracker::tracked(const std::string& room_id) const {
  return rooms_.count(room_id) > 0;
}

uint64_t SeqTracker::last(const std::string& room_id) const {
  auto it = rooms_.find(room_id);
  return it == rooms_.end() ? 0 : it->second.last;
}

std::optional<uint64_t> SeqTracker::start_fetch(const std::string& room_id,
                                                uint64_t known_last_seq) {
  Room& r = rooms_[room_id];
  if (r.fetching) return std::nullopt;
  if (r.pending.empty() && known_last_seq <= r.last) return std::nullopt;
  r.fetching = true;
  return r.last;
}

std::vector<Message> SeqTracker::finish_fetch(const std::string& room_id,
                                              const std::vector<Message>& fetched,
                                              bool has_more,
                                              const std::function<bool(const Message&)>& deliver,
                                              bool* again) {
  Room& r = rooms_[room_id];
  r.fetching = false;
  const uint64_t before = r.last;
  std::vector<Message> out;
  for (const auto& m : fetched) {
    if (m.seq <= r.last) continue;
    r.pending.try_emplace(m.seq, m, deliver(m));
  }
  out = drain(r);
  // Fetch again while the server says there is more, or a gap remains and
  // this fetch made progress (no progress would only loop).
  *again = r.last > before && (has_more || !r.pending.empty());
  return out;
}

void SeqTracker::abort_fetches() {
  for (auto& [id, r] : rooms_) r.fetching = false;
}

}  // namespace parley::client
