#include "schema_registry.h"

#include <parley/methods_file_generated.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace parley::http_api {
namespace {

bool read_file(const std::filesystem::path& p, std::string* out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// The methods file's own schema, compiled in as text.
constexpr const char* kMethodsFileSchema = R"(
namespace parley.http_api;
table MethodEntry { name: string; request: string; response: string; public: bool; summary: string; }
table MethodsFile { schema: string; methods: [MethodEntry]; }
root_type MethodsFile;
)";

std::string str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

}  // namespace

flatbuffers::IDLOptions json_options() {
  flatbuffers::IDLOptions o;
  o.strict_json = true;
  o.indent_step = -1;
  o.output_default_scalars_in_json = true;
  o.natural_utf8 = true;
  o.skip_unexpected_fields_in_json = false;
  return o;
}

std::string SchemaRegistry::load_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return "schema directory not found: " + dir;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string n = e.path().filename().string();
    if (n.size() > 13 && n.compare(n.size() - 13, 13, ".methods.json") == 0) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::string text;
    if (!read_file(f, &text)) return "cannot read " + f.string();
    flatbuffers::Parser mp(json_options());
    if (!mp.Parse(kMethodsFileSchema) || !mp.ParseJson(text.c_str(), f.string().c_str()))
      return f.string() + ": " + mp.error_;
    auto* mf = parley::http_api::GetMethodsFile(mp.builder_.GetBufferPointer());
    std::string schema_name = str(mf->schema());
    if (schema_name.empty()) return f.string() + ": \"schema\" is required";
    if (!schemas_.count(schema_name)) {
      Schema s;
      if (!read_file(f.parent_path() / schema_name, &s.source))
        return f.string() + ": cannot read schema " + schema_name;
      s.parser = std::make_unique<flatbuffers::Parser>(json_options());
      std::string inc = f.parent_path().string();
      const char* includes[] = {inc.c_str(), nullptr};
      if (!s.parser->Parse(s.source.c_str(), includes, schema_name.c_str()))
        return schema_name + ": " + s.parser->error_;
      schemas_.emplace(schema_name, std::move(s));
    }
    const auto& parser = *schemas_.at(schema_name).parser;
    if (!mf->methods()) continue;
    for (const auto* e : *mf->methods()) {
      MethodInfo m{str(e->name()), str(e->request()), str(e->response()), str(e->summary()),
                   e->public_(), schema_name};
      for (const std::string* t : {&m.request, &m.response})
        if (!t->empty() && !parser.LookupStruct(*t))
          return f.string() + ": " + m.name + ": no table " + *t + " in " + schema_name;
      methods_[m.name] = std::move(m);
    }
  }
  return "";
}

const MethodInfo* SchemaRegistry::find(const std::string& method) const {
  auto it = methods_.find(method);
  return it == methods_.end() ? nullptr : &it->second;
}

const flatbuffers::Parser* SchemaRegistry::schema_parser(const MethodInfo& m) const {
  auto it = schemas_.find(m.schema);
  return it == schemas_.end() ? nullptr : it->second.parser.get();
}

bool SchemaRegistry::json_to_request(const MethodInfo& m, const std::string& json,
                                     std::vector<uint8_t>* out, std::string* error) const {
  out->clear();
  if (m.request.empty()) {
    // Empty payload: accept no body or an empty object only.
    size_t a = json.find_first_not_of(" \t\r\n");
    if (a == std::string::npos) return true;
    size_t b = json.find_first_not_of(" \t\r\n", a + 1);
    if (json[a] == '{' && b != std::string::npos && json[b] == '}' &&
        json.find_first_not_of(" \t\r\n", b + 1) == std::string::npos)
      return true;
    *error = m.name + " takes no fields: send {} or no body";
    return false;
  }
  const auto& s = schemas_.at(m.schema);
  flatbuffers::Parser p(json_options());
  if (!p.Parse(s.source.c_str(), nullptr, m.schema.c_str()) || !p.SetRootType(m.request.c_str())) {
    *error = "schema error: " + p.error_;
    return false;
  }
  p.builder_.Clear();
  if (!p.ParseJson(json.c_str())) {
    *error = p.error_;
    return false;
  }
  out->assign(p.builder_.GetBufferPointer(), p.builder_.GetBufferPointer() + p.builder_.GetSize());
  return true;
}

bool SchemaRegistry::response_to_json(const MethodInfo& m, const uint8_t* bytes, size_t len,
                                      std::string* out, std::string* error) const {
  if (m.response.empty() || len == 0) {
    *out = "{}";
    return true;
  }
  const auto& parser = *schemas_.at(m.schema).parser;
  // Payloads come from in-process plugins; still bound-check the root offset.
  if (len < 8 || flatbuffers::ReadScalar<flatbuffers::uoffset_t>(bytes) >= len) {
    *error = "response payload is not a FlatBuffer";
    return false;
  }
  const void* root = flatbuffers::GetRoot<flatbuffers::Table>(bytes);
  if (!flatbuffers::GenerateTextFromTable(parser, root, m.response, out)) {
    *error = "response cannot be encoded as JSON";
    return false;
  }
  return true;
}

}  // namespace parley::http_api
