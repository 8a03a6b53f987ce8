// Runs a callback on the loop thread whenever the process receives a signal
// (SIGUSR1: "write a checkpoint"). A thin owner of one uv_signal_t on the
// kernel's loop (SDK `loop()`); start and stop on the loop thread.
#pragma once

#include <functional>

struct uv_signal_s;

namespace parley::persistence {

class CheckpointSignal {
 public:
  CheckpointSignal() = default;
  ~CheckpointSignal() { stop(); }
  CheckpointSignal(const CheckpointSignal&) = delete;
  CheckpointSignal& operator=(const CheckpointSignal&) = delete;

  // loop: the kernel's uv_loop_t*. Returns 0 or a libuv error code.
  int start(void* loop, int signum, std::function<void()> on_signal);
  // Idempotent. The handle's memory is freed by its close callback.
  void stop();

 private:
  struct uv_signal_s* handle_ = nullptr;
  std::function<void()> on_signal_;
};

}  // namespace parley::persistence
