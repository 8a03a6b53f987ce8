// Test plugins speak plain text payloads (their methods exist only for the
// tests), so these two helpers convert between text and byte spans.
#pragma once

#include <parley/plugin.hpp>

#include <string>

namespace ptest {

inline std::string text(parley::span<const uint8_t> p) {
  return std::string(reinterpret_cast<const char*>(p.data()), p.size());
}

inline parley::span<const uint8_t> bytes(const std::string& s) {
  return parley::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace ptest
