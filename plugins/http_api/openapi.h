// The OpenAPI 3.1 document for GET <prefix>openapi.json, generated from the
// loaded methods files and schemas, so it always matches what is served.
#pragma once

#include <set>
#include <string>

#include "schema_registry.h"

namespace parley::http_api {

// Lists the registry's methods that are in `loaded` (the server's own
// method list), and the REST routes whose method is loaded.
std::string openapi_document(const SchemaRegistry& registry, const std::string& prefix,
                             const std::set<std::string>& loaded);

}  // namespace parley::http_api
