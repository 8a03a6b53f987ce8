// A plugin's `config:` subtree as the SDK's opaque parley_config: typed
// getters with defaults, and key declaration so unknown keys are refused.
// Errors name the file, line and full key path, like the kernel's own:
// `parley.yaml:14: plugins.echo.config.prefix: expected a string`.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <deque>
#include <string>

struct parley_plugin;

struct parley_config {
  YAML::Node node;         // the subtree (null/undefined when absent)
  std::string key_path;    // "plugins.<key>.config"
  std::string source;      // the config file, "" when none
  parley_plugin* owner = nullptr;
  std::deque<std::string> strings;  // returned strings, valid until shutdown
};

namespace parley::kernel::host {

int config_get_string(const parley_config* cfg, const char* path, const char* def,
                      const char** out);
int config_get_int(const parley_config* cfg, const char* path, int64_t def, int64_t min,
                   int64_t max, int64_t* out);
int config_get_bool(const parley_config* cfg, const char* path, int def, int* out);
int config_get_double(const parley_config* cfg, const char* path, double def, double* out);
int config_list_size(const parley_config* cfg, const char* path, size_t* out);
int config_declare_keys(const parley_config* cfg, const char* const* keys, size_t n);

// "file:line: " for node (or "" when unknown) — shared with the loader.
std::string config_where(const std::string& source, const YAML::Node& node);

}  // namespace parley::kernel::host
