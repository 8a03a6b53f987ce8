// The plugin host: loads plugins with Boost.DLL, implements the SDK's C API
// and dispatches requests to plugin methods.
#pragma once

#include <memory>
#include <string>

#include "core.h"  // kernel/, on parley_log's include path

namespace YAML { class Node; }

namespace parley::kernel {

struct Config;

class PluginHost {
 public:
  // `core` and `config` outlive the host. One PluginHost per process (the
  // SDK's C functions find it through a process-wide pointer).
  PluginHost(Core& core, const Config& config);
  // Calls shutdown() if it has not run.
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Loads and initialises every enabled plugin of config.plugins, then runs
  // on_all_loaded in dependency order. On refusal returns false with one
  // readable line naming the plugin and the reason in *error; parleyd then
  // prints it and exits with code 2. Call before uv_run.
  bool start(std::string* error);

  // The dispatcher to hand to Core::set_dispatcher.
  Dispatcher& dispatcher();

  // Shuts plugins down in reverse dependency order: stops their timers,
  // cancels their queued work and waits for it, calls their shutdown,
  // answers what they left unanswered (Unavailable), then closes the host's
  // own handles. Callable from inside a loop callback: it never runs the
  // loop itself; what waits for running work completes on the loop (keep
  // running it until uv_run returns). Libraries stay mapped until their last
  // callback and timer close have run. Idempotent.
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::kernel
