// One crash-test client for one kill cycle: connects, resumes its user's
// session, resends every unacknowledged message of its ledger with the same
// client_msg_id, then keeps `window` new rooms.send requests in flight until
// the server dies under it. Runs on its own thread; touches only its own
// ledger and stats, and the shared counters in LoadSignals.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "ledger.h"

namespace parley::test::crash {

struct LoadPlan {
  int port = -1;
  std::string token;               // auth.resume token of this client's user
  std::vector<std::string> rooms;  // new messages go round-robin to these
  std::string id_prefix;           // client_msg_id prefix, unique per client
  int window = 16;                 // rooms.send requests in flight at most
  size_t max_new = 5000;           // new messages per cycle at most
};

// Shared with the test's main thread.
struct LoadSignals {
  std::atomic<int> connected{0};   // clients past auth.resume
  std::atomic<int> acked_once{0};  // clients with at least one ack this cycle
};

struct LoadStats {
  bool connected = false;
  size_t retries_sent = 0;   // unacked messages of earlier cycles sent again
  size_t retries_acked = 0;
  size_t new_sent = 0;
  size_t new_acked = 0;
  size_t in_flight_at_close = 0;  // sent, unanswered when the connection died
  std::vector<std::string> errors;  // anything a healthy server never does
};

// Returns when the connection is closed (the kill) or after a safety limit
// of 30 s (then an error is recorded).
void run_load(const LoadPlan& plan, std::vector<SentMessage>& ledger, LoadSignals& signals,
              LoadStats& stats);

// The text of a message: derived from its client_msg_id, 10..209 bytes, so
// that a retry sends exactly the same message.
std::string text_for(const std::string& client_msg_id);

}  // namespace parley::test::crash
