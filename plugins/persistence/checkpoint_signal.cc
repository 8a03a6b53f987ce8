#include "checkpoint_signal.h"

#include <uv.h>

namespace parley::persistence {

int CheckpointSignal::start(void* loop, int signum, std::function<void()> on_signal) {
  stop();
  on_signal_ = std::move(on_signal);
  auto* h = new uv_signal_t;
  int rc = uv_signal_init(static_cast<uv_loop_t*>(loop), h);
  if (rc != 0) {
    delete h;
    return rc;
  }
  h->data = this;
  rc = uv_signal_start(
      h,
      [](uv_signal_t* s, int) {
        auto* self = static_cast<CheckpointSignal*>(s->data);
        if (self && self->on_signal_) self->on_signal_();
      },
      signum);
  handle_ = h;
  if (rc != 0) stop();
  // Never keep the loop alive on its own: shutdown must not wait for it.
  else uv_unref(reinterpret_cast<uv_handle_t*>(h));
  return rc;
}

void CheckpointSignal::stop() {
  if (!handle_) return;
  uv_signal_stop(handle_);
  handle_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(handle_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_signal_t*>(h); });
  handle_ = nullptr;
}

}  // namespace parley::persistence
