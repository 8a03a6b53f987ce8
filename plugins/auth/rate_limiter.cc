#include "rate_limiter.h"

namespace parley::auth {

void SlidingWindowLimiter::expire(std::deque<uint64_t>& times,
                                  uint64_t now_ms) const {
  while (!times.empty() && times.front() + window_ms_ <= now_ms)
    times.pop_front();
}

uint64_t SlidingWindowLimiter::retry_after_ms(std::string_view key,
                                              uint64_t now_ms) {
  if (limit_ == 0) return 0;  // 0 disables the limit
  auto it = failures_.find(std::string(key));
  if (it == failures_.end()) return 0;
  expire(it->second, now_ms);
  if (it->second.size() < limit_) return 0;
  return it->second.front() + window_ms_ - now_ms;
}

void SlidingWindowLimiter::record_failure(std::string_view key,
                                          uint64_t now_ms) {
  if (limit_ == 0) return;
  auto& times = failures_[std::string(key)];
  expire(times, now_ms);
  times.push_back(now_ms);
  while (times.size() > limit_) times.pop_front();
}

void SlidingWindowLimiter::reset(std::string_view key) {
  failures_.erase(std::string(key));
}

size_t SlidingWindowLimiter::prune(uint64_t now_ms) {
  for (auto it = failures_.begin(); it != failures_.end();) {
    expire(it->second, now_ms);
    if (it->second.empty())
      it = failures_.erase(it);
    else
      ++it;
  }
  return failures_.size();
}

std::string peer_address(std::string_view peer) {
  if (!peer.empty() && peer.front() == '[') {
    auto close = peer.find(']');
    if (close != std::string_view::npos)
      return std::string(peer.substr(1, close - 1));
    return std::string(peer);
  }
  auto colon = peer.find(':');
  // Exactly one colon: IPv4 (or a name) with a port. More: a bare IPv6.
  if (colon != std::string_view::npos &&
      peer.find(':', colon + 1) == std::string_view::npos)
    return std::string(peer.substr(0, colon));
  return std::string(peer);
}

}  // namespace parley::auth
