// Serving files from `static_dir`: request path → file path without any
// escape from the root, and the Content-Type for a file name.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace parley::websocket {

// The file under `root` (an absolute, canonical directory) that the URL path
// names, or nullopt when the path is not acceptable: malformed
// percent-encoding, NUL, backslashes, "." or ".." segments, or hidden
// ("."-prefixed) names. "/" and paths ending in "/" name index.html.
// Symlinks are resolved by open_static_file's caller (see read_static_file).
std::optional<std::string> static_path(std::string_view root, std::string_view url_path);

// Reads `path` if it is a regular file whose canonical location is inside
// `root`. Blocking: call it on the worker pool.
std::optional<std::string> read_static_file(const std::string& root, const std::string& path,
                                            size_t max_bytes);

std::string_view content_type_for(std::string_view path);

}  // namespace parley::websocket
