// RFC 6455 §4.2: server-side checks of the client's opening handshake.
#include "handshake.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

namespace parley::websocket {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// A valid key is base64 of exactly 16 bytes: 24 characters ending in "==".
bool valid_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  unsigned char out[24];
  int n = EVP_DecodeBlock(out, reinterpret_cast<const unsigned char*>(key.data()), 24);
  return n == 18;  // 16 bytes plus the two padding bytes DecodeBlock counts
}

UpgradeCheck refuse(int status, std::string reason) {
  UpgradeCheck c;
  c.status = status;
  c.reason = std::move(reason);
  return c;
}

}  // namespace

std::string accept_key(std::string_view client_key) {
  std::string input(client_key);
  input += kGuid;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_Digest(input.data(), input.size(), md, &md_len, EVP_sha1(), nullptr);
  unsigned char b64[64];
  int n = EVP_EncodeBlock(b64, md, static_cast<int>(md_len));
  return std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(n));
}

bool OriginPolicy::allows(const HttpRequest& req) const {
  auto origin = req.header("origin");
  if (!origin) return true;
  if (any) return true;
  for (const auto& a : allowed)
    if (iequals(a, *origin)) return true;
  // Same origin: "<scheme>://<Host>".
  auto host = req.header("host");
  size_t sep = origin->find("://");
  return host && sep != std::string_view::npos && iequals(origin->substr(sep + 3), *host);
}

UpgradeCheck check_upgrade(const HttpRequest& req, const OriginPolicy& origins) {
  if (req.method != "GET") return refuse(405, "the WebSocket endpoint accepts only GET");
  if (req.minor_version != 1) return refuse(400, "WebSocket needs HTTP/1.1");
  if (!req.header_has_token("upgrade", "websocket") ||
      !req.header_has_token("connection", "upgrade"))
    return refuse(426, "this endpoint speaks only WebSocket (Upgrade: websocket)");
  if (req.header("sec-websocket-version") != std::optional<std::string_view>("13"))
    return refuse(426, "unsupported Sec-WebSocket-Version (13 is supported)");
  auto key = req.header("sec-websocket-key");
  if (!key || !valid_key(*key)) return refuse(400, "missing or malformed Sec-WebSocket-Key");
  if (!origins.allows(req)) return refuse(403, "origin not allowed");
  if (!req.header_has_token("sec-websocket-protocol", kSubprotocol))
    return refuse(400, "the subprotocol parley.v1 is required (Sec-WebSocket-Protocol)");
  UpgradeCheck ok;
  ok.accept = accept_key(*key);
  return ok;
}

std::string_view status_text(int status) {
  switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

std::string http_response(int status, std::string_view content_type, std::string_view body,
                          std::string_view extra_headers) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " ";
  r += status_text(status);
  r += "\r\nContent-Type: ";
  r += content_type;
  r += "\r\nContent-Length: " + std::to_string(body.size());
  r += "\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n";
  if (status == 426) r += "Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n";
  r += extra_headers;
  r += "\r\n";
  r += body;
  return r;
}

std::string upgrade_response(std::string_view accept) {
  std::string r =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ";
  r += accept;
  r += "\r\nSec-WebSocket-Protocol: ";
  r += kSubprotocol;
  r += "\r\n\r\n";
  return r;
}

}  // namespace parley::websocket
