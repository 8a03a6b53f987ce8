#include "host.h"

#include <atomic>

#include "config.h"
#include "config_view.h"
#include "loader.h"

parley_plugin::parley_plugin() = default;
parley_plugin::~parley_plugin() = default;

namespace parley::kernel::host {
namespace {
std::atomic<Host*> g_current{nullptr};
}

Host::Host(Core& c, const Config& cfg)
    : core(c),
      config(cfg),
      delivery(c),
      queue(c.loop()),
      timers(c.loop()),
      work(c.loop()),
      bus(queue),
      router(*this) {
  g_current.store(this);
  work.after_hook = [this] {
    if (stopping && !shutdown_complete) continue_shutdown(*this);
  };
}

Host::~Host() {
  Host* self = this;
  g_current.compare_exchange_strong(self, nullptr);
}

Host* Host::current() { return g_current.load(); }

PluginRef Host::ref(const parley_plugin* plugin) const {
  for (const auto& p : plugins)
    if (p.get() == plugin) return p;
  return nullptr;
}

}  // namespace parley::kernel::host
