#include "rest_routes.h"

#include <parley/util/json.hpp>

#include <algorithm>

namespace parley::http_api {

const std::vector<RestRoute>& rest_routes() {
  static const std::vector<RestRoute> routes = {
      {"POST", "/api/v1/auth/register", "auth.register", true, "Create an account"},
      {"POST", "/api/v1/auth/login", "auth.login", true, "Log in"},
      {"GET", "/api/v1/me", "auth.whoami", false, "The caller's user"},
      {"GET", "/api/v1/rooms", "rooms.list", false, "The caller's rooms"},
      {"POST", "/api/v1/rooms", "rooms.create", true, "Create a group room"},
      {"GET", "/api/v1/rooms/{room_id}", "rooms.get", false, "A room with its members"},
      {"POST", "/api/v1/rooms/{room_id}/members", "rooms.add_members", true, "Add members"},
      {"DELETE", "/api/v1/rooms/{room_id}/members/{user_id}", "rooms.remove_member", false,
       "Remove a member"},
      {"GET", "/api/v1/rooms/{room_id}/messages", "rooms.history", false,
       "Messages, paged by before_seq / after_seq / limit"},
      {"POST", "/api/v1/rooms/{room_id}/messages", "rooms.send", true, "Post a message"},
      {"POST", "/api/v1/rooms/{room_id}/read", "receipts.mark_read", true, "Mark read up to seq"},
      {"GET", "/api/v1/unread", "receipts.unread", false, "Unread counts per room"},
  };
  return routes;
}

namespace {

std::vector<std::string> split_path(const std::string& p) {
  std::vector<std::string> out;
  size_t i = 1;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    out.push_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 19 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::optional<RestMatch> match_rest(const std::string& http_method, const std::string& path,
                                    bool* path_known) {
  *path_known = false;
  auto segs = split_path(path);
  for (const auto& r : rest_routes()) {
    auto pat = split_path(r.pattern);
    if (pat.size() != segs.size()) continue;
    RestMatch m;
    m.route = &r;
    bool ok = true;
    for (size_t i = 0; i < pat.size() && ok; ++i) {
      if (pat[i].size() > 2 && pat[i].front() == '{') {
        auto v = percent_decode(segs[i]);
        if (!v || v->empty()) ok = false;
        else m.params.emplace_back(pat[i].substr(1, pat[i].size() - 2), *v);
      } else {
        ok = pat[i] == segs[i];
      }
    }
    if (!ok) continue;
    *path_known = true;
    if (http_method == r.http_method) return m;
  }
  return std::nullopt;
}

std::string json_string(const std::string& s) { return util::json_quote(s); }

std::optional<std::string> percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size() || !isxdigit(static_cast<unsigned char>(s[i + 1])) ||
          !isxdigit(static_cast<unsigned char>(s[i + 2])))
        return std::nullopt;
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<std::string> build_request_json(const RestMatch& m, const std::string& query,
                                              const std::string& body, std::string* error) {
  std::string fields;
  auto add = [&fields](const std::string& k, const std::string& v, bool raw) {
    if (!fields.empty()) fields += ",";
    fields += json_string(k) + ":" + (raw ? v : json_string(v));
  };
  for (const auto& [k, v] : m.params) add(k, v, false);
  if (!query.empty()) {
    size_t i = 0;
    while (i <= query.size()) {
      size_t j = query.find('&', i);
      if (j == std::string::npos) j = query.size();
      std::string part = query.substr(i, j - i);
      i = j + 1;
      if (part.empty()) continue;
      size_t eq = part.find('=');
      auto k = percent_decode(part.substr(0, eq));
      auto v = percent_decode(eq == std::string::npos ? "" : part.substr(eq + 1));
      if (!k || !v || k->empty()) {
        *error = "malformed query string";
        return std::nullopt;
      }
      add(*k, *v, all_digits(*v));
    }
  }
  size_t a = body.find_first_not_of(" \t\r\n");
  if (!m.route->body || a == std::string::npos) return "{" + fields + "}";
  if (body[a] != '{') {
    *error = "the body must be a JSON object";
    return std::nullopt;
  }
  size_t b = body.find_first_not_of(" \t\r\n", a + 1);
  if (fields.empty() || b == std::string::npos || body[b] == '}') {
    if (fields.empty()) return body;
    return "{" + fields + body.substr(a + 1);
  }
  return "{" + fields + "," + body.substr(a + 1);
}

}  // namespace parley::http_api
