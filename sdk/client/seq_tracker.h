// Per-room delivery bookkeeping that makes rooms.message delivery exactly-once
// and in seq order across reconnects. Pure logic (no I/O), not thread-safe:
// the Client guards it with a mutex.
//
// A room is "tracked" once we know where its delivered prefix ends (`last`).
// Messages arrive live, from catch-up history or as our own sends; each is
// parked in `pending` by seq and released while it extends the prefix, so a
// message at or below `last` (a repeat) is dropped and one beyond a gap waits
// until a rooms.history after_seq=last fills the gap.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "parley/client/types.hpp"

namespace parley::client {

class SeqTracker {
 public:
  // Offers a message; returns those now deliverable, in seq order. `deliver`
  // false marks this client's own sends: they extend the prefix silently.
  // An untracked room starts tracking just before `m.seq` (a new room).
  std::vector<Message> offer(const Message& m, bool deliver);
  // Starts tracking `room_id` at `last_seq` unless already tracked.
  void baseline(const std::string& room_id, uint64_t last_seq);
  bool tracked(const std::string& room_id) const;
  uint64_t last(const std::string& room_id) const;
  // The after_seq to fetch for `room_id` when it needs a history fetch and
  // none is running (the fetch is then marked running); nullopt otherwise.
  // `known_last_seq` (from rooms.list) also makes a fetch due when it is past
  // what has been delivered.
  std::optional<uint64_t> start_fetch(const std::string& room_id,
                                      uint64_t known_last_seq = 0);
  // A fetch finished; offers its messages (those `deliver` rejects — this
  // client's own sends — extend the prefix silently) and returns the
  // deliverable ones. *again is set when another fetch is due.
  std::vector<Message> finish_fetch(const std::string& room_id,
                                    const std::vector<Message>& fetched, bool has_more,
                                    const std::function<bool(const Message&)>& deliver,
                                    bool* again);
  // A fetch failed (connection lost): allow another one later.
  void abort_fetches();

 private:
  struct Room {
    uint64_t last = 0;
    std::map<uint64_t, std::pair<Message, bool>> pending;
    bool fetching = false;
  };
  std::vector<Message> drain(Room& r);
  std::map<std::string, Room> rooms_;
};

}  // namespace parley::client
