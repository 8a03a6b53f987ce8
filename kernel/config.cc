#include "config.h"

#include <charconv>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

namespace parley::kernel {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMiB = 1ull << 20;

// Carries the context every error message needs: which file, and which key
// paths came from --set (their nodes have no line in the file).
class Validator {
 public:
  Validator(std::string path, std::map<std::string, std::string> set_paths)
      : path_(std::move(path)), set_paths_(std::move(set_paths)) {}

  // "file:line: key.path: reason", or "--set k=v: key.path: reason".
  bool fail(const YAML::Node& node, const std::string& key,
            const std::string& reason) {
    if (!error_.empty()) return false;
    error_ = where(node, key) + ": " + key + ": " + reason;
    return false;
  }
  const std::string& error() const { return error_; }

  bool integer(const YAML::Node& node, const std::string& key, uint64_t lo,
               uint64_t hi, uint64_t* out) {
    uint64_t value = 0;
    const std::string& text = node.IsScalar() ? node.Scalar() : std::string();
    auto res = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!node.IsScalar() || text.empty() || res.ec != std::errc() ||
        res.ptr != text.data() + text.size() || value < lo || value > hi) {
      return fail(node, key,
                  "expected an integer between " + std::to_string(lo) +
                      " and " + std::to_string(hi));
    }
    *out = value;
    return true;
  }

  bool string(const YAML::Node& node, const std::string& key,
              std::string* out) {
    if (!node.IsScalar() || node.Scalar().empty())
      return fail(node, key, "expected a non-empty string");
    *out = node.Scalar();
    return true;
  }

  bool boolean(const YAML::Node& node, const std::string& key, bool* out) {
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value))
      return fail(node, key, "expected true or false");
    *out = value;
    return true;
  }

  bool map(const YAML::Node& node, const std::string& key) {
    if (!node.IsMap()) return fail(node, key, "expected a map");
    return true;
  }

  // Every key of `node` must be in `allowed`.
  bool known_keys(const YAML::Node& node, const std::string& prefix,
                  std::initializer_list<const char*> allowed) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string k = it->first.Scalar();
      bool ok = false;
      for (const char* a : allowed) ok = ok || k == a;
      if (!ok) {
        std::string list;
        for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        return fail(it->first, join(prefix, k),
                    "unknown key (expected one of: " + list + ")");
      }
    }
    return true;
  }

  static std::string join(const std::string& prefix, const std::string& k) {
    return prefix.empty() ? k : prefix + "." + k;
  }

 private:
  std::string where(const YAML::Node& node, const std::string& key) const {
    // A key path at or below a --set override names the override.
    for (const auto& [set_key, arg] : set_paths_) {
      if (key == set_key || key.rfind(set_key + ".", 0) == 0)
        return "--set " + arg;
    }
    std::string file = path_.empty() ? std::string("<defaults>") : path_;
    if (node.IsDefined() && !node.Mark().is_null())
      return file + ":" + std::to_string(node.Mark().line + 1);
    return file;
  }

  std::string path_;
  std::map<std::string, std::string> set_paths_;
  std::string error_;
};

std::vector<std::string> split_path(const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = key.find('.', start);
    parts.push_back(key.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

bool parse_index(const std::string& s, size_t* out) {
  auto res = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && res.ec == std::errc() && res.ptr == s.data() + s.size();
}

// Applies one `key.path=value`: value in YAML syntax; list items by index
// (index == size appends); missing map keys are created.
bool apply_set(YAML::Node& root, const std::string& arg, std::string* key_out,
               std::string* error) {
  size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) {
    *error = "--set " + arg + ": expected key.path=value";
    return false;
  }
  std::string key = arg.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(arg.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    *error = "--set " + arg + ": " + key + ": " + e.msg;
    return false;
  }
  if (!value.IsDefined() || value.IsNull()) value = YAML::Node(YAML::NodeType::Null);
  std::vector<std::string> parts = split_path(key);
  if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  YAML::Node cur = root;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    if (part.empty()) {
      *error = "--set " + arg + ": " + key + ": empty path segment";
      return false;
    }
    bool last = i + 1 == parts.size();
    YAML::Node next;
    if (cur.IsSequence()) {
      size_t index = 0;
      if (!parse_index(part, &index) || index > cur.size()) {
        *error = "--set " + arg + ": " + key + ": '" + part +
                 "' is not an index of a list of " + std::to_string(cur.size());
        return false;
      }
      if (index == cur.size()) cur.push_back(YAML::Node(YAML::NodeType::Map));
      next.reset(cur[index]);
    } else if (cur.IsMap() || cur.IsNull()) {
      if (cur.IsNull()) cur = YAML::Node(YAML::NodeType::Map);
      if (!cur[part].IsDefined() || (cur[part].IsNull() && !last)) {
        // A missing key followed by an index starts a list.
        size_t unused = 0;
        bool list = !last && parse_index(parts[i + 1], &unused);
        cur[part] = YAML::Node(list ? YAML::NodeType::Sequence : YAML::NodeType::Map);
      }
      next.reset(cur[part]);
    } else {
      *error = "--set " + arg + ": " + key + ": '" + part +
               "' is below a scalar value";
      return false;
    }
    if (last) {
      next = value;  // assigns through the reference into the tree
    } else {
      cur.reset(next);
    }
  }
  *key_out = key;
  return true;
}

std::string absolute(const std::string& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(fs::path(p), ec);
  return (ec ? fs::path(p) : abs).lexically_normal().string();
}

bool load_listener(Validator& v, const YAML::Node& node, const std::string& key,
                   const std::string& data_dir, ListenerConfig* out) {
  if (!v.map(node, key)) return false;
  if (!v.known_keys(node, key, {"name", "address", "port", "tls"})) return false;
  if (!node["name"]) return v.fail(node, key + ".name", "required");
  if (!v.string(node["name"], key + ".name", &out->name)) return false;
  out->address = "127.0.0.1";
  if (node["address"] && !v.string(node["address"], key + ".address", &out->address))
    return false;
  if (!node["port"]) return v.fail(node, key + ".port", "required (0 picks a free port)");
  uint64_t port = 0;
  if (!v.integer(node["port"], key + ".port", 0, 65535, &port)) return false;
  out->port = static_cast<uint16_t>(port);

  const std::string tkey = key + ".tls";
  YAML::Node tls = node["tls"];
  if (!tls) return v.fail(node, tkey, "required: a map {cert, key, dev} or off");
  if (tls.IsScalar()) {
    bool on = true;
    if (!YAML::convert<bool>::decode(tls, on) || on)
      return v.fail(tls, tkey, "expected a map {cert, key, dev} or off");
    out->tls.enabled = false;
    return true;
  }
  if (!v.map(tls, tkey)) return false;
  if (!v.known_keys(tls, tkey, {"cert", "key", "dev"})) return false;
  out->tls.enabled = true;
  if (tls["dev"] && !v.boolean(tls["dev"], tkey + ".dev", &out->tls.dev)) return false;
  if (tls["cert"]) {
    if (!v.string(tls["cert"], tkey + ".cert", &out->tls.cert)) return false;
  } else if (out->tls.dev) {
    out->tls.cert = data_dir + "/dev-cert.pem";
  } else {
    return v.fail(tls, tkey + ".cert", "required (or dev: true)");
  }
  if (tls["key"]) {
    if (!v.string(tls["key"], tkey + ".key", &out->tls.key)) return false;
  } else if (out->tls.dev) {
    out->tls.key = data_dir + "/dev-key.pem";
  } else {
    return v.fail(tls, tkey + ".key", "required (or dev: true)");
  }
  out->tls.cert = absolute(out->tls.cert);
  out->tls.key = absolute(out->tls.key);
  return true;
}

bool load_limits(Validator& v, const YAML::Node& node, Limits* l) {
  if (!node || node.IsNull()) return true;
  if (!v.map(node, "limits")) return false;
  if (!v.known_keys(node, "limits",
                    {"max_frame_bytes", "max_inflight_requests",
                     "max_pending_bytes", "max_pending_bytes_unauthenticated",
                     "max_connections"}))
    return false;
  uint64_t x = 0;
  if (node["max_frame_bytes"]) {
    if (!v.integer(node["max_frame_bytes"], "limits.max_frame_bytes", 64, 64 * kMiB, &x)) return false;
    l->max_frame_bytes = static_cast<uint32_t>(x);
  }
  if (node["max_inflight_requests"]) {
    if (!v.integer(node["max_inflight_requests"], "limits.max_inflight_requests", 1, 1u << 20, &x)) return false;
    l->max_inflight_requests = static_cast<uint32_t>(x);
  }
  if (node["max_pending_bytes"]) {
    if (!v.integer(node["max_pending_bytes"], "limits.max_pending_bytes", 1024, 1ull << 40, &x)) return false;
    l->max_pending_bytes = x;
  }
  if (node["max_pending_bytes_unauthenticated"]) {
    if (!v.integer(node["max_pending_bytes_unauthenticated"],
                   "limits.max_pending_bytes_unauthenticated", 1024, 1ull << 40, &x))
      return false;
    l->max_pending_bytes_unauthenticated = x;
  }
  if (node["max_connections"]) {
    if (!v.integer(node["max_connections"], "limits.max_connections", 1, 10000000, &x)) return false;
    l->max_connections = static_cast<uint32_t>(x);
  }
  return true;
}

bool load_timeouts(Validator& v, const YAML::Node& node, Limits* l) {
  if (!node || node.IsNull()) return true;
  if (!v.map(node, "timeouts")) return false;
  if (!v.known_keys(node, "timeouts", {"handshake_ms", "idle_ms", "drain_ms"})) return false;
  constexpr uint64_t kDay = 24ull * 3600 * 1000;
  if (node["handshake_ms"] && !v.integer(node["handshake_ms"], "timeouts.handshake_ms", 10, kDay, &l->handshake_ms)) return false;
  if (node["idle_ms"] && !v.integer(node["idle_ms"], "timeouts.idle_ms", 10, kDay, &l->idle_ms)) return false;
  if (node["drain_ms"] && !v.integer(node["drain_ms"], "timeouts.drain_ms", 0, 600000, &l->drain_ms)) return false;
  return true;
}

bool load_logging(Validator& v, const YAML::Node& node, Config* out) {
  if (!node || node.IsNull()) return true;
  if (!v.map(node, "logging")) return false;
  if (!v.known_keys(node, "logging", {"level", "format"})) return false;
  if (node["level"]) {
    if (!node["level"].IsScalar() || !log::parse_level(node["level"].Scalar(), &out->log_level))
      return v.fail(node["level"], "logging.level", "expected one of: debug, info, warn, error");
  }
  if (node["format"]) {
    const YAML::Node f = node["format"];
    if (!f.IsScalar() || (f.Scalar() != "text" && f.Scalar() != "json"))
      return v.fail(f, "logging.format", "expected text or json");
    out->log_json = f.Scalar() == "json";
  }
  return true;
}

}  // namespace

bool load_config(const std::string& path, const std::vector<std::string>& sets,
                 const std::string& exe_dir, Config* out, std::string* error) {
  *out = Config();
  out->source_path = path;
  YAML::Node root;
  if (!path.empty()) {
    try {
      root = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
      *error = path + ": cannot read the file";
      return false;
    } catch (const YAML::Exception& e) {
      *error = path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg;
      return false;
    }
  }
  if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  std::map<std::string, std::string> set_paths;
  if (!root.IsMap()) {
    Validator v(path, set_paths);
    v.fail(root, "(top level)", "expected a map");
    *error = v.error();
    return false;
  }
  for (const std::string& arg : sets) {
    std::string key;
    if (!apply_set(root, arg, &key, error)) return false;
    set_paths[key] = arg;
  }

  Validator v(path, set_paths);
  auto done = [&](bool ok) {
    if (!ok) *error = v.error();
    return ok;
  };
  if (!v.known_keys(root, "", {"data_dir", "listeners", "limits", "timeouts",
                               "logging", "plugin_dir", "plugins"}))
    return done(false);

  std::string data_dir = "./data";
  if (root["data_dir"] && !v.string(root["data_dir"], "data_dir", &data_dir))
    return done(false);
  out->data_dir = absolute(data_dir);

  std::string plugin_dir = exe_dir + "/../lib/parley/plugins";
  if (root["plugin_dir"] && !v.string(root["plugin_dir"], "plugin_dir", &plugin_dir))
    return done(false);
  out->plugin_dir = absolute(plugin_dir);

  if (YAML::Node ls = root["listeners"]; ls && !ls.IsNull()) {
    if (!ls.IsSequence()) return done(v.fail(ls, "listeners", "expected a list"));
    std::set<std::string> names;
    for (size_t i = 0; i < ls.size(); ++i) {
      ListenerConfig l;
      std::string key = "listeners." + std::to_string(i);
      if (!load_listener(v, ls[i], key, out->data_dir, &l)) return done(false);
      if (!names.insert(l.name).second)
        return done(v.fail(ls[i]["name"], key + ".name", "duplicate listener name '" + l.name + "'"));
      out->listeners.push_back(std::move(l));
    }
  }
  if (!load_limits(v, root["limits"], &out->limits)) return done(false);
  if (!load_timeouts(v, root["timeouts"], &out->limits)) return done(false);
  if (!load_logging(v, root["logging"], out)) return done(false);

  YAML::Node plugins = root["plugins"];
  if (plugins && !plugins.IsNull() && !plugins.IsMap())
    return done(v.fail(plugins, "plugins", "expected a map of plugin name to settings"));
  out->plugins = (plugins && plugins.IsMap()) ? plugins : YAML::Node(YAML::NodeType::Map);
  return true;
}

}  // namespace parley::kernel
