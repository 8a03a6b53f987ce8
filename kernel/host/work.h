// Plugin work on libuv's thread pool (SDK queue_work): work_cb on a pool
// thread, after_cb back on the loop with 0 or PARLEY_ECANCELED. Each job holds
// a reference on its plugin so the library stays mapped until after_cb ran.
//
// Why batches: one uv_queue_work per job costs a futex wake of a pool thread
// (and mutex contention on libuv's queue) per job. Under load a plugin whose
// jobs are short (the persistence plugin's point gets: a few µs each, one per
// rooms.send) paid more for the hand-off than for the work — context
// switches were the largest single cost in the fanout profile. So a job of a
// plugin whose jobs have proven cheap joins that plugin's open batch — one
// uv_work_t that a pool thread has not picked up yet — and the pool thread
// runs the batch's jobs back to back. A new batch is handed to the pool at
// the end of the loop pass (a check handle; a prepare handle catches what was
// queued after it, before the loop blocks), so the jobs of one pass — the
// point gets of all the sends read in that pass — share one wake-up (a pass
// with more than kSplitJobs of them is split into up to kMaxSplit batches,
// so big passes still use several pool threads).
// Plugins with long jobs (argon2 hashing)
// keep one uv_work_t per job, so they still run in parallel. A batch stops
// after kMaxBatchRunNs and hands the rest back to the loop, which queues it
// again, so one slow job delays its batch mates by at most about that long.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "plugin_record.h"

namespace parley::kernel::host {

class Work {
 public:
  explicit Work(uv_loop_t* loop);
  ~Work();  // close_handles()
  Work(const Work&) = delete;
  Work& operator=(const Work&) = delete;

  // Hands deferred batches to the pool and closes the end-of-pass handles
  // (freed by their close callbacks); later batches are submitted at once.
  void close_handles();

  int queue(const PluginRef& plugin, parley_work_fn work_cb, parley_after_work_fn after_cb,
            void* data);
  // Cancels what has not started yet; those get after_cb(ECANCELED).
  void cancel_all(const parley_plugin* plugin);
  // Jobs of `plugin` whose after_cb has not run yet.
  size_t pending(const parley_plugin* plugin) const;
  size_t pending() const { return pending_; }

  // Called on the loop after every after_cb (the host's shutdown waits on it).
  std::function<void()> after_hook;

  // A plugin's jobs are batched once kMinSamples of them averaged below
  // kCheapJobNs of pool time each.
  static constexpr uint64_t kCheapJobNs = 100'000;
  static constexpr uint32_t kMinSamples = 8;
  static constexpr uint64_t kMaxBatchRunNs = 1'000'000;
  static constexpr size_t kMaxBatchJobs = 256;
  static constexpr size_t kSplitJobs = 16;
  static constexpr size_t kMaxSplit = 4;

 private:
  struct Job {
    parley_work_fn work_cb;
    parley_after_work_fn after_cb;
    void* data;
  };
  // One uv_work_t: one job, or a plugin's cheap jobs run back to back.
  struct Batch {
    uv_work_t req;
    Work* owner;
    PluginRef plugin;
    std::mutex mu;         // guards jobs and started while the batch is open
    bool started = false;  // a pool thread took it: no more jobs join
    std::vector<Job> jobs;
    std::atomic<bool> cancelled{false};
    bool submitted = false;  // handed to uv_queue_work (loop thread)
    size_t ran = 0;        // jobs whose work_cb ran (written by the pool thread)
    uint64_t run_ns = 0;   // pool time of those jobs
    size_t done = 0;       // jobs whose after_cb ran (loop thread)
  };
  // Average pool time per job, per plugin (loop thread only).
  struct Cost {
    double avg_ns = 0;
    uint32_t samples = 0;
  };

  bool cheap(const parley_plugin* plugin) const;
  int submit(Batch* batch);
  void defer(Batch* batch);
  void submit_deferred();
  static void on_pass_end(uv_check_t* h);
  static void on_before_poll(uv_prepare_t* h);
  void finish(Batch* batch, int status);
  static void on_work(uv_work_t* req);
  static void on_after(uv_work_t* req, int status);

  uv_loop_t* loop_;
  uv_check_t* check_ = nullptr;      // end of pass: submit deferred batches
  uv_prepare_t* prepare_ = nullptr;  // before blocking: the same (both active only while needed)
  std::vector<Batch*> deferred_;     // batches not handed to the pool yet
  std::unordered_set<Batch*> batches_;  // deferred or submitted, after_cbs not all run
  std::unordered_map<const parley_plugin*, Batch*> open_;  // still accepting jobs
  std::unordered_map<const parley_plugin*, Cost> costs_;
  size_t pending_ = 0;
};

}  // namespace parley::kernel::host
