// Plugin timers (SDK timer_start/timer_stop): one uv_timer_t each, named by
// a 64-bit id never reused. A timer holds a reference on its plugin, so the
// library stays mapped until the handle's close callback ran.
#pragma once

#include <uv.h>

#include <unordered_map>

#include "plugin_record.h"

namespace parley::kernel::host {

class Timers {
 public:
  explicit Timers(uv_loop_t* loop) : loop_(loop) {}
  ~Timers();
  Timers(const Timers&) = delete;
  Timers& operator=(const Timers&) = delete;

  // 0 when cb is NULL or the plugin is not live.
  parley_timer_id start(const PluginRef& plugin, uint64_t ms, uint64_t repeat_ms,
                        parley_timer_fn cb, void* ud);
  // PARLEY_ENOENT for an unknown, stopped or fired one-shot timer.
  int stop(parley_timer_id id);
  // Stops every timer of `plugin` (shutdown).
  void stop_all(const parley_plugin* plugin);
  size_t active() const { return live_.size(); }

 private:
  struct Rec {
    uv_timer_t handle;
    parley_timer_id id;
    PluginRef plugin;
    parley_timer_fn cb;
    void* ud;
    bool repeat;
    Timers* owner;
  };
  static void on_fire(uv_timer_t* handle);
  static void close(Rec* rec);

  uv_loop_t* loop_;
  std::unordered_map<parley_timer_id, Rec*> live_;
  parley_timer_id next_id_ = 1;
};

}  // namespace parley::kernel::host
