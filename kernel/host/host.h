// The plugin host's state: one per process (the SDK's C functions reach it
// through Host::current(), since get_api hands out plain function pointers).
// Everything here runs on the loop thread except what metrics.h and
// loop_queue.h mark thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bus.h"
#include "core.h"
#include "delivery.h"
#include "events.h"
#include "loop_queue.h"
#include "metrics.h"
#include "plugin_record.h"
#include "router.h"
#include "services.h"
#include "timers.h"
#include "work.h"

namespace parley::kernel {
struct Config;
}

namespace parley::kernel::host {

class Host {
 public:
  Host(Core& core, const Config& config);
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // The live host, or nullptr (SDK calls then fail with PARLEY_EUNAVAIL).
  static Host* current();

  PluginRef ref(const parley_plugin* plugin) const;

  Core& core;
  const Config& config;
  Delivery delivery;
  Metrics metrics;
  LoopQueue queue;
  Timers timers;
  Work work;
  Events events;
  Bus bus;
  Services services;
  Router router;
  std::vector<PluginRef> plugins;     // in config (init) order
  std::vector<parley_plugin*> order;  // dependency order (on_all_loaded)
  bool stopping = false;
  // Shutdown progress (loader.cc): plugins in reverse dependency order, the
  // next one to shut down, and whether everything is done.
  std::vector<parley_plugin*> shutdown_order;
  size_t shutdown_next = 0;
  bool shutdown_complete = false;
};

}  // namespace parley::kernel::host
