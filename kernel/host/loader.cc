#include "loader.h"

#include <dlfcn.h>

#include <boost/dll/shared_library.hpp>
#include <boost/filesystem.hpp>
#include <algorithm>
#include <charconv>
#include <functional>
#include <map>

#include "c_api.h"
#include "config.h"
#include "config_view.h"
#include "host.h"
#include "log.h"

namespace parley::kernel::host {
namespace {

// Messages from plugins end up in one log line.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

bool refuse(std::string* error, const std::string& plugin, const std::string& reason) {
  *error = "plugin " + plugin + ": " + one_line(reason);
  return false;
}

bool valid_key(const std::string& n) {
  if (n.empty() || n.size() > 32 || !(n[0] >= 'a' && n[0] <= 'z')) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

struct Settings {
  bool enabled = true;
  std::string path;
  uint64_t request_timeout_ms = 30000;
  YAML::Node config;
};

// Validates plugins.<key>: {path, enabled, config, request_timeout_ms}.
bool read_settings(const Host& host, const std::string& key, const YAML::Node& node,
                   Settings* out, std::string* error) {
  const std::string& src = host.config.source_path;
  std::string base = "plugins." + key;
  if (node.IsNull()) return true;
  if (!node.IsMap())
    return refuse(error, key, config_where(src, node) + base + ": expected a map");
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key_node = it->first;
    const YAML::Node v = it->second;
    std::string k = key_node.as<std::string>("");
    std::string where =
        config_where(src, v.IsDefined() && !v.Mark().is_null() ? v : key_node) + base + "." + k +
        ": ";
    if (k == "enabled") {
      bool b = true;
      if (!v.IsScalar() || !YAML::convert<bool>::decode(v, b))
        return refuse(error, key, where + "expected true or false");
      out->enabled = b;
    } else if (k == "path") {
      if (!v.IsScalar() || v.Scalar().empty())
        return refuse(error, key, where + "expected a non-empty path");
      out->path = v.Scalar();
    } else if (k == "request_timeout_ms") {
      uint64_t ms = 0;
      std::string t = v.IsScalar() ? v.Scalar() : "";
      auto r = std::from_chars(t.data(), t.data() + t.size(), ms);
      if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size() || ms < 1 ||
          ms > 3600000)
        return refuse(error, key, where + "expected an integer between 1 and 3600000");
      out->request_timeout_ms = ms;
    } else if (k == "config") {
      out->config.reset(v);
    } else {
      return refuse(error, key,
                    config_where(src, key_node) + base + "." + k +
                        ": unknown setting (known: path, enabled, config, request_timeout_ms)");
    }
  }
  return true;
}

using AbiFn = int32_t(const uint32_t*, size_t);
using InitFn = int(parley_plugin*, parley_get_api_fn, const parley_config*, void**);
using ShutdownFn = void(void*);

// Maps the library and checks its entry points and ABI major.
bool open_library(parley_plugin& p, std::string* error) {
  namespace fs = boost::filesystem;
  fs::path path(p.path);
  if (!fs::exists(path)) return refuse(error, p.key, "no such file: " + p.path);
  boost::dll::fs::error_code ec;
  dlerror();  // clear
  p.library.load(path, boost::dll::load_mode::rtld_local | boost::dll::load_mode::rtld_now, ec);
  if (ec || !p.library.is_loaded()) {
    const char* why = dlerror();
    return refuse(error, p.key,
                  "cannot load " + p.path + ": " + (why ? why : ec.message()) +
                      " (not a plugin shared library?)");
  }
  for (const char* sym : {"parley_plugin_abi", "parley_plugin_init", "parley_plugin_shutdown"})
    if (!p.library.has(sym))
      return refuse(error, p.key,
                    p.path + " is not a Parley plugin: missing entry symbol " + sym);
  auto& abi = p.library.get<AbiFn>("parley_plugin_abi");
  int32_t chosen = abi(kHostAbiMajors, std::size(kHostAbiMajors));
  bool supported = std::find(std::begin(kHostAbiMajors), std::end(kHostAbiMajors),
                             static_cast<uint32_t>(chosen)) != std::end(kHostAbiMajors);
  if (chosen < 0 || !supported)
    return refuse(error, p.key,
                  "unsupported ABI: the plugin " +
                      (chosen < 0 ? std::string("speaks none of this parleyd's ABI majors")
                                  : "chose ABI major " + std::to_string(chosen)) +
                      " (this parleyd supports ABI major 1)");
  p.shutdown_fn = &p.library.get<ShutdownFn>("parley_plugin_shutdown");
  return true;
}

bool init_plugin(parley_plugin& p, std::string* error) {
  auto& init = p.library.get<InitFn>("parley_plugin_init");
  p.phase = parley_plugin::Phase::Init;
  void* state = nullptr;
  int rc = init(&p, &get_api, p.config.get(), &state);
  p.state = state;
  if (rc != 0) {
    p.phase = parley_plugin::Phase::Down;  // never initialised: no shutdown
    if (!p.refusal.empty()) return refuse(error, p.key, p.refusal);
    std::string why = p.error.empty() ? std::string(parley_strerror(rc)) + " (" +
                                            parley_err_name(rc) + ")"
                                      : p.error;
    return refuse(error, p.key, "init failed: " + why);
  }
  p.phase = parley_plugin::Phase::Loaded;
  if (!p.refusal.empty()) return refuse(error, p.key, p.refusal);
  if (!p.info_set) return refuse(error, p.key, "init returned without calling set_info");
  return true;
}

// Orders plugins so that each comes after the providers of what it requires.
bool dependency_order(Host& host, std::string* error) {
  std::map<std::string, parley_plugin*> provider;
  for (auto& p : host.plugins)
    for (auto& s : p->provides_services) provider.emplace(s, p.get());
  auto find_provider = [&](const std::string& s) -> parley_plugin* {
    auto it = provider.find(s);
    return it != provider.end() ? it->second : host.services.exporter(s);
  };
  for (auto& p : host.plugins)
    for (auto& s : p->requires_services)
      if (!find_provider(s))
        return refuse(error, p->key,
                      "requires service '" + s + "', which no loaded plugin provides");

  std::map<parley_plugin*, int> mark;  // 1 visiting, 2 done
  std::vector<parley_plugin*> stack;
  std::function<bool(parley_plugin*)> visit = [&](parley_plugin* p) {
    if (mark[p] == 2) return true;
    if (mark[p] == 1) {
      std::string cycle;
      auto it = std::find(stack.begin(), stack.end(), p);
      for (; it != stack.end(); ++it) cycle += (*it)->key + " -> ";
      return refuse(error, p->key, "dependency cycle: " + cycle + p->key);
    }
    mark[p] = 1;
    stack.push_back(p);
    for (auto& s : p->requires_services) {
      parley_plugin* dep = find_provider(s);
      if (dep != p && !visit(dep)) return false;
    }
    stack.pop_back();
    mark[p] = 2;
    host.order.push_back(p);
    return true;
  };
  for (auto& p : host.plugins)
    if (!visit(p.get())) return false;
  return true;
}

}  // namespace

bool load_plugins(Host& host, std::string* error) {
  const YAML::Node& plugins = host.config.plugins;
  if (!plugins || plugins.IsNull()) return true;
  if (!plugins.IsMap()) {
    *error = config_where(host.config.source_path, plugins) +
             "plugins: expected a map of plugin name to settings";
    return false;
  }
  for (auto it = plugins.begin(); it != plugins.end(); ++it) {
    std::string key = it->first.as<std::string>("");
    if (!valid_key(key) || key == "sys")
      return refuse(error, key,
                    config_where(host.config.source_path, it->first) +
                        "invalid plugin name (expected [a-z][a-z0-9_]{0,31}, not 'sys')");
    Settings s;
    if (!read_settings(host, key, it->second, &s, error)) return false;
    if (!s.enabled) {
      log::logf(log::Level::Info, "host", 0, "plugin %s disabled in config", key.c_str());
      continue;
    }
    auto p = std::make_shared<parley_plugin>();
    p->key = key;
    p->request_timeout_ms = s.request_timeout_ms;
    std::string rel = s.path.empty() ? "lib" + key + ".so" : s.path;
    boost::filesystem::path path(rel);
    p->path = path.is_absolute() ? rel : (boost::filesystem::path(host.config.plugin_dir) / path).string();
    p->config = std::make_unique<parley_config>();
    p->config->node.reset(s.config);
    p->config->key_path = "plugins." + key + ".config";
    p->config->source = host.config.source_path;
    p->config->owner = p.get();
    host.plugins.push_back(p);
    if (!open_library(*p, error)) return false;
    if (!init_plugin(*p, error)) return false;
    log::logf(log::Level::Info, "host", 0, "plugin %s %s loaded from %s", p->name.c_str(),
              p->version.c_str(), p->path.c_str());
  }
  if (!dependency_order(host, error)) return false;
  for (parley_plugin* p : host.order) {
    if (p->on_all_loaded) {
      p->error.clear();
      int rc = p->on_all_loaded(p->on_all_loaded_ud);
      if (rc != 0)
        return refuse(error, p->key,
                      "on_all_loaded failed: " +
                          (p->error.empty() ? std::string(parley_strerror(rc)) : p->error));
    }
    p->phase = parley_plugin::Phase::Running;
  }
  return true;
}

void shutdown_plugins(Host& host) {
  if (host.stopping) return;
  host.stopping = true;
  // What was posted (bus deliveries, post_to_loop) runs while every plugin
  // is still up. The queue stays open until the last plugin is down: work
  // still running on the pool may post its answer back (post_to_loop).
  host.queue.run_pending();
  // Plugins that never got an order (a failed start) go in config order.
  std::vector<parley_plugin*> order = host.order;
  for (auto& p : host.plugins)
    if (std::find(order.begin(), order.end(), p.get()) == order.end()) order.push_back(p.get());
  host.shutdown_order.assign(order.rbegin(), order.rend());
  host.shutdown_next = 0;
  continue_shutdown(host);
}

void continue_shutdown(Host& host) {
  while (host.shutdown_next < host.shutdown_order.size()) {
    parley_plugin* p = host.shutdown_order[host.shutdown_next];
    if (p->phase == parley_plugin::Phase::Loaded || p->phase == parley_plugin::Phase::Running) {
      // Stopping: no more requests, events, bus deliveries or timer fires.
      p->phase = parley_plugin::Phase::Stopping;
      host.timers.stop_all(p);
      host.work.cancel_all(p);
    }
    if (p->phase != parley_plugin::Phase::Stopping) {
      host.shutdown_next++;
      continue;
    }
    // after_cb always runs, on the loop, before the plugin's shutdown.
    if (host.work.pending(p) > 0) return;
    // Its work is done, so whatever that work posted is queued by now: run
    // it while the plugin is still up.
    host.queue.run_pending();
    if (p->shutdown_fn) p->shutdown_fn(p->state);
    p->state = nullptr;
    p->phase = parley_plugin::Phase::Down;
    for (uint64_t conn : p->virtual_conns) host.core.virtual_gone(conn);  // ECLOSED if ended
    p->virtual_conns.clear();
    host.router.drop_requests(p);
    host.events.remove_all(p);
    host.bus.remove_all(p);
    host.services.remove_all(p);
    host.timers.stop_all(p);
    log::logf(log::Level::Info, "host", 0, "plugin %s shut down", p->display_name().c_str());
    host.shutdown_next++;
  }
  if (host.shutdown_complete) return;
  host.shutdown_complete = true;
  // The host's own handles close now so the loop can end (posts are refused
  // from here on); libraries unmap when the last timer's close callback has
  // dropped its reference.
  host.router.close_handles();
  host.work.close_handles();
  host.queue.close();
}

}  // namespace parley::kernel::host
