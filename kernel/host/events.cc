#include "events.h"

#include <algorithm>

namespace parley::kernel::host {

int64_t Events::subscribe(parley_plugin* plugin, uint32_t mask, parley_event_fn cb, void* ud) {
  if (!plugin || !cb || mask == 0) return PARLEY_EINVAL;
  if (mask & ~PARLEY_EV_ALL_V1) return PARLEY_ENOTSUP;
  subs_.push_back(Sub{next_id_++, plugin, mask, cb, ud});
  return subs_.back().id;
}

int Events::unsubscribe(parley_plugin* plugin, int64_t id) {
  auto it = std::find_if(subs_.begin(), subs_.end(),
                         [&](const Sub& s) { return s.id == id && s.plugin == plugin; });
  if (it == subs_.end()) return PARLEY_ENOENT;
  subs_.erase(it);
  return 0;
}

void Events::remove_all(const parley_plugin* plugin) {
  std::erase_if(subs_, [&](const Sub& s) { return s.plugin == plugin; });
}

const Events::Sub* Events::find(int64_t id) const {
  for (const Sub& s : subs_)
    if (s.id == id) return &s;
  return nullptr;
}

void Events::fire(uint32_t type, uint64_t conn, const std::string& user, const std::string& peer,
                  const std::string& transport) {
  parley_event ev{};
  ev.struct_size = sizeof ev;
  ev.type = type;
  ev.conn_id = conn;
  ev.user_id = user.empty() ? nullptr : user.c_str();
  ev.peer = peer.c_str();
  ev.transport = transport.c_str();
  // Subscribers may (un)subscribe while we iterate: walk a snapshot of ids
  // and re-check each one.
  std::vector<int64_t> ids;
  for (const Sub& s : subs_)
    if (s.mask & type) ids.push_back(s.id);
  for (int64_t id : ids) {
    const Sub* s = find(id);
    if (!s || !s->plugin->live()) continue;
    Sub copy = *s;
    copy.cb(&ev, copy.ud);
  }
}

}  // namespace parley::kernel::host
