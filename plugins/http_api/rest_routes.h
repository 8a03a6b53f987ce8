// The REST routes (docs/http-api.md): a declarative table mapping an HTTP
// method and a path pattern to a Parley method, plus how the request's JSON
// object is assembled from path parameters, query parameters and the body.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace parley::http_api {

struct RestRoute {
  const char* http_method;  // "GET", "POST", "DELETE"
  const char* pattern;      // "/api/v1/rooms/{room_id}/messages"
  const char* method;       // "rooms.history"
  bool body;                // fields come from a JSON body (else from the query)
  const char* summary;
};

const std::vector<RestRoute>& rest_routes();

struct RestMatch {
  const RestRoute* route = nullptr;
  std::vector<std::pair<std::string, std::string>> params;  // path parameters, decoded
};

// The route whose pattern matches path and method; `path_known` tells a
// 405 (path matched, method did not) from a 404.
std::optional<RestMatch> match_rest(const std::string& http_method, const std::string& path,
                                    bool* path_known);

// A JSON string literal for s (quotes included).
std::string json_string(const std::string& s);
// Percent-decoding; nullopt for a malformed escape.
std::optional<std::string> percent_decode(const std::string& s);

// The request object for `m`: path params + query params (all-digit values
// as numbers, others as strings) + the body's members. Returns nullopt with
// *error when the body is not a JSON object or the query is malformed.
std::optional<std::string> build_request_json(const RestMatch& m, const std::string& query,
                                              const std::string& body, std::string* error);

}  // namespace parley::http_api
