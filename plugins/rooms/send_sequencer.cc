#include "send_sequencer.h"

namespace parley::rooms_plugin {

bool SendSequencer::resolve(uint64_t token, bool duplicate) {
  for (Entry& e : queue_) {
    if (e.token == token && !e.resolved) {
      e.resolved = true;
      e.duplicate = duplicate;
      return true;
    }
  }
  return false;
}

SendSequencer::Step SendSequencer::take(size_t max_batch) {
  Step step;
  uint64_t next = last_seq_ + 1;
  while (!queue_.empty() && queue_.front().resolved) {
    const Entry& head = queue_.front();
    if (head.duplicate) {
      step.duplicates.push_back(head.token);
    } else {
      if (in_flight_ != 0 || step.batch.size() >= max_batch) break;
      step.batch.emplace_back(head.token, next++);
    }
    queue_.pop_front();
  }
  if (!step.batch.empty()) in_flight_ = step.batch.size();
  return step;
}

void SendSequencer::commit_done(bool ok) {
  if (ok) last_seq_ += in_flight_;
  in_flight_ = 0;
}

}  // namespace parley::rooms_plugin
