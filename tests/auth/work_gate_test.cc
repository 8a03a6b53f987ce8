#include "work_gate.h"

#include <gtest/gtest.h>

#include <vector>

#include "keyed_queue.h"

using namespace parley::auth;

TEST(WorkGate, RunsAtMostMaxAndQueuesFifoWithBound) {
  WorkGate g(2, 2);
  std::vector<int> started;
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(g.submit([&started, i] { started.push_back(i); }));
  EXPECT_FALSE(g.submit([&started] { started.push_back(99); }));  // full
  EXPECT_EQ(started, (std::vector<int>{0, 1}));
  EXPECT_EQ(g.running(), 2u);
  EXPECT_EQ(g.waiting(), 2u);
  g.finished();
  EXPECT_EQ(started, (std::vector<int>{0, 1, 2}));
  g.finished();
  g.finished();
  EXPECT_EQ(started, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(g.running(), 1u);
  g.finished();
  EXPECT_EQ(g.running(), 0u);
}

TEST(KeyedQueue, SerialisesPerKeyOnly) {
  KeyedQueue q;
  std::vector<std::string> log;
  KeyedQueue::Done first_done;
  q.run("a", [&](KeyedQueue::Done d) { log.push_back("a1"); first_done = d; });
  q.run("a", [&](KeyedQueue::Done d) { log.push_back("a2"); d(); });
  q.run("b", [&](KeyedQueue::Done d) { log.push_back("b1"); d(); });
  EXPECT_EQ(log, (std::vector<std::string>{"a1", "b1"}));
  first_done();
  first_done();  // a second call is ignored
  EXPECT_EQ(log, (std::vector<std::string>{"a1", "b1", "a2"}));
  EXPECT_EQ(q.busy_keys(), 0u);
}
