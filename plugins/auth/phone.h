// Phone number rules of PROTOCOL.md §5: separators are dropped, then the
// number must be E.164 (`^\+[1-9][0-9]{7,14}$`). Pure; no SDK.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace parley::auth {

// Removes spaces, '-', '.', '(' and ')', then checks E.164. Returns the
// normalised number ("+15550102030"), or std::nullopt when it is not one.
std::optional<std::string> normalize_phone(std::string_view raw);

}  // namespace parley::auth
