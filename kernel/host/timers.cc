#include "timers.h"

#include <vector>

namespace parley::kernel::host {

Timers::~Timers() {
  for (auto& [id, rec] : live_) {
    rec->owner = nullptr;
    close(rec);
  }
}

parley_timer_id Timers::start(const PluginRef& plugin, uint64_t ms, uint64_t repeat_ms,
                              parley_timer_fn cb, void* ud) {
  if (!cb || !plugin || !plugin->live()) return 0;
  auto* rec = new Rec{{}, next_id_++, plugin, cb, ud, repeat_ms != 0, this};
  uv_timer_init(loop_, &rec->handle);
  rec->handle.data = rec;
  uv_timer_start(&rec->handle, &Timers::on_fire, ms, repeat_ms);
  live_.emplace(rec->id, rec);
  return rec->id;
}

int Timers::stop(parley_timer_id id) {
  auto it = live_.find(id);
  if (it == live_.end()) return PARLEY_ENOENT;
  Rec* rec = it->second;
  live_.erase(it);
  close(rec);
  return 0;
}

void Timers::stop_all(const parley_plugin* plugin) {
  std::vector<parley_timer_id> ids;
  for (auto& [id, rec] : live_)
    if (rec->plugin.get() == plugin) ids.push_back(id);
  for (auto id : ids) stop(id);
}

void Timers::close(Rec* rec) {
  uv_timer_stop(&rec->handle);
  // The Rec (and its plugin reference) lives until libuv is done with it.
  uv_close(reinterpret_cast<uv_handle_t*>(&rec->handle),
           [](uv_handle_t* h) { delete static_cast<Rec*>(h->data); });
}

void Timers::on_fire(uv_timer_t* handle) {
  auto* rec = static_cast<Rec*>(handle->data);
  Timers* self = rec->owner;
  if (!self) return;
  if (!rec->plugin->live()) return;
  PluginRef keep = rec->plugin;  // the callback may stop (and release) this timer
  if (!rec->repeat) {
    // A one-shot ends by firing: the id is stale inside the callback already.
    self->live_.erase(rec->id);
    rec->cb(rec->id, rec->ud);
    close(rec);
    return;
  }
  rec->cb(rec->id, rec->ud);
}

}  // namespace parley::kernel::host
