// Plugin work on libuv's thread pool (SDK queue_work): work_cb on a pool
// thread, after_cb back on the loop with 0 or PARLEY_ECANCELED. Each job holds
// a reference on its plugin so the library stays mapped until after_cb ran.
#pragma once

#include <uv.h>

#include <functional>
#include <unordered_set>

#include "plugin_record.h"

namespace parley::kernel::host {

class Work {
 public:
  explicit Work(uv_loop_t* loop) : loop_(loop) {}
  Work(const Work&) = delete;
  Work& operator=(const Work&) = delete;

  int queue(const PluginRef& plugin, parley_work_fn work_cb, parley_after_work_fn after_cb,
            void* data);
  // Cancels what has not started yet; those get after_cb(ECANCELED).
  void cancel_all(const parley_plugin* plugin);
  // Jobs of `plugin` whose after_cb has not run yet.
  size_t pending(const parley_plugin* plugin) const;
  size_t pending() const { return jobs_.size(); }

  // Called on the loop after every after_cb (the host's shutdown waits on it).
  std::function<void()> after_hook;

 private:
  struct Job {
    uv_work_t req;
    PluginRef plugin;
    parley_work_fn work_cb;
    parley_after_work_fn after_cb;
    void* data;
    Work* owner;
  };
  static void on_work(uv_work_t* req);
  static void on_after(uv_work_t* req, int status);

  uv_loop_t* loop_;
  std::unordered_set<Job*> jobs_;
};

}  // namespace parley::kernel::host
