// The host's worker-pool jobs (kernel/host/work.h) on a real libuv loop:
// batched cheap jobs all complete, deferred ones can be cancelled, a batch
// that runs out of time hands the rest back.
#include "work.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace parley::kernel::host {
namespace {

struct Job {
  std::atomic<bool> ran{false};
  int status = -1;
  bool done = false;
  int sleep_us = 0;
};

void work_cb(void* d) {
  auto* j = static_cast<Job*>(d);
  if (j->sleep_us) std::this_thread::sleep_for(std::chrono::microseconds(j->sleep_us));
  j->ran = true;
}
void after_cb(void* d, int status) {
  auto* j = static_cast<Job*>(d);
  j->status = status;
  j->done = true;
}

class WorkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    work_ = std::make_unique<Work>(&loop_);
    plugin_ = std::make_shared<parley_plugin>();
    plugin_->phase = parley_plugin::Phase::Running;
  }
  void TearDown() override {
    work_->close_handles();
    uv_run(&loop_, UV_RUN_DEFAULT);
    work_.reset();
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }
  // Queues n jobs (from outside the loop, as one "pass") and runs the loop
  // until every after_cb ran.
  std::vector<std::unique_ptr<Job>> run(size_t n, int sleep_us = 0) {
    std::vector<std::unique_ptr<Job>> jobs;
    for (size_t i = 0; i < n; i++) {
      jobs.push_back(std::make_unique<Job>());
      jobs.back()->sleep_us = sleep_us;
      EXPECT_EQ(work_->queue(plugin_, work_cb, after_cb, jobs.back().get()), 0);
    }
    uv_run(&loop_, UV_RUN_DEFAULT);
    return jobs;
  }
  uv_loop_t loop_{};
  std::unique_ptr<Work> work_;
  PluginRef plugin_;
};

TEST_F(WorkTest, CheapJobsAreBatchedAndEveryOneCompletes) {
  run(Work::kMinSamples);  // proves the plugin's jobs cheap
  auto jobs = run(100);    // one pass: split into a few batches
  for (const auto& j : jobs) {
    EXPECT_TRUE(j->ran);
    EXPECT_TRUE(j->done);
    EXPECT_EQ(j->status, 0);
  }
  EXPECT_EQ(work_->pending(), 0u);
  EXPECT_EQ(work_->pending(plugin_.get()), 0u);
}

TEST_F(WorkTest, CancelAllCancelsJobsNotHandedToThePoolYet) {
  run(Work::kMinSamples);
  std::vector<std::unique_ptr<Job>> jobs;
  for (int i = 0; i < 10; i++) {
    jobs.push_back(std::make_unique<Job>());
    ASSERT_EQ(work_->queue(plugin_, work_cb, after_cb, jobs.back().get()), 0);
  }
  EXPECT_EQ(work_->pending(plugin_.get()), 10u);
  work_->cancel_all(plugin_.get());
  for (const auto& j : jobs) EXPECT_FALSE(j->done);  // after_cb runs later, on the loop
  uv_run(&loop_, UV_RUN_DEFAULT);
  for (const auto& j : jobs) {
    EXPECT_FALSE(j->ran);
    EXPECT_TRUE(j->done);
    EXPECT_EQ(j->status, PARLEY_ECANCELED);
  }
  EXPECT_EQ(work_->pending(), 0u);
}

TEST_F(WorkTest, ABatchOutOfTimeHandsTheRestBack) {
  run(Work::kMinSamples);
  // 8 jobs of 400 µs in one batch: the pool thread stops after ~1 ms and the
  // loop queues the rest again; every job still runs exactly once.
  auto jobs = run(8, 400);
  for (const auto& j : jobs) {
    EXPECT_TRUE(j->ran);
    EXPECT_EQ(j->status, 0);
  }
  EXPECT_EQ(work_->pending(), 0u);
}

TEST_F(WorkTest, AStoppedPluginGetsNoNewJobs) {
  plugin_->phase = parley_plugin::Phase::Stopping;
  Job j;
  EXPECT_EQ(work_->queue(plugin_, work_cb, after_cb, &j), PARLEY_EUNAVAIL);
  EXPECT_EQ(work_->queue(plugin_, nullptr, after_cb, &j), PARLEY_EINVAL);
}

}  // namespace
}  // namespace parley::kernel::host
