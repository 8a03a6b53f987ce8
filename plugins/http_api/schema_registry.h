// Method → (request table, response table) map and JSON ↔ FlatBuffers
// conversion, from the `<plugin>.methods.json` files and `.fbs` schemas in
// one directory, using flatbuffers' own schema parser at run time. No
// per-method code: a plugin's methods become reachable by shipping its
// schema and methods file.
#pragma once

#include <flatbuffers/idl.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace parley::http_api {

struct MethodInfo {
  std::string name, request, response, summary;  // request/response "" = empty payload
  bool is_public = false;
  std::string schema;  // key into SchemaRegistry's schemas
};

class SchemaRegistry {
 public:
  // Loads every *.methods.json in dir. Returns "" or the first error.
  std::string load_dir(const std::string& dir);

  const MethodInfo* find(const std::string& method) const;
  const std::map<std::string, MethodInfo>& methods() const { return methods_; }

  // JSON (an object) → the method's request payload. On failure returns
  // false with a readable `error` (unknown field, bad type, malformed JSON).
  bool json_to_request(const MethodInfo& m, const std::string& json, std::vector<uint8_t>* out,
                       std::string* error) const;
  // The method's response payload → JSON ("{}" for an empty one).
  bool response_to_json(const MethodInfo& m, const uint8_t* bytes, size_t len, std::string* out,
                        std::string* error) const;
  // The parsed schema of a method (for the OpenAPI document).
  const flatbuffers::Parser* schema_parser(const MethodInfo& m) const;

 private:
  struct Schema {
    std::string source;  // .fbs text: a fresh Parser per JSON input (no state left by errors)
    std::unique_ptr<flatbuffers::Parser> parser;  // for output and introspection
  };
  std::map<std::string, Schema> schemas_;
  std::map<std::string, MethodInfo> methods_;
};

flatbuffers::IDLOptions json_options();

}  // namespace parley::http_api
