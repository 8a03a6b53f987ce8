// Reads a room's stored messages back through rooms.history (pages of 200).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ledger.h"
#include "parley_test.h"

namespace parley::test::crash {

// Every message with seq > after_seq: forward pages from after_seq, or, for
// after_seq 0 (which rooms.history reads as "the latest"), backward pages
// from the end. nullopt (and *error) when a request fails.
std::optional<std::vector<StoredMessage>> read_history(Client& c, const std::string& room_id,
                                                        uint64_t after_seq, std::string* error);

// rooms.get's last_seq; nullopt (and *error) when it fails.
std::optional<uint64_t> last_seq_of(Client& c, const std::string& room_id, std::string* error);

}  // namespace parley::test::crash
