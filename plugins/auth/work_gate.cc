#include "work_gate.h"

#include <utility>

namespace parley::auth {

bool WorkGate::submit(std::function<void()> start) {
  if (running_ < max_running_) {
    ++running_;
    start();
    return true;
  }
  if (waiting_.size() >= max_waiting_) return false;
  waiting_.push_back(std::move(start));
  return true;
}

void WorkGate::finished() {
  if (running_ > 0) --running_;
  // The slot passes straight to the oldest waiter.
  while (!waiting_.empty() && running_ < max_running_) {
    auto next = std::move(waiting_.front());
    waiting_.pop_front();
    ++running_;
    next();
  }
}

}  // namespace parley::auth
