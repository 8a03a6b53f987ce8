#include "loop_queue.h"

#include <utility>

namespace parley::kernel::host {

LoopQueue::LoopQueue(uv_loop_t* loop) : async_(new uv_async_t), check_(new uv_check_t) {
  uv_async_init(loop, async_, &LoopQueue::on_async);
  async_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(async_));
  uv_check_init(loop, check_);
  check_->data = this;
  uv_check_start(check_, &LoopQueue::on_check);
  uv_unref(reinterpret_cast<uv_handle_t*>(check_));
}

LoopQueue::~LoopQueue() { close(); }

void LoopQueue::close() {
  uv_async_t* handle = nullptr;
  {
    std::lock_guard lock(mu_);
    accepting_ = false;
    handle = std::exchange(async_, nullptr);
  }
  if (!handle) return;
  handle->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(handle),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
  uv_check_stop(check_);
  check_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(check_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
  check_ = nullptr;
}

bool LoopQueue::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (!accepting_) return false;
    if (!async_) return false;
    queue_.push_back(std::move(fn));
    // Sent under the lock: close() (loop thread) cannot free the handle
    // between the check and the send.
    uv_async_send(async_);
  }
  return true;
}

void LoopQueue::close_input() {
  std::lock_guard lock(mu_);
  accepting_ = false;
}

bool LoopQueue::run_batch() {
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(queue_);
  }
  for (auto& fn : batch) fn();
  std::lock_guard lock(mu_);
  return !queue_.empty();
}

void LoopQueue::run_pending() {
  while (run_batch()) {
  }
}

void LoopQueue::on_check(uv_check_t* handle) {
  auto* self = static_cast<LoopQueue*>(handle->data);
  // More was posted meanwhile: wake the next iteration rather than loop here.
  if (self && self->run_batch() && self->async_) uv_async_send(self->async_);
}

void LoopQueue::on_async(uv_async_t* handle) {
  // One batch per wake-up: closures that post more (a bus ping-pong) wait for
  // the next loop iteration instead of starving I/O.
  auto* self = static_cast<LoopQueue*>(handle->data);
  if (self && self->run_batch()) uv_async_send(handle);
}

}  // namespace parley::kernel::host
