// The one way into the loop from other threads: a mutex-guarded queue of
// closures (SDK post_to_loop), also used for the bus's asynchronous delivery.
// A uv_async_t wakes the loop for posts from other threads; a uv_check_t
// drains the queue at the end of every loop iteration, so that what the loop
// itself posts (a bus publish inside a request handler) runs before the next
// round of I/O. Both handles are unref'd: they never keep the loop alive.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <mutex>

namespace parley::kernel::host {

class LoopQueue {
 public:
  explicit LoopQueue(uv_loop_t* loop);
  ~LoopQueue();  // close() if not done yet

  LoopQueue(const LoopQueue&) = delete;
  LoopQueue& operator=(const LoopQueue&) = delete;

  // Thread-safe. False once input is closed (fn is dropped unrun).
  bool post(std::function<void()> fn);
  // Refuse further posts (shutdown).
  void close_input();
  // Loop thread: run everything queued, including what those closures queue.
  void run_pending();
  // Closes the async handle (freed by its close callback on a later loop
  // iteration) and refuses further posts.
  void close();

 private:
  // Runs what is queued now; true if more was queued meanwhile.
  bool run_batch();
  static void on_async(uv_async_t* handle);
  static void on_check(uv_check_t* handle);
  uv_async_t* async_;  // nullptr once closed
  uv_check_t* check_;
  std::mutex mu_;
  std::deque<std::function<void()>> queue_;
  bool accepting_ = true;
};

}  // namespace parley::kernel::host
