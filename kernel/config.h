// parleyd's configuration: a YAML file (yaml-cpp) plus `--set key.path=value`
// overrides, validated into typed fields. Errors name the file, the line and
// the key path: `config/parley.yaml:12: limits.max_frame_bytes: expected an
// integer between 64 and 67108864`.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core.h"
#include "log.h"

namespace parley::kernel {

struct TlsConfig {
  bool enabled = true;  // false for `tls: off`
  bool dev = false;     // generate a self-signed pair when cert/key are missing
  std::string cert, key;  // absolute paths
};

struct ListenerConfig {
  std::string name, address;
  uint16_t port = 0;  // 0: the OS picks a free port
  TlsConfig tls;
};

struct Config {
  std::string source_path;  // the file it came from ("" when none)
  std::string data_dir;     // absolute, created at start
  std::string plugin_dir;   // absolute; default: <dir of parleyd>/../lib/parley/plugins
  std::vector<ListenerConfig> listeners;
  Limits limits;  // core.h; includes the timeouts
  log::Level log_level = log::Level::Info;
  bool log_json = false;
  // The `plugins:` map after --set; marks (line numbers) preserved; validated
  // by the plugin host. A null/empty node when absent.
  YAML::Node plugins;
};

// Loads `path` (may be empty: all defaults), applies each `key.path=value`
// of `sets` in order, validates. Relative paths in the file resolve against
// the process's working directory. `exe_dir` is the directory holding
// parleyd (for the default plugin_dir). Returns false with a readable error
// (path:line: key.path: reason) in *error.
bool load_config(const std::string& path, const std::vector<std::string>& sets,
                 const std::string& exe_dir, Config* out, std::string* error);

}  // namespace parley::kernel
