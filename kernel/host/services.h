// Versioned services between plugins (SDK export_service/get_service): a
// vtable (starting with uint32_t struct_size) registered under (name,
// version) by its exporting plugin, valid until that plugin's shutdown.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "plugin_record.h"

namespace parley::kernel::host {

class Services {
 public:
  int export_service(parley_plugin* plugin, const char* name, uint32_t version,
                     const void* vtable);
  const void* get(const char* name, uint32_t version) const;
  // The plugin exporting any version of `name`, or nullptr.
  parley_plugin* exporter(const std::string& name) const;
  void remove_all(const parley_plugin* plugin);

 private:
  struct Entry {
    parley_plugin* plugin;
    const void* vtable;
  };
  std::map<std::pair<std::string, uint32_t>, Entry> entries_;
};

}  // namespace parley::kernel::host
