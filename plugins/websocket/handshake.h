// The RFC 6455 opening handshake: validating an upgrade request, the
// Sec-WebSocket-Accept value, the Origin policy, and HTTP response text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http_request.h"

namespace parley::websocket {

inline constexpr std::string_view kSubprotocol = "parley.v1";

// base64(SHA-1(key + RFC 6455 GUID)), computed with OpenSSL.
std::string accept_key(std::string_view client_key);

// Who may open a WebSocket from a browser. A request without Origin is a
// non-browser client and is allowed (Origin protects browsers' ambient
// credentials, which a script in another program does not have). A browser
// request is allowed when its Origin is the listener's own (same scheme-less
// authority as Host), is listed in allowed_origins, or the list holds "*".
struct OriginPolicy {
  std::vector<std::string> allowed;  // exact origins, "https://chat.example.com"
  bool any = false;                  // "*" was listed
  bool allows(const HttpRequest& req) const;
};

// The outcome of checking an upgrade request: 101 and the accept value, or
// an HTTP error status with a reason.
struct UpgradeCheck {
  int status = 101;
  std::string reason;
  std::string accept;
};
UpgradeCheck check_upgrade(const HttpRequest& req, const OriginPolicy& origins);

// "HTTP/1.1 <status> <text>" with the given extra header lines (each ending
// in CRLF), Content-Length, Connection: close, then the body.
std::string http_response(int status, std::string_view content_type, std::string_view body,
                          std::string_view extra_headers = {});
// The 101 Switching Protocols response for `accept`.
std::string upgrade_response(std::string_view accept);
std::string_view status_text(int status);

}  // namespace parley::websocket
