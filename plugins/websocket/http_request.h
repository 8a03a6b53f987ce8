// A strict, bounded HTTP/1.1 request-head parser (RFC 9112), used for the
// WebSocket upgrade and the listener's plain HTTP routes. Pure: no I/O, no
// SDK, so it is unit-testable on its own.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::websocket {

struct HttpLimits {
  size_t max_request_line = 8192;  // bytes, without CRLF
  size_t max_header_bytes = 8192;  // the whole head, request line included
  size_t max_headers = 64;
};

struct HttpRequest {
  std::string method;  // e.g. "GET" (case-sensitive, as the RFC says)
  std::string target;  // origin-form, as sent ("/ws?x=1")
  std::string path;    // target without the query
  std::string query;   // after '?', "" when none
  int minor_version = 1;  // HTTP/1.<minor>
  // Header names lower-cased, values trimmed of optional whitespace, in
  // arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  // Filled by the session, not the head parser: the Content-Length body
  // (read up to Settings::max_body_bytes) and the client's "ip:port".
  std::string body;
  std::string peer;

  // The first header with that (lower-case) name.
  std::optional<std::string_view> header(std::string_view lower_name) const;
  // True when a comma-separated header (Connection, Upgrade, ...) lists
  // `token`, compared case-insensitively.
  bool header_has_token(std::string_view lower_name, std::string_view token) const;
};

struct HttpParse {
  enum class Result { Incomplete, Complete, Error };
  Result result = Result::Incomplete;
  HttpRequest request;     // when Complete
  size_t head_bytes = 0;   // when Complete: bytes of the head incl. the blank line
  int status = 0;          // when Error: 400 or 431
  std::string reason;      // when Error: why, for the response body and the log
};

// Parses the head at the start of `bytes`. Incomplete while no blank line
// has arrived and the limits still allow one to come.
HttpParse parse_http_request(std::string_view bytes, const HttpLimits& limits);

}  // namespace parley::websocket
