#include "phone.h"

namespace parley::auth {

std::optional<std::string> normalize_phone(std::string_view raw) {
  // A generous bound first, so a huge input is not copied character by
  // character only to be refused.
  if (raw.size() > 64) return std::nullopt;
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') continue;
    out.push_back(c);
  }
  // '+', a leading digit 1-9, then 7 to 14 more digits: 8 to 15 digits.
  if (out.size() < 9 || out.size() > 16) return std::nullopt;
  if (out[0] != '+' || out[1] < '1' || out[1] > '9') return std::nullopt;
  for (size_t i = 2; i < out.size(); ++i)
    if (out[i] < '0' || out[i] > '9') return std::nullopt;
  return out;
}

}  // namespace parley::auth
