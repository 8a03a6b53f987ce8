// Strict HTTP/1.1 request-head parsing: CRLF line endings only, no
// obs-fold, token header names, no control characters, bounded sizes.
#include "http_request.h"

#include <algorithm>
#include <cctype>

namespace parley::websocket {
namespace {

bool is_tchar(unsigned char c) {
  if (std::isalnum(c)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return is_tchar(static_cast<unsigned char>(c));
  });
}

// Visible ASCII only (no spaces, no controls, no bytes >= 0x80).
bool is_target_char(unsigned char c) { return c > 0x20 && c < 0x7F; }

bool is_value_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

HttpParse error(int status, std::string reason) {
  HttpParse p;
  p.result = HttpParse::Result::Error;
  p.status = status;
  p.reason = std::move(reason);
  return p;
}

// "GET /path HTTP/1.1"
bool parse_request_line(std::string_view line, HttpRequest& r, std::string& why) {
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    why = "malformed request line";
    return false;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) {
    why = "malformed method";
    return false;
  }
  if (target.empty() || target.front() != '/' ||
      !std::all_of(target.begin(), target.end(),
                   [](char c) { return is_target_char(static_cast<unsigned char>(c)); })) {
    why = "malformed request target";
    return false;
  }
  if (version == "HTTP/1.1") {
    r.minor_version = 1;
  } else if (version == "HTTP/1.0") {
    r.minor_version = 0;
  } else {
    why = "unsupported HTTP version";
    return false;
  }
  r.method.assign(method);
  r.target.assign(target);
  size_t q = target.find('?');
  r.path.assign(target.substr(0, q));
  if (q != std::string_view::npos) r.query.assign(target.substr(q + 1));
  return true;
}

}  // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return std::string_view(v);
  return std::nullopt;
}

bool HttpRequest::header_has_token(std::string_view lower_name, std::string_view token) const {
  std::string want = lower(token);
  for (const auto& [k, v] : headers) {
    if (k != lower_name) continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      if (lower(trim(rest.substr(0, comma))) == want) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

HttpParse parse_http_request(std::string_view bytes, const HttpLimits& limits) {
  size_t end = bytes.find("\r\n\r\n");
  // Bounds first, so a peer cannot make us buffer more than the limits.
  size_t first_eol = bytes.find("\r\n");
  if ((first_eol == std::string_view::npos ? bytes.size() : first_eol) > limits.max_request_line)
    return error(400, "request line too long");
  if ((end == std::string_view::npos ? bytes.size() : end + 4) > limits.max_header_bytes)
    return error(431, "request header fields too large");
  // A bare LF anywhere in the head is refused (no lenient line endings).
  std::string_view seen = end == std::string_view::npos ? bytes : bytes.substr(0, end + 4);
  for (size_t i = 0; i < seen.size(); ++i)
    if (seen[i] == '\n' && (i == 0 || seen[i - 1] != '\r')) return error(400, "bare LF in request head");
  if (end == std::string_view::npos) {
    // Count complete header lines so far against max_headers early.
    size_t lines = static_cast<size_t>(std::count(seen.begin(), seen.end(), '\n'));
    if (lines > limits.max_headers + 1) return error(431, "too many header fields");
    return HttpParse{};
  }

  HttpParse p;
  HttpRequest& r = p.request;
  std::string_view head = bytes.substr(0, end + 2);  // every line ends with CRLF
  size_t eol = head.find("\r\n");
  std::string why;
  if (!parse_request_line(head.substr(0, eol), r, why)) return error(400, why);
  head.remove_prefix(eol + 2);
  while (!head.empty()) {
    eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    if (r.headers.size() >= limits.max_headers) return error(431, "too many header fields");
    if (line.empty() || line.front() == ' ' || line.front() == '\t')
      return error(400, "obsolete line folding is not accepted");
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon)))
      return error(400, "malformed header field");
    std::string_view value = trim(line.substr(colon + 1));
    if (!std::all_of(value.begin(), value.end(),
                     [](char c) { return is_value_char(static_cast<unsigned char>(c)); }))
      return error(400, "control character in header value");
    r.headers.emplace_back(lower(line.substr(0, colon)), std::string(value));
  }
  size_t hosts = static_cast<size_t>(std::count_if(
      r.headers.begin(), r.headers.end(), [](const auto& h) { return h.first == "host"; }));
  if (r.minor_version == 1 && hosts != 1) return error(400, "exactly one Host header is required");
  if (hosts > 1) return error(400, "duplicate Host header");
  p.result = HttpParse::Result::Complete;
  p.head_bytes = end + 4;
  return p;
}

}  // namespace parley::websocket
