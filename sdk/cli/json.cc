#include "json.h"

#include <parley/util/json.hpp>

namespace parley::cli {

std::string json_quote(const std::string& s) { return util::json_quote(s); }

void JsonObject::key(const std::string& k) {
  if (!body_.empty()) body_ += ",";
  body_ += json_quote(k) + ":";
}

JsonObject& JsonObject::add(const std::string& k, const std::string& v) {
  key(k);
  body_ += json_quote(v);
  return *this;
}

JsonObject& JsonObject::add(const std::string& k, const char* v) { return add(k, std::string(v)); }

JsonObject& JsonObject::add(const std::string& k, uint64_t v) {
  key(k);
  body_ += std::to_string(v);
  return *this;
}

JsonObject& JsonObject::add(const std::string& k, bool v) {
  key(k);
  body_ += v ? "true" : "false";
  return *this;
}

JsonObject& JsonObject::add_raw(const std::string& k, const std::string& raw) {
  key(k);
  body_ += raw;
  return *this;
}

std::string json_array(const std::vector<std::string>& raw_items) {
  std::string out = "[";
  for (size_t i = 0; i < raw_items.size(); ++i) {
    if (i) out += ",";
    out += raw_items[i];
  }
  return out + "]";
}

namespace {

void skip_ws(const std::string& t, size_t& i) {
  while (i < t.size() && (t[i] == ' ' || t[i] == '\n' || t[i] == '\r' || t[i] == '\t')) ++i;
}

std::optional<std::string> parse_string(const std::string& t, size_t& i) {
  if (i >= t.size() || t[i] != '"') return std::nullopt;
  std::string out;
  for (++i; i < t.size(); ++i) {
    char c = t[i];
    if (c == '"') {
      ++i;
      return out;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= t.size()) return std::nullopt;
    switch (t[i]) {
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        if (i + 4 >= t.size()) return std::nullopt;
        out += static_cast<char>(std::stoi(t.substr(i + 1, 4), nullptr, 16));
        i += 4;
        break;
      }
      default: out += t[i];
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::map<std::string, std::string>> parse_flat_json(const std::string& t) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  skip_ws(t, i);
  if (i >= t.size() || t[i] != '{') return std::nullopt;
  ++i;
  skip_ws(t, i);
  if (i < t.size() && t[i] == '}') return out;
  for (;;) {
    skip_ws(t, i);
    auto k = parse_string(t, i);
    if (!k) return std::nullopt;
    skip_ws(t, i);
    if (i >= t.size() || t[i] != ':') return std::nullopt;
    ++i;
    skip_ws(t, i);
    if (i < t.size() && t[i] == '"') {
      auto v = parse_string(t, i);
      if (!v) return std::nullopt;
      out[*k] = *v;
    } else {
      size_t start = i;
      while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ' ' && t[i] != '\n') ++i;
      out[*k] = t.substr(start, i - start);
    }
    skip_ws(t, i);
    if (i < t.size() && t[i] == ',') {
      ++i;
      continue;
    }
    if (i < t.size() && t[i] == '}') return out;
    return std::nullopt;
  }
}

}  // namespace parley::cli
