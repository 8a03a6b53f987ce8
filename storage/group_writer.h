// GroupWriter: the one thread that writes to RocksDB, doing group commit.
//
// Why a thread of its own: in `sync` mode a write may be acknowledged only
// after its WAL record is fsynced, and one fsync costs milliseconds. The
// writer takes every batch that queued up while the previous write+fsync was
// running, merges them into one rocksdb::WriteBatch and writes it with one
// sync — so N concurrent writers pay about one fsync per round instead of N.
// Merging (rather than writing each batch unsynced and then calling
// SyncWAL) also keeps a batch invisible to readers until it is durable.
// Each caller's batch stays atomic: a merged write is all or nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include "storage/batch.h"
#include "storage/db.h"
#include "storage/status.h"

namespace rocksdb {
class DB;
}

namespace parley::storage {

class GroupWriter {
 public:
  // db must outlive the writer (until stop() returns).
  // max_group_batches / max_group_bytes: caps per group (0: none); a single
  // batch larger than the byte cap is written alone.
  GroupWriter(rocksdb::DB* db, bool sync, size_t max_group_batches, size_t max_group_bytes,
              LogFn log);
  ~GroupWriter();

  // Queues a batch; false (done not called) once stop() has begun.
  bool submit(Batch&& batch, WriteDone done);
  // Writes everything queued, runs its callbacks, joins the thread.
  void stop();

  uint64_t batches_committed() const { return committed_.load(); }
  uint64_t batches_failed() const { return failed_.load(); }
  uint64_t group_writes() const { return writes_.load(); }

 private:
  struct Pending {
    Batch batch;
    WriteDone done;
  };

  void run();
  void write_group(std::deque<Pending>& group);

  rocksdb::DB* db_;
  bool sync_;
  size_t max_group_;
  size_t max_group_bytes_;
  LogFn log_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread thread_;

  std::atomic<uint64_t> committed_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> writes_{0};
};

}  // namespace parley::storage
