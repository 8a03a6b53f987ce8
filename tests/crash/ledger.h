// The crash test's record of what its clients sent and what the server
// acknowledged, and the check of a room's stored history against it.
// Pure data and rules: no I/O, so the check itself is easy to trust.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace parley::test::crash {

// One rooms.send as the client knows it. A message is sent again, with the
// same client_msg_id and text, after every reconnect until it is acked.
struct SentMessage {
  std::string room_id;
  std::string client_msg_id;  // unique across the whole test
  std::string text;
  bool acked = false;
  uint64_t seq = 0;  // valid when acked
  std::string message_id;
};

// One message of rooms.history.
struct StoredMessage {
  uint64_t seq = 0;
  std::string message_id;
  std::string client_msg_id;
  std::string text;
};

// What the check found; empty problems means the history is consistent.
struct CheckResult {
  std::vector<std::string> problems;
  size_t acked_found = 0;     // acked messages present with their seq and id
  size_t unacked_found = 0;   // sent but never acked, yet stored (fine)
  size_t unacked_absent = 0;  // sent, never acked, not stored (fine until final)
};

// Checks the stored messages of one room with seqs (first_seq, last_seq]
// (`stored` in any order; first_seq 0 = the whole room) against every message
// sent to that room:
//  - seqs are exactly first_seq+1 .. last_seq (gap-free, no repeats);
//  - no client_msg_id is stored twice (retries do not duplicate);
//  - every stored message is one that was sent, with its text;
//  - every acked message in the range is stored at its acked seq with its
//    message_id (nothing acknowledged is lost or moved);
//  - with require_all, every sent message in the range is stored (after the
//    final retries nothing may be missing at all).
// A range check (first_seq > 0) only judges messages whose seq falls in it;
// messages not stored anywhere in it are judged only by full checks.
CheckResult check_room(const std::string& room_id, const std::vector<StoredMessage>& stored,
                       uint64_t first_seq, uint64_t last_seq,
                       const std::vector<const SentMessage*>& sent, bool require_all);

}  // namespace parley::test::crash
