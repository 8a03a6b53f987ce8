#include "openapi.h"

#include <map>
#include <set>
#include <vector>

#include "rest_routes.h"

namespace parley::http_api {
namespace {

std::string qualified(const flatbuffers::Definition& d) {
  return d.defined_namespace ? d.defined_namespace->GetFullyQualifiedName(d.name) : d.name;
}

std::string schema_ref(const std::string& name) {
  return "{\"$ref\":" + json_string("#/components/schemas/" + name) + "}";
}

std::string type_schema(const flatbuffers::Type& t, std::set<const flatbuffers::StructDef*>* need) {
  using namespace flatbuffers;
  if (t.enum_def && t.base_type != BASE_TYPE_UNION && t.base_type != BASE_TYPE_UTYPE &&
      t.base_type != BASE_TYPE_VECTOR) {
    std::string vals;
    for (const auto* v : t.enum_def->Vals()) vals += (vals.empty() ? "" : ",") + json_string(v->name);
    return "{\"type\":\"string\",\"enum\":[" + vals + "]}";
  }
  switch (t.base_type) {
    case BASE_TYPE_BOOL: return "{\"type\":\"boolean\"}";
    case BASE_TYPE_STRING: return "{\"type\":\"string\"}";
    case BASE_TYPE_FLOAT:
    case BASE_TYPE_DOUBLE: return "{\"type\":\"number\"}";
    case BASE_TYPE_STRUCT:
      need->insert(t.struct_def);
      return schema_ref(qualified(*t.struct_def));
    case BASE_TYPE_VECTOR:
      return "{\"type\":\"array\",\"items\":" + type_schema(t.VectorType(), need) + "}";
    default:
      if (IsInteger(t.base_type)) return "{\"type\":\"integer\"}";
      return "{}";
  }
}

std::string table_schema(const flatbuffers::StructDef& sd,
                         std::set<const flatbuffers::StructDef*>* need) {
  std::string props;
  for (const auto* f : sd.fields.vec) {
    if (f->deprecated) continue;
    props += (props.empty() ? "" : ",") + json_string(f->name) + ":" + type_schema(f->value.type, need);
  }
  return "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" + props + "}}";
}

std::string error_responses() {
  return "\"default\":{\"description\":\"an error\",\"content\":{\"application/json\":{\"schema\":"
         "{\"$ref\":\"#/components/schemas/Error\"}}}}";
}

std::string operation(const MethodInfo& m, const std::string& summary, bool with_body,
                      const std::vector<std::string>& path_params,
                      std::set<const flatbuffers::StructDef*>* need, const SchemaRegistry& reg) {
  const auto* parser = reg.schema_parser(m);
  auto mark = [&](const std::string& t) {
    if (!t.empty() && parser)
      if (auto* sd = parser->LookupStruct(t)) need->insert(sd);
  };
  mark(m.request);
  mark(m.response);
  std::string op = "{\"operationId\":" + json_string(m.name) + ",\"summary\":" + json_string(summary);
  if (!m.is_public) op += ",\"security\":[{\"bearer\":[]}]";
  else op += ",\"security\":[{},{\"bearer\":[]}]";
  if (!path_params.empty()) {
    op += ",\"parameters\":[";
    for (size_t i = 0; i < path_params.size(); ++i)
      op += (i ? "," : "") + std::string("{\"name\":") + json_string(path_params[i]) +
            ",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"string\"}}";
    op += "]";
  }
  if (with_body) {
    std::string schema = m.request.empty() ? "{\"type\":\"object\",\"additionalProperties\":false}"
                                           : schema_ref(m.request);
    op += ",\"requestBody\":{\"content\":{\"application/json\":{\"schema\":" + schema + "}}}";
  }
  std::string resp = m.response.empty() ? "{\"type\":\"object\"}" : schema_ref(m.response);
  op += ",\"responses\":{\"200\":{\"description\":\"Ok\",\"content\":{\"application/json\":{"
        "\"schema\":" + resp + "}}}," + error_responses() + "}}";
  return op;
}

}  // namespace

std::string openapi_document(const SchemaRegistry& reg, const std::string& prefix,
                             const std::set<std::string>& loaded) {
  std::set<const flatbuffers::StructDef*> need;
  std::string paths;
  auto add_path = [&paths](const std::string& path, const std::string& ops) {
    paths += (paths.empty() ? "" : ",") + json_string(path) + ":{" + ops + "}";
  };
  for (const auto& [name, m] : reg.methods())
    if (loaded.count(name))
      add_path(prefix + "call/" + name,
             "\"post\":" + operation(m, m.summary.empty() ? name : m.summary, true, {}, &need, reg));
  // REST routes, grouped by path.
  std::vector<std::string> order;
  std::map<std::string, std::string> ops;
  for (const auto& r : rest_routes()) {
    const MethodInfo* m = reg.find(r.method);
    if (!m || !loaded.count(r.method)) continue;  // the plugin is not loaded
    std::string p = prefix + std::string(r.pattern).substr(8);  // strip "/api/v1/"
    std::vector<std::string> params;
    for (size_t i = p.find('{'); i != std::string::npos; i = p.find('{', i + 1))
      params.push_back(p.substr(i + 1, p.find('}', i) - i - 1));
    std::string method = r.http_method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!ops.count(p)) order.push_back(p);
    std::string& o = ops[p];
    o += (o.empty() ? "" : ",") + json_string(method) + ":" +
         operation(*m, r.summary, r.body, params, &need, reg);
  }
  for (const auto& p : order) add_path(p, ops[p]);
  // Components: every table reachable from a request or response.
  std::string schemas =
      "\"Error\":{\"type\":\"object\",\"properties\":{\"status\":{\"type\":\"string\"},"
      "\"error\":{\"type\":\"string\"}},\"required\":[\"status\",\"error\"]}";
  std::set<const flatbuffers::StructDef*> done;
  while (true) {
    const flatbuffers::StructDef* next = nullptr;
    for (const auto* sd : need)
      if (!done.count(sd)) next = sd;
    if (!next) break;
    done.insert(next);
    schemas += "," + json_string(qualified(*next)) + ":" + table_schema(*next, &need);
  }
  return "{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"Parley HTTP API\",\"version\":\"1\"},"
         "\"paths\":{" + paths + "},\"components\":{\"schemas\":{" + schemas +
         "},\"securitySchemes\":{\"bearer\":{\"type\":\"http\",\"scheme\":\"bearer\"}}}}\n";
}

}  // namespace parley::http_api
