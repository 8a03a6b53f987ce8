#include "work.h"

#include <vector>

namespace parley::kernel::host {

int Work::queue(const PluginRef& plugin, parley_work_fn work_cb, parley_after_work_fn after_cb,
                void* data) {
  if (!work_cb || !after_cb) return PARLEY_EINVAL;
  if (!plugin || !plugin->live()) return PARLEY_EUNAVAIL;  // shutting down
  auto* job = new Job{{}, plugin, work_cb, after_cb, data, this};
  job->req.data = job;
  int rc = uv_queue_work(loop_, &job->req, &Work::on_work, &Work::on_after);
  if (rc != 0) {
    delete job;
    return PARLEY_EUNAVAIL;
  }
  jobs_.insert(job);
  return 0;
}

void Work::cancel_all(const parley_plugin* plugin) {
  std::vector<Job*> mine;
  for (Job* job : jobs_)
    if (job->plugin.get() == plugin) mine.push_back(job);
  // Fails (harmlessly) for jobs already running; those finish normally.
  for (Job* job : mine) uv_cancel(reinterpret_cast<uv_req_t*>(&job->req));
}

size_t Work::pending(const parley_plugin* plugin) const {
  size_t n = 0;
  for (const Job* job : jobs_)
    if (job->plugin.get() == plugin) n++;
  return n;
}

void Work::on_work(uv_work_t* req) {
  auto* job = static_cast<Job*>(req->data);
  job->work_cb(job->data);
}

void Work::on_after(uv_work_t* req, int status) {
  auto* job = static_cast<Job*>(req->data);
  Work* owner = job->owner;
  owner->jobs_.erase(job);
  job->after_cb(job->data, status == UV_ECANCELED ? PARLEY_ECANCELED : 0);
  delete job;  // may drop the last reference to the plugin's library
  if (owner->after_hook) owner->after_hook();
}

}  // namespace parley::kernel::host
