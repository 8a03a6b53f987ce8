#include "plugin_host.h"

#include "host.h"
#include "loader.h"

namespace parley::kernel {

struct PluginHost::Impl {
  Impl(Core& core, const Config& config) : host(core, config) {}
  host::Host host;
  bool shut_down = false;
};

PluginHost::PluginHost(Core& core, const Config& config)
    : impl_(std::make_unique<Impl>(core, config)) {}

PluginHost::~PluginHost() { shutdown(); }

bool PluginHost::start(std::string* error) {
  std::string local;
  if (!error) error = &local;
  // parleyd prints and logs the refusal line itself.
  return host::load_plugins(impl_->host, error);
}

Dispatcher& PluginHost::dispatcher() { return impl_->host.router; }

void PluginHost::shutdown() {
  if (impl_->shut_down) return;
  impl_->shut_down = true;
  host::shutdown_plugins(impl_->host);
}

}  // namespace parley::kernel
