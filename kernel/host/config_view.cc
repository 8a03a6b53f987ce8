#include "config_view.h"

#include <charconv>
#include <cstdlib>
#include <set>

#include "plugin_record.h"

namespace parley::kernel::host {
namespace {

// Walks a dotted path; list items by index. Returns false (with *found
// undefined) when a step is missing; *where is the deepest node reached.
bool lookup(const YAML::Node& root, const std::string& path, YAML::Node* found) {
  YAML::Node cur;
  cur.reset(root);
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur || cur.IsNull()) return false;
    YAML::Node next;
    // A missing key yields a "zombie" node: copying it is fine, but reset()
    // from it throws YAML::InvalidNode, so test it before adopting it.
    if (cur.IsMap()) {
      YAML::Node child = static_cast<const YAML::Node&>(cur)[part];
      if (!child.IsDefined()) return false;
      next.reset(child);
    } else if (cur.IsSequence()) {
      size_t idx = 0;
      auto r = std::from_chars(part.data(), part.data() + part.size(), idx);
      if (r.ec != std::errc() || r.ptr != part.data() + part.size() || idx >= cur.size())
        return false;
      next.reset(static_cast<const YAML::Node&>(cur)[idx]);
    } else {
      return false;
    }
    if (!next.IsDefined()) return false;
    cur.reset(next);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  found->reset(cur);
  return true;
}

int fail(const parley_config* cfg, const YAML::Node& node, const std::string& path,
         const std::string& reason) {
  std::string msg = config_where(cfg->source, node) + cfg->key_path + "." + path + ": " + reason;
  if (cfg->owner) cfg->owner->error = msg;
  return PARLEY_ECONFIG;
}

}  // namespace

std::string config_where(const std::string& source, const YAML::Node& node) {
  if (!node.IsDefined() || node.Mark().is_null() || node.Mark().line < 0) return "";
  return (source.empty() ? std::string("config") : source) + ":" +
         std::to_string(node.Mark().line + 1) + ": ";
}

int config_get_string(const parley_config* cfg, const char* path, const char* def,
                      const char** out) {
  if (!cfg || !path || !out) return PARLEY_EINVAL;
  YAML::Node n;
  if (!lookup(cfg->node, path, &n) || n.IsNull()) {
    *out = def;
    return 0;
  }
  if (!n.IsScalar()) return fail(cfg, n, path, "expected a string");
  auto& strings = const_cast<parley_config*>(cfg)->strings;
  strings.push_back(n.Scalar());
  *out = strings.back().c_str();
  return 0;
}

int config_get_int(const parley_config* cfg, const char* path, int64_t def, int64_t min,
                   int64_t max, int64_t* out) {
  if (!cfg || !path || !out) return PARLEY_EINVAL;
  YAML::Node n;
  if (!lookup(cfg->node, path, &n) || n.IsNull()) {
    *out = def;
    return 0;
  }
  int64_t v = 0;
  const std::string text = n.IsScalar() ? n.Scalar() : std::string();
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (!n.IsScalar() || text.empty() || r.ec != std::errc() ||
      r.ptr != text.data() + text.size() || v < min || v > max) {
    std::string reason = "expected an integer";
    if (min != INT64_MIN || max != INT64_MAX)
      reason += " between " + std::to_string(min) + " and " + std::to_string(max);
    return fail(cfg, n, path, reason);
  }
  *out = v;
  return 0;
}

int config_get_bool(const parley_config* cfg, const char* path, int def, int* out) {
  if (!cfg || !path || !out) return PARLEY_EINVAL;
  YAML::Node n;
  if (!lookup(cfg->node, path, &n) || n.IsNull()) {
    *out = def;
    return 0;
  }
  bool v = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v))
    return fail(cfg, n, path, "expected true or false");
  *out = v ? 1 : 0;
  return 0;
}

int config_get_double(const parley_config* cfg, const char* path, double def, double* out) {
  if (!cfg || !path || !out) return PARLEY_EINVAL;
  YAML::Node n;
  if (!lookup(cfg->node, path, &n) || n.IsNull()) {
    *out = def;
    return 0;
  }
  const std::string text = n.IsScalar() ? n.Scalar() : std::string();
  char* end = nullptr;
  double v = text.empty() ? 0 : std::strtod(text.c_str(), &end);
  if (!n.IsScalar() || text.empty() || end != text.c_str() + text.size())
    return fail(cfg, n, path, "expected a number");
  *out = v;
  return 0;
}

int config_list_size(const parley_config* cfg, const char* path, size_t* out) {
  if (!cfg || !path || !out) return PARLEY_EINVAL;
  YAML::Node n;
  if (!lookup(cfg->node, path, &n) || n.IsNull()) {
    *out = 0;
    return 0;
  }
  if (!n.IsSequence()) return fail(cfg, n, path, "expected a list");
  *out = n.size();
  return 0;
}

namespace {

// Checks every key of map `node` (at dotted `prefix`) against `declared`: a
// declared key accepts its whole subtree unless nested keys under it are
// declared too ("limits.max"), in which case the nested map is checked.
int check_keys(const parley_config* cfg, const YAML::Node& node, const std::string& prefix,
               const std::set<std::string>& declared) {
  for (auto it = node.begin(); it != node.end(); ++it) {
    std::string key = it->first.as<std::string>("");
    std::string full = prefix.empty() ? key : prefix + "." + key;
    if (!declared.count(full)) {
      std::string known;
      for (const auto& d : declared) {
        if (!prefix.empty() && d.rfind(prefix + ".", 0) != 0) continue;
        std::string rest = prefix.empty() ? d : d.substr(prefix.size() + 1);
        if (rest.find('.') == std::string::npos) known += (known.empty() ? "" : ", ") + rest;
      }
      return fail(cfg, it->first, full, "unknown key (known: " + known + ")");
    }
    bool nested = false;
    for (const auto& d : declared)
      if (d.rfind(full + ".", 0) == 0) nested = true;
    if (nested && it->second.IsMap()) {
      if (int rc = check_keys(cfg, it->second, full, declared)) return rc;
    }
  }
  return 0;
}

}  // namespace

int config_declare_keys(const parley_config* cfg, const char* const* keys, size_t n) {
  if (!cfg || (!keys && n)) return PARLEY_EINVAL;
  if (!cfg->node || cfg->node.IsNull()) return 0;
  if (!cfg->node.IsMap()) {
    std::string msg = config_where(cfg->source, cfg->node) + cfg->key_path + ": expected a map";
    if (cfg->owner) cfg->owner->error = msg;
    return PARLEY_ECONFIG;
  }
  std::set<std::string> declared;
  for (size_t i = 0; i < n; i++) {
    if (!keys[i]) return PARLEY_EINVAL;
    std::string k = keys[i];
    declared.insert(k);
    // "a.b" implies "a" is a known top-level key.
    for (size_t dot = k.find('.'); dot != std::string::npos; dot = k.find('.', dot + 1))
      declared.insert(k.substr(0, dot));
  }
  return check_keys(cfg, cfg->node, "", declared);
}

}  // namespace parley::kernel::host
