#include "ledger.h"

#include <unordered_map>

namespace parley::test::crash {

CheckResult check_room(const std::string& room_id, const std::vector<StoredMessage>& stored,
                       uint64_t first_seq, uint64_t last_seq,
                       const std::vector<const SentMessage*>& sent, bool require_all) {
  CheckResult r;
  auto problem = [&](const std::string& what) {
    if (r.problems.size() < 20) r.problems.push_back("room " + room_id + ": " + what);
  };

  // Seq -> stored message; exactly first_seq+1 .. last_seq, each once.
  std::map<uint64_t, const StoredMessage*> by_seq;
  for (const StoredMessage& m : stored) {
    if (m.seq <= first_seq || m.seq > last_seq)
      problem("seq " + std::to_string(m.seq) + " outside the range asked for");
    else if (!by_seq.emplace(m.seq, &m).second)
      problem("seq " + std::to_string(m.seq) + " stored twice");
  }
  for (uint64_t s = first_seq + 1; s <= last_seq; ++s)
    if (!by_seq.count(s)) problem("gap: seq " + std::to_string(s) + " missing");

  std::unordered_map<std::string, const SentMessage*> sent_by_id;
  for (const SentMessage* m : sent) sent_by_id[m->client_msg_id] = m;

  // Every stored message was sent, once, with its text, at its acked seq.
  std::unordered_map<std::string, uint64_t> seq_of_id;
  for (const auto& [seq, m] : by_seq) {
    auto [it, fresh] = seq_of_id.emplace(m->client_msg_id, seq);
    if (!fresh) {
      problem("duplicate: client_msg_id " + m->client_msg_id + " at seq " +
              std::to_string(it->second) + " and " + std::to_string(seq));
      continue;
    }
    auto s = sent_by_id.find(m->client_msg_id);
    if (s == sent_by_id.end()) {
      problem("seq " + std::to_string(seq) + " holds unknown client_msg_id '" + m->client_msg_id +
              "'");
      continue;
    }
    if (m->text != s->second->text)
      problem("seq " + std::to_string(seq) + " text differs from what was sent");
    if (s->second->acked && (s->second->seq != seq || s->second->message_id != m->message_id))
      problem(m->client_msg_id + " acked as seq " + std::to_string(s->second->seq) + " (" +
              s->second->message_id + ") but stored as seq " + std::to_string(seq) + " (" +
              m->message_id + ")");
  }

  // Every acked message of the range is there; unacked ones are counted.
  const bool full = first_seq == 0;
  for (const SentMessage* m : sent) {
    bool stored_here = seq_of_id.count(m->client_msg_id) > 0;
    if (m->acked) {
      if (m->seq > first_seq && m->seq <= last_seq) {
        if (stored_here) ++r.acked_found;
        else problem("LOST: acked " + m->client_msg_id + " seq " + std::to_string(m->seq));
      } else if (m->seq > last_seq) {
        problem("LOST: acked " + m->client_msg_id + " seq " + std::to_string(m->seq) +
                " is above the room's last seq " + std::to_string(last_seq));
      }
    } else if (stored_here) {
      ++r.unacked_found;
    } else if (full) {
      ++r.unacked_absent;
      if (require_all) problem("missing after retries: " + m->client_msg_id);
    }
  }
  return r;
}

}  // namespace parley::test::crash
