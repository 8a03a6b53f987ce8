// A sliding-window counter of failures per key (a phone number, a peer
// address): at most `limit` failures within any `window_ms`. Loop-thread
// only; the caller passes the clock so tests control time.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace parley::auth {

class SlidingWindowLimiter {
 public:
  SlidingWindowLimiter(uint32_t limit, uint64_t window_ms)
      : limit_(limit), window_ms_(window_ms) {}

  // 0 when `key` may try now; otherwise the milliseconds until the oldest
  // failure in the window leaves it.
  uint64_t retry_after_ms(std::string_view key, uint64_t now_ms);

  void record_failure(std::string_view key, uint64_t now_ms);

  // Forgets the key's failures (a successful login for a phone).
  void reset(std::string_view key);

  // Drops keys whose failures have all left the window; keeps memory
  // bounded by the failures of the last window. Returns how many remain.
  size_t prune(uint64_t now_ms);

 private:
  void expire(std::deque<uint64_t>& times, uint64_t now_ms) const;

  uint32_t limit_;
  uint64_t window_ms_;
  // Only the newest `limit_` failure times per key are needed.
  std::unordered_map<std::string, std::deque<uint64_t>> failures_;
};

// "203.0.113.5:4711" -> "203.0.113.5", "[::1]:80" -> "::1"; a string
// without a port is returned as is. The rate limit counts per address, not
// per connection.
std::string peer_address(std::string_view peer);

}  // namespace parley::auth
