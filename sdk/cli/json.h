// Just enough JSON for the CLI: an object writer for --json output and the
// session file, and a reader for flat objects of strings and numbers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace parley::cli {

std::string json_quote(const std::string& s);

// Builds one JSON object: add fields in order, then str().
class JsonObject {
 public:
  JsonObject& add(const std::string& key, const std::string& value);
  JsonObject& add(const std::string& key, const char* value);
  JsonObject& add(const std::string& key, uint64_t value);
  JsonObject& add(const std::string& key, bool value);
  // `raw` is already JSON (a nested object or array).
  JsonObject& add_raw(const std::string& key, const std::string& raw);
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void key(const std::string& k);
  std::string body_;
};

std::string json_array(const std::vector<std::string>& raw_items);

// Parses {"k": "v", "n": 12, ...} (no nesting); nullopt when malformed.
// Numbers come back as their decimal text.
std::optional<std::map<std::string, std::string>> parse_flat_json(const std::string& text);

}  // namespace parley::cli
