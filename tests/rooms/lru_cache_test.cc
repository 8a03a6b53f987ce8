// Unit tests of the bounded LRU used for the room cache (lru_cache.h).
#include "lru_cache.h"

#include <gtest/gtest.h>

namespace parley::rooms_plugin {
namespace {

struct Value {
  int v;
  bool busy = false;
};

auto idle = [](const Value& v) { return !v.busy; };

TEST(LruCache, EvictsTheLeastRecentlyUsed) {
  LruCache<Value> c(2);
  c.put("a", std::make_unique<Value>(Value{1}), idle);
  c.put("b", std::make_unique<Value>(Value{2}), idle);
  ASSERT_NE(c.find("a"), nullptr);  // a is now the most recent
  c.put("c", std::make_unique<Value>(Value{3}), idle);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_NE(c.peek("a"), nullptr);
  EXPECT_EQ(c.peek("b"), nullptr);
  EXPECT_NE(c.peek("c"), nullptr);
}

TEST(LruCache, BusyEntriesAreNotEvicted) {
  LruCache<Value> c(1);
  c.put("a", std::make_unique<Value>(Value{1, true}), idle);
  c.put("b", std::make_unique<Value>(Value{2}), idle);
  EXPECT_EQ(c.size(), 2u);  // over capacity while a is busy
  c.peek("a")->busy = false;
  c.put("c", std::make_unique<Value>(Value{3}), idle);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_NE(c.peek("c"), nullptr);
}

TEST(LruCache, ValueAddressesAreStable) {
  LruCache<Value> c(100);
  Value* a = c.put("a", std::make_unique<Value>(Value{1}), idle);
  for (int i = 0; i < 50; ++i)
    c.put("k" + std::to_string(i), std::make_unique<Value>(Value{i}), idle);
  c.find("a");
  EXPECT_EQ(c.peek("a"), a);
  EXPECT_EQ(a->v, 1);
}

TEST(LruCache, ReplaceAndErase) {
  LruCache<Value> c(4);
  c.put("a", std::make_unique<Value>(Value{1}));
  c.put("a", std::make_unique<Value>(Value{2}));
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.find("a")->v, 2);
  EXPECT_TRUE(c.erase("a"));
  EXPECT_FALSE(c.erase("a"));
  EXPECT_EQ(c.find("a"), nullptr);
}

}  // namespace
}  // namespace parley::rooms_plugin
