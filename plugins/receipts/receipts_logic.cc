#include "receipts_logic.h"

#include <algorithm>
#include <stdexcept>

#include "parley/util/keys.hpp"

namespace parley::receipts {

bool covers(const Watermark& w, MarkKind kind, uint64_t seq) {
  return kind == MarkKind::Read ? w.read_seq >= seq : w.delivered_seq >= seq;
}

Watermark apply_mark(Watermark w, MarkKind kind, uint64_t seq, uint64_t now) {
  Watermark next = w;
  if (kind == MarkKind::Read) next.read_seq = std::max(next.read_seq, seq);
  next.delivered_seq = std::max(next.delivered_seq, kind == MarkKind::Read ? next.read_seq : seq);
  if (moved(w, next)) next.updated_at = now;
  return next;
}

Watermark merge(const Watermark& a, const Watermark& b) {
  Watermark m;
  m.read_seq = std::max(a.read_seq, b.read_seq);
  m.delivered_seq = std::max({a.delivered_seq, b.delivered_seq, m.read_seq});
  m.updated_at = std::max(a.updated_at, b.updated_at);
  return m;
}

bool moved(const Watermark& from, const Watermark& to) {
  return to.read_seq > from.read_seq || to.delivered_seq > from.delivered_seq;
}

namespace {
constexpr uint8_t kRoomTag = 'R';
constexpr uint8_t kUserTag = 'U';

std::string pair_key(uint8_t tag, std::string_view a, std::string_view b) {
  return keys::KeyBuilder().u8(tag).str(a).str(b).done();
}

std::optional<std::pair<std::string, std::string>> parse_pair(uint8_t tag, std::string_view key) {
  try {
    keys::KeyReader r(key);
    if (r.u8() != tag) return std::nullopt;
    std::string a(r.str());
    std::string b(r.str());
    if (!r.at_end()) return std::nullopt;
    return std::make_pair(std::move(a), std::move(b));
  } catch (const std::out_of_range&) {
    return std::nullopt;
  }
}
}  // namespace

std::string room_key(std::string_view room_id, std::string_view user_id) {
  return pair_key(kRoomTag, room_id, user_id);
}
std::string room_prefix(std::string_view room_id) {
  return keys::KeyBuilder().u8(kRoomTag).str(room_id).done();
}
std::string user_key(std::string_view user_id, std::string_view room_id) {
  return pair_key(kUserTag, user_id, room_id);
}
std::string user_prefix(std::string_view user_id) {
  return keys::KeyBuilder().u8(kUserTag).str(user_id).done();
}

std::optional<std::pair<std::string, std::string>> parse_room_key(std::string_view key) {
  return parse_pair(kRoomTag, key);
}
std::optional<std::pair<std::string, std::string>> parse_user_key(std::string_view key) {
  return parse_pair(kUserTag, key);
}

std::string encode_watermark(const Watermark& w) {
  return keys::KeyBuilder().u64(w.read_seq).u64(w.delivered_seq).u64(w.updated_at).done();
}

std::optional<Watermark> decode_watermark(std::string_view value) {
  if (value.size() != 24) return std::nullopt;
  keys::KeyReader r(value);
  Watermark w;
  w.read_seq = r.u64();
  w.delivered_seq = r.u64();
  w.updated_at = r.u64();
  return w;
}

}  // namespace parley::receipts
