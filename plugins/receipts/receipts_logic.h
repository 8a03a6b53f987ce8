// Pure rules of the receipts plugin (PROTOCOL.md §7), free of the SDK and of
// storage so they are unit-tested without a server: watermark arithmetic
// (forward-only, clamped, read implies delivered), unread counts, the storage
// key layout and value encoding, and the coalescing flush policy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace parley::receipts {

// One member's receipt in one room. Both watermarks are message seqs of the
// room; read_seq <= delivered_seq always holds (read implies delivered).
struct Watermark {
  uint64_t read_seq = 0;
  uint64_t delivered_seq = 0;
  uint64_t updated_at = 0;  // Unix ms of the last move

  bool operator==(const Watermark&) const = default;
};

enum class MarkKind { Delivered, Read };

// The seq a mark really asks for: `seq` clamped to the room's last_seq.
inline uint64_t clamp_seq(uint64_t seq, uint64_t last_seq) {
  return seq < last_seq ? seq : last_seq;
}

// True when `w` already records a mark of `kind` up to `seq` (clamped), so
// applying it would change nothing.
bool covers(const Watermark& w, MarkKind kind, uint64_t seq);

// `w` after a mark of `kind` up to `seq` (already clamped): watermarks only
// move forward and read drags delivered along. updated_at becomes `now` when
// something moved, else it is kept.
Watermark apply_mark(Watermark w, MarkKind kind, uint64_t seq, uint64_t now);

// Field-wise maximum (the newer of two states of one forward-only receipt).
Watermark merge(const Watermark& a, const Watermark& b);

// True when `to` is ahead of `from` in read_seq or delivered_seq.
bool moved(const Watermark& from, const Watermark& to);

// Unread messages of a member: last_seq - read_seq, never negative (a
// watermark is clamped, but last_seq may be learnt after the watermark).
inline uint64_t unread_count(uint64_t last_seq, uint64_t read_seq) {
  return last_seq > read_seq ? last_seq - read_seq : 0;
}

// ---------------------------------------------------------- storage ------
//
// Every receipt is stored twice in the plugin's namespace, in one atomic
// batch, so both access paths are one prefix scan:
//   'R' str(room_id) str(user_id) -> value   (receipts.get: a room's members)
//   'U' str(user_id) str(room_id) -> value   (receipts.unread: a user's rooms)
// value = u64 read_seq, u64 delivered_seq, u64 updated_at (big-endian).

std::string room_key(std::string_view room_id, std::string_view user_id);
std::string room_prefix(std::string_view room_id);
std::string user_key(std::string_view user_id, std::string_view room_id);
std::string user_prefix(std::string_view user_id);

// The (first id, second id) of a key built by room_key / user_key (room then
// user, or user then room); nullopt for anything else.
std::optional<std::pair<std::string, std::string>> parse_room_key(std::string_view key);
std::optional<std::pair<std::string, std::string>> parse_user_key(std::string_view key);

std::string encode_watermark(const Watermark& w);
// nullopt for a value of the wrong size.
std::optional<Watermark> decode_watermark(std::string_view value);

// ------------------------------------------------------- flush policy ----
//
// When to commit the receipts that marks have moved. With window_ms == 0
// every mark that moves a watermark is committed at once, by itself. With
// window_ms > 0 commits are throttled with a leading edge: a mark arriving
// while the plugin is idle is committed at once; marks arriving during the
// window that follows a commit (or while a commit is in flight) wait and go
// out together in one batch when both the window has ended and the previous
// commit has completed. So at most one commit per window is started, a lone
// mark is not delayed, and each (room, member) gets at most one event per
// window.
class FlushPolicy {
 public:
  explicit FlushPolicy(uint64_t window_ms = 0) : window_ms_(window_ms) {}

  uint64_t window_ms() const { return window_ms_; }
  // Whether a flush should start now, given that some receipts are dirty.
  bool should_flush() const { return window_ms_ == 0 || (!cooling_ && in_flight_ == 0); }
  // A flush started. Returns true when the caller must start a window timer
  // that calls window_ended() after window_ms.
  bool flush_started() {
    ++in_flight_;
    if (window_ms_ == 0) return false;
    cooling_ = true;
    return true;
  }
  void window_ended() { cooling_ = false; }
  void flush_finished() {
    if (in_flight_ > 0) --in_flight_;
  }
  int in_flight() const { return in_flight_; }
  bool cooling() const { return cooling_; }

 private:
  uint64_t window_ms_;
  bool cooling_ = false;
  int in_flight_ = 0;
};

}  // namespace parley::receipts
