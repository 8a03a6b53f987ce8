// Admission control for expensive jobs (argon2id hashes): at most
// `max_running` run at once; later ones wait in FIFO order; at most
// `max_waiting` wait, past that submit() refuses (the request is answered
// ResourceExhausted). Loop-thread only.
//
// Why: each hash takes ~19 MiB and tens of milliseconds of a worker thread.
// Without a cap a burst of logins would occupy the whole worker pool (which
// storage shares) and its memory.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>

namespace parley::auth {

class WorkGate {
 public:
  WorkGate(size_t max_running, size_t max_waiting)
      : max_running_(max_running == 0 ? 1 : max_running),
        max_waiting_(max_waiting) {}

  // `start` is called now (if a slot is free) or later from finished().
  // It must eventually lead to exactly one finished() call. Returns false,
  // without calling start, when the queue is full.
  bool submit(std::function<void()> start);

  // A job that was started is done: starts the oldest waiting one.
  void finished();

  size_t running() const { return running_; }
  size_t waiting() const { return waiting_.size(); }

 private:
  size_t max_running_;
  size_t max_waiting_;
  size_t running_ = 0;
  std::deque<std::function<void()>> waiting_;
};

}  // namespace parley::auth
