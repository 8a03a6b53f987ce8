#include "work.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

namespace parley::kernel::host {

namespace {
uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}
}  // namespace

Work::Work(uv_loop_t* loop) : loop_(loop) {
  if (!loop_) return;
  check_ = new uv_check_t;
  prepare_ = new uv_prepare_t;
  uv_check_init(loop_, check_);
  uv_prepare_init(loop_, prepare_);
  check_->data = prepare_->data = this;
}

Work::~Work() { close_handles(); }

void Work::close_handles() {
  submit_deferred();
  if (check_) {
    uv_check_stop(check_);
    uv_close(reinterpret_cast<uv_handle_t*>(check_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
    check_ = nullptr;
  }
  if (prepare_) {
    uv_prepare_stop(prepare_);
    uv_close(reinterpret_cast<uv_handle_t*>(prepare_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_prepare_t*>(h); });
    prepare_ = nullptr;
  }
}

void Work::on_pass_end(uv_check_t* h) { static_cast<Work*>(h->data)->submit_deferred(); }
void Work::on_before_poll(uv_prepare_t* h) { static_cast<Work*>(h->data)->submit_deferred(); }

void Work::defer(Batch* b) {
  if (deferred_.empty() && check_) {
    // Started only while something waits, and anew each time: libuv runs
    // the most recently started check handle first, so the batch reaches
    // the pool before the connection layer's flush (its own check handle)
    // rather than after it. Active handles also keep the loop running
    // until the batch is submitted.
    uv_check_start(check_, &Work::on_pass_end);
    uv_prepare_start(prepare_, &Work::on_before_poll);
  }
  deferred_.push_back(b);
  batches_.insert(b);
}

void Work::submit_deferred() {
  if (deferred_.empty()) return;
  std::vector<Batch*> batches;
  batches.swap(deferred_);
  if (check_) {
    uv_check_stop(check_);
    uv_prepare_stop(prepare_);
  }
  // A big pass is split into up to kMaxSplit batches of at least
  // kSplitJobs jobs, so pool threads still work in parallel and completions
  // come back in chunks rather than all after the last job.
  std::vector<Batch*> split;
  for (Batch* b : batches) {
    const size_t n = b->jobs.size();
    if (b->cancelled.load(std::memory_order_relaxed) || n <= kSplitJobs) {
      split.push_back(b);
      continue;
    }
    const size_t chunks = std::min(kMaxSplit, (n + kSplitJobs - 1) / kSplitJobs);
    const size_t per = (n + chunks - 1) / chunks;
    split.push_back(b);
    Batch* last = b;
    for (size_t from = per; from < n; from += per) {
      auto* c = new Batch;
      c->owner = this;
      c->plugin = b->plugin;
      c->jobs.assign(b->jobs.begin() + static_cast<std::ptrdiff_t>(from),
                     b->jobs.begin() + static_cast<std::ptrdiff_t>(std::min(n, from + per)));
      batches_.insert(c);
      split.push_back(c);
      last = c;
    }
    b->jobs.resize(per);
    // Jobs queued before a pool thread takes it join the last chunk.
    if (auto it = open_.find(b->plugin.get()); it != open_.end() && it->second == b)
      it->second = last;
  }
  for (Batch* b : split) {
    // Cancelled before it reached the pool, or the pool refuses it (the
    // loop is ending): after_cb(ECANCELED), here on the loop.
    if (b->cancelled.load(std::memory_order_relaxed) || submit(b) != 0) finish(b, PARLEY_ECANCELED);
  }
}

bool Work::cheap(const parley_plugin* plugin) const {
  auto it = costs_.find(plugin);
  return it != costs_.end() && it->second.samples >= kMinSamples &&
         it->second.avg_ns < static_cast<double>(kCheapJobNs);
}

int Work::queue(const PluginRef& plugin, parley_work_fn work_cb, parley_after_work_fn after_cb,
                void* data) {
  if (!work_cb || !after_cb) return PARLEY_EINVAL;
  if (!plugin || !plugin->live()) return PARLEY_EUNAVAIL;  // shutting down
  const bool batchable = cheap(plugin.get());
  if (batchable) {
    auto it = open_.find(plugin.get());
    if (it != open_.end()) {
      Batch* b = it->second;
      std::lock_guard<std::mutex> lock(b->mu);
      if (!b->started && b->jobs.size() < kMaxBatchJobs) {
        b->jobs.push_back(Job{work_cb, after_cb, data});
        ++pending_;
        return 0;
      }
    }
  }
  auto* b = new Batch;
  b->owner = this;
  b->plugin = plugin;
  b->jobs.push_back(Job{work_cb, after_cb, data});
  if (batchable && check_) {
    defer(b);  // submitted at the end of this loop pass
  } else if (submit(b) != 0) {
    delete b;
    return PARLEY_EUNAVAIL;
  }
  ++pending_;
  if (batchable) open_[plugin.get()] = b;
  return 0;
}

int Work::submit(Batch* b) {
  b->req.data = b;
  int rc = uv_queue_work(loop_, &b->req, &Work::on_work, &Work::on_after);
  if (rc == 0) {
    b->submitted = true;
    batches_.insert(b);
  }
  return rc;
}

void Work::cancel_all(const parley_plugin* plugin) {
  open_.erase(plugin);  // new jobs start a new batch
  std::vector<Batch*> mine;
  for (Batch* b : batches_)
    if (b->plugin.get() == plugin) mine.push_back(b);
  for (Batch* b : mine) {
    // A running batch skips the jobs it has not started; uv_cancel fails
    // (harmlessly) for batches already running, which finish normally. A
    // batch not handed to the pool yet is cancelled when it would be
    // (submit_deferred).
    b->cancelled.store(true, std::memory_order_relaxed);
    if (b->submitted) uv_cancel(reinterpret_cast<uv_req_t*>(&b->req));
  }
}

size_t Work::pending(const parley_plugin* plugin) const {
  size_t n = 0;
  for (const Batch* b : batches_)
    if (b->plugin.get() == plugin) n += b->jobs.size() - b->done;
  return n;
}

void Work::on_work(uv_work_t* req) {
  auto* b = static_cast<Batch*>(req->data);
  {
    std::lock_guard<std::mutex> lock(b->mu);
    b->started = true;  // from here on the loop adds nothing to b->jobs
  }
  const uint64_t start = now_ns();
  uint64_t now = start;
  for (Job& job : b->jobs) {
    if (b->cancelled.load(std::memory_order_relaxed)) break;
    if (b->ran > 0 && now - start > kMaxBatchRunNs) break;  // the rest goes back
    job.work_cb(job.data);
    ++b->ran;
    now = now_ns();
  }
  b->run_ns = now - start;
}

void Work::on_after(uv_work_t* req, int status) {
  auto* b = static_cast<Batch*>(req->data);
  b->owner->finish(b, status == UV_ECANCELED ? PARLEY_ECANCELED : 0);
}

void Work::finish(Batch* b, int status) {
  std::unique_ptr<Batch> hold(b);
  if (auto it = open_.find(b->plugin.get()); it != open_.end() && it->second == b)
    open_.erase(it);
  if (status == 0 && b->ran > 0) {
    Cost& c = costs_[b->plugin.get()];
    double per_job = static_cast<double>(b->run_ns) / static_cast<double>(b->ran);
    c.avg_ns = c.samples == 0 ? per_job : c.avg_ns * 0.875 + per_job * 0.125;
    c.samples += static_cast<uint32_t>(b->ran);
  }
  // Jobs a stopped batch did not run: cancelled ones get ECANCELED; the rest
  // (the batch ran out of time) go back to the pool as a batch of their own.
  std::unique_ptr<Batch> rest;
  const bool cancelled = status != 0 || b->cancelled.load(std::memory_order_relaxed);
  if (!cancelled && b->ran < b->jobs.size()) {
    rest = std::make_unique<Batch>();
    rest->owner = this;
    rest->plugin = b->plugin;
    rest->jobs.assign(b->jobs.begin() + static_cast<std::ptrdiff_t>(b->ran), b->jobs.end());
    b->jobs.resize(b->ran);
    if (submit(rest.get()) == 0) {
      rest.release();
    } else {
      // The pool refused (the loop is ending): after_cb always runs.
      for (const Job& job : rest->jobs) b->jobs.push_back(job);
      rest.reset();
    }
  }
  size_t i = 0;
  for (const Job& job : b->jobs) {
    const bool ran = status == 0 && i++ < b->ran;
    --pending_;
    ++b->done;
    job.after_cb(job.data, ran ? 0 : PARLEY_ECANCELED);
    if (after_hook) after_hook();
  }
  batches_.erase(b);
  // `hold` drops the batch's plugin reference last: it may unmap the library.
}

}  // namespace parley::kernel::host
