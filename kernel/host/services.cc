#include "services.h"

#include <cstring>

namespace parley::kernel::host {

int Services::export_service(parley_plugin* plugin, const char* name, uint32_t version,
                             const void* vtable) {
  if (!plugin || !name || !*name || !vtable) return PARLEY_EINVAL;
  uint32_t struct_size = 0;
  std::memcpy(&struct_size, vtable, sizeof struct_size);
  if (struct_size < sizeof(uint32_t)) return PARLEY_EINVAL;
  auto [it, inserted] = entries_.emplace(std::make_pair(std::string(name), version),
                                         Entry{plugin, vtable});
  return inserted ? 0 : PARLEY_EEXIST;
}

const void* Services::get(const char* name, uint32_t version) const {
  if (!name) return nullptr;
  auto it = entries_.find(std::make_pair(std::string(name), version));
  if (it == entries_.end() || !it->second.plugin->live()) return nullptr;
  return it->second.vtable;
}

parley_plugin* Services::exporter(const std::string& name) const {
  for (const auto& [key, entry] : entries_)
    if (key.first == name) return entry.plugin;
  return nullptr;
}

void Services::remove_all(const parley_plugin* plugin) {
  std::erase_if(entries_, [&](const auto& kv) { return kv.second.plugin == plugin; });
}

}  // namespace parley::kernel::host
