// What the host keeps per loaded plugin: the definition of the SDK's opaque
// `parley_plugin` handle. Owned by Host through shared_ptr; timers, queued
// work and other pending callbacks hold a reference too, so the library stays
// mapped (boost::dll::shared_library) until the last of them has run.
#pragma once

#include <boost/dll/shared_library.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parley/plugin.h"

struct parley_config;

struct parley_plugin {
  // Loading: library mapped, init not yet called. Init: inside init (may
  // declare things). Loaded: init returned 0. Running: on_all_loaded done.
  // Stopping: shutdown in progress. Down: shutdown returned.
  enum class Phase { Loading, Init, Loaded, Running, Stopping, Down };

  parley_plugin();
  ~parley_plugin();
  parley_plugin(const parley_plugin&) = delete;
  parley_plugin& operator=(const parley_plugin&) = delete;

  // Accepting callbacks into the plugin (events, bus, timers, requests).
  bool live() const { return phase == Phase::Init || phase == Phase::Loaded || phase == Phase::Running; }
  // The name used to tag log lines and messages: set_info's, else the key.
  const std::string& display_name() const { return name.empty() ? key : name; }

  std::string key;   // its key in the config's `plugins:` map
  std::string path;  // the resolved library path
  Phase phase = Phase::Loading;

  // From set_info (copied).
  bool info_set = false;
  std::string name, version, build_signature;
  std::vector<std::string> requires_services, provides_services;
  uint32_t capabilities = 0;
  int (*on_all_loaded)(void*) = nullptr;
  void* on_all_loaded_ud = nullptr;

  std::string error;    // set_error(), failing config getters, refused calls
  std::string refusal;  // a reason to refuse the start even if init returned 0
  uint64_t request_timeout_ms = 30000;

  std::unique_ptr<parley_config> config;
  // Virtual connections this plugin opened: ended (without ops->close) after
  // its shutdown, so the kernel never calls into an unloaded library.
  std::vector<uint64_t> virtual_conns;
  parley_plugin_shutdown_fn shutdown_fn = nullptr;
  void* state = nullptr;

  // Declared last: unmapped only after everything above is gone.
  boost::dll::shared_library library;
};

namespace parley::kernel::host {
using PluginRef = std::shared_ptr<parley_plugin>;
}  // namespace parley::kernel::host
