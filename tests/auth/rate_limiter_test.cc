#include "rate_limiter.h"

#include <gtest/gtest.h>

using namespace parley::auth;

TEST(RateLimiter, BlocksAfterLimitUntilOldestFailureLeavesWindow) {
  SlidingWindowLimiter l(3, 1000);
  EXPECT_EQ(l.retry_after_ms("k", 0), 0u);
  l.record_failure("k", 0);
  l.record_failure("k", 100);
  EXPECT_EQ(l.retry_after_ms("k", 150), 0u);
  l.record_failure("k", 200);
  EXPECT_EQ(l.retry_after_ms("k", 250), 750u);  // oldest (0) leaves at 1000
  EXPECT_EQ(l.retry_after_ms("other", 250), 0u);
  EXPECT_EQ(l.retry_after_ms("k", 1000), 0u);  // sliding: one left the window
  l.record_failure("k", 1000);
  EXPECT_EQ(l.retry_after_ms("k", 1000), 100u);  // now 100 is the oldest
}

TEST(RateLimiter, ResetAndPrune) {
  SlidingWindowLimiter l(2, 1000);
  l.record_failure("a", 0);
  l.record_failure("a", 0);
  l.record_failure("b", 500);
  EXPECT_GT(l.retry_after_ms("a", 10), 0u);
  l.reset("a");
  EXPECT_EQ(l.retry_after_ms("a", 10), 0u);
  EXPECT_EQ(l.prune(1200), 1u);  // b still inside its window
  EXPECT_EQ(l.prune(1500), 0u);
}

TEST(RateLimiter, ZeroLimitDisables) {
  SlidingWindowLimiter l(0, 1000);
  for (int i = 0; i < 10; ++i) l.record_failure("k", 0);
  EXPECT_EQ(l.retry_after_ms("k", 0), 0u);
}

TEST(RateLimiter, PeerAddressDropsPort) {
  EXPECT_EQ(peer_address("203.0.113.5:4711"), "203.0.113.5");
  EXPECT_EQ(peer_address("[::1]:80"), "::1");
  EXPECT_EQ(peer_address("::1"), "::1");
  EXPECT_EQ(peer_address("websocket"), "websocket");
}
