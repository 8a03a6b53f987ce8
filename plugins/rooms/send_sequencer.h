// Per-room send ordering, free of the SDK so it is unit-tested alone.
//
// Why it exists: seq must be gap-free and duplicate-free even when a storage
// commit fails, and each connection must see a room's events in seq order.
// So a room has at most ONE commit in flight: sends that arrive meanwhile
// wait and go together into the next batch. A failed commit then leaves no
// later seq behind it, and the counter simply rolls back to last_seq + 1.
//
// Sends enter in arrival order (enqueue) and first need their dedupe check
// (resolve: new, or a duplicate of an already stored message). Seqs are
// handed out from the head of the queue only, so arrival order is seq order
// even if dedupe checks complete out of order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

namespace parley::rooms_plugin {

class SendSequencer {
 public:
  explicit SendSequencer(uint64_t last_seq = 0) : last_seq_(last_seq) {}

  // A send arrived; `token` is the caller's handle for it (unique).
  void enqueue(uint64_t token) { queue_.push_back(Entry{token, false, false}); }
  // Its dedupe check finished. Returns false for an unknown token.
  bool resolve(uint64_t token, bool duplicate);

  struct Step {
    std::vector<uint64_t> duplicates;                    // answer from storage
    std::vector<std::pair<uint64_t, uint64_t>> batch;    // (token, seq) to commit
  };
  // Pops what can proceed now: resolved duplicates at the head, and — when no
  // commit is in flight — up to max_batch resolved new sends with consecutive
  // seqs from last_seq + 1. A non-empty batch marks a commit in flight.
  Step take(size_t max_batch);
  // The in-flight batch finished. ok: its seqs are durable (last_seq moves
  // to its end). !ok: nothing was written; the seqs are free again.
  void commit_done(bool ok);

  uint64_t last_seq() const { return last_seq_; }
  bool commit_in_flight() const { return in_flight_ != 0; }
  bool idle() const { return queue_.empty() && in_flight_ == 0; }
  size_t queued() const { return queue_.size(); }

 private:
  struct Entry {
    uint64_t token;
    bool resolved;
    bool duplicate;
  };
  std::deque<Entry> queue_;
  uint64_t last_seq_;
  uint64_t in_flight_ = 0;  // number of seqs in the in-flight batch
};

}  // namespace parley::rooms_plugin
