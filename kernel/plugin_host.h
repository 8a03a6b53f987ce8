// The plugin host: loads plugins with Boost.DLL, implements the SDK's C API
// and dispatches requests to plugin methods.
#pragma once

#include <memory>
#include <string>

#include "core.h"

namespace YAML { class Node; }

namespace parley::kernel {

struct Config;

class PluginHost {
 public:
  // `config` outlives the host.
  PluginHost(Core& core, const Config& config);
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Loads and initialises every enabled plugin of config.plugins, then runs
  // on_all_loaded in dependency order. On refusal returns false with one
  // readable line naming the plugin and the reason in *error; parleyd then
  // exits with code 2.
  bool start(std::string* error);

  // The dispatcher to hand to Core::set_dispatcher.
  Dispatcher& dispatcher();

  // Shuts plugins down in reverse order, stops their timers, drains their
  // work; libraries stay mapped until their last callback has run.
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::kernel
