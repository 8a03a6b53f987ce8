// Loading plugins: the config's `plugins:` map -> libraries mapped with
// Boost.DLL (RTLD_LOCAL | RTLD_NOW) -> ABI negotiation -> init in config
// order -> dependency order from requires/provides -> on_all_loaded; and
// shutdown in reverse. Every refusal is one line naming the plugin.
#pragma once

#include <cstdint>
#include <string>

namespace parley::kernel::host {

class Host;

// The ABI majors this parleyd speaks.
inline constexpr uint32_t kHostAbiMajors[] = {1};

// Loads and initialises every enabled plugin, then runs on_all_loaded in
// dependency order. False with *error on the first refusal.
bool load_plugins(Host& host, std::string* error);

// Starts the shutdown: in reverse dependency order, for each plugin: stop
// its timers, cancel its queued work and wait (on the loop) until its
// after_cbs ran, call its shutdown, drop what it registered. Never runs the
// loop itself: callable from inside a loop callback. What waits for work
// continues from Work's after_hook; the last step closes the host's own
// handles so that the loop can end.
void shutdown_plugins(Host& host);
// Advances a started shutdown as far as possible without waiting.
void continue_shutdown(Host& host);

}  // namespace parley::kernel::host
