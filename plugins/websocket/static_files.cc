#include "static_files.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace parley::websocket {
namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace

std::optional<std::string> static_path(std::string_view root, std::string_view url_path) {
  if (url_path.empty() || url_path.front() != '/') return std::nullopt;
  auto decoded = percent_decode(url_path);
  if (!decoded) return std::nullopt;
  std::string rel;
  std::string_view rest = *decoded;
  while (!rest.empty()) {
    rest.remove_prefix(1);  // the '/'
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    if (seg.empty()) {
      if (!rest.empty()) return std::nullopt;  // "//"
      break;
    }
    if (seg.front() == '.') return std::nullopt;  // ".", "..", hidden files
    for (char c : seg)
      if (c == '\0' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return std::nullopt;
    if (!rel.empty()) rel += '/';
    rel += seg;
  }
  if (rel.empty() || decoded->back() == '/') rel += rel.empty() ? "index.html" : "/index.html";
  return std::string(root) + "/" + rel;
}

std::optional<std::string> read_static_file(const std::string& root, const std::string& path,
                                            size_t max_bytes) {
  std::error_code ec;
  auto canon = std::filesystem::canonical(path, ec);
  if (ec) return std::nullopt;
  // A symlink inside the root must not lead out of it.
  std::string c = canon.string();
  if (c.size() <= root.size() || c.compare(0, root.size(), root) != 0 || c[root.size()] != '/')
    return std::nullopt;
  if (!std::filesystem::is_regular_file(canon, ec) || ec) return std::nullopt;
  auto size = std::filesystem::file_size(canon, ec);
  if (ec || size > max_bytes) return std::nullopt;
  std::ifstream in(canon, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string_view content_type_for(std::string_view path) {
  size_t dot = path.rfind('.');
  std::string ext;
  if (dot != std::string_view::npos)
    for (char ch : path.substr(dot + 1)) ext += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (ext == "html" || ext == "htm") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "gif") return "image/gif";
  if (ext == "webp") return "image/webp";
  if (ext == "ico") return "image/x-icon";
  if (ext == "wasm") return "application/wasm";
  if (ext == "woff2") return "font/woff2";
  if (ext == "woff") return "font/woff";
  if (ext == "txt") return "text/plain; charset=utf-8";
  if (ext == "webmanifest") return "application/manifest+json";
  return "application/octet-stream";
}

}  // namespace parley::websocket
