#include "storage/group_writer.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <exception>
#include <utility>

namespace parley::storage {

GroupWriter::GroupWriter(rocksdb::DB* db, bool sync, size_t max_group_batches,
                         size_t max_group_bytes, LogFn log)
    : db_(db),
      sync_(sync),
      max_group_(max_group_batches),
      max_group_bytes_(max_group_bytes == 0 ? SIZE_MAX : max_group_bytes),
      log_(std::move(log)) {
  thread_ = std::thread([this] { run(); });
}

GroupWriter::~GroupWriter() { stop(); }

bool GroupWriter::submit(Batch&& batch, WriteDone done) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return false;
    queue_.push_back({std::move(batch), std::move(done)});
  }
  wake_.notify_one();
  return true;
}

void GroupWriter::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void GroupWriter::run() {
  std::deque<Pending> group;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping and drained
      // Everything that arrived while the previous group was being synced
      // becomes the next group, up to the count and byte caps (a huge
      // backlog is written in several rounds, so no single WAL record and
      // no single wait grows without bound).
      size_t bytes = 0;
      while (!queue_.empty() && (max_group_ == 0 || group.size() < max_group_) &&
             (group.empty() || bytes + queue_.front().batch.bytes() <= max_group_bytes_)) {
        bytes += queue_.front().batch.bytes();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    write_group(group);
    group.clear();
  }
}

void GroupWriter::write_group(std::deque<Pending>& group) {
  rocksdb::WriteBatch merged;
  rocksdb::Status rs;
  for (const Pending& p : group) {
    for (const Batch::Op& op : p.batch.ops()) {
      rs = op.is_delete ? merged.Delete(op.cf, op.key)
                        : merged.Put(op.cf, op.key, op.value);
      if (!rs.ok()) break;
    }
    if (!rs.ok()) break;
  }
  if (rs.ok() && merged.Count() > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = sync_;
    rs = db_->Write(wo, &merged);
    writes_.fetch_add(1);
  }
  Status status = Status::from_rocksdb(rs);
  if (!status.is_ok()) {
    // Loud on purpose: nothing of these batches was acknowledged as written.
    failed_.fetch_add(group.size());
    if (log_)
      log_(LogLevel::kError, "storage write FAILED, " + std::to_string(group.size()) +
                                 " batch(es) not written: " + status.to_string());
  } else {
    committed_.fetch_add(group.size());
  }
  for (Pending& p : group) {
    try {
      if (p.done) p.done(status);
    } catch (const std::exception& e) {
      if (log_) log_(LogLevel::kError, std::string("storage write callback threw: ") + e.what());
    } catch (...) {
      if (log_) log_(LogLevel::kError, "storage write callback threw");
    }
  }
}

}  // namespace parley::storage
