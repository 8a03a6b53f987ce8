// Kernel events for plugins (SDK subscribe/unsubscribe): connection opened /
// closed, session authenticated / deauthenticated. Subscribers run
// synchronously, in subscription order, inside the kernel call that caused
// the event. Event bits are append-only; an unknown bit is ENOTSUP.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plugin_record.h"

namespace parley::kernel::host {

class Events {
 public:
  // > 0 subscription id, or PARLEY_EINVAL / PARLEY_ENOTSUP.
  int64_t subscribe(parley_plugin* plugin, uint32_t mask, parley_event_fn cb, void* ud);
  int unsubscribe(parley_plugin* plugin, int64_t id);
  void remove_all(const parley_plugin* plugin);

  void fire(uint32_t type, uint64_t conn, const std::string& user, const std::string& peer,
            const std::string& transport);

 private:
  struct Sub {
    int64_t id;
    parley_plugin* plugin;
    uint32_t mask;
    parley_event_fn cb;
    void* ud;
  };
  const Sub* find(int64_t id) const;
  std::vector<Sub> subs_;
  int64_t next_id_ = 1;
};

}  // namespace parley::kernel::host
