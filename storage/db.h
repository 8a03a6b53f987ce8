// parley::storage::Db — a RocksDB database with one column family per
// namespace, atomic batches written through a group-commit writer thread,
// ordered scans and checkpoints. Knows nothing of chat or of the SDK.
//
// Threads: every method is thread-safe. get/scan/checkpoint block the calling
// thread (call them off any event loop); write() queues the batch and returns
// at once, its callback runs later on the writer thread.
//
// Lifetime: open() -> use -> close() (or the destructor). close() first
// finishes every queued write (their callbacks run), then closes RocksDB.
// Calls after close() fail with Code::kClosed and do nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/batch.h"
#include "storage/status.h"

namespace rocksdb {
class DB;
class Env;
class Statistics;
}  // namespace rocksdb

namespace parley::storage {

class GroupWriter;

enum class Durability {
  kSync,   // a write completes after its WAL is fsynced (grouped)
  kAsync,  // a write completes after it is written; the WAL is not synced
};

enum class LogLevel { kInfo, kWarn, kError };
using LogFn = std::function<void(LogLevel level, const std::string& line)>;

struct Options {
  std::string path;  // the database directory; created with its parents
  Durability durability = Durability::kSync;
  size_t block_cache_mb = 32;
  size_t write_buffer_mb = 16;
  // Most batches one WAL write may carry; 0: no limit. 1 turns group commit
  // off (one fsync per batch) — the benchmark's baseline.
  size_t max_group_batches = 0;
  // Most key+value bytes one group carries before the rest waits for the
  // next round; 0: no limit.
  size_t max_group_bytes = 8 << 20;
  // Called from any thread for errors and notable events. Default: stderr.
  LogFn log;
  // A custom RocksDB Env (tests inject I/O faults through it); owned by the
  // caller, must outlive the Db. nullptr: the default Env.
  rocksdb::Env* env = nullptr;
};

struct KeyValue {
  std::string key;
  std::string value;
};

// Keys in [start, end) of one namespace; empty end: no upper bound. Reverse
// runs from the greatest key < end down to start. limit 0: no limit.
struct ScanRange {
  std::string start;
  std::string end;
  bool reverse = false;
  size_t limit = 0;
};

struct ScanResult {
  std::vector<KeyValue> items;
  bool more = false;  // the limit cut the scan short
};

struct Stats {
  uint64_t batches_committed = 0;  // batches acknowledged with ok
  uint64_t batches_failed = 0;     // batches acknowledged with an error
  uint64_t group_writes = 0;       // RocksDB Write() calls (one per group)
  uint64_t wal_syncs = 0;          // WAL fsyncs, as counted by RocksDB
};

using WriteDone = std::function<void(const Status& status)>;

class Db {
 public:
  // Opens (creating if missing) the database at options.path with every
  // column family it already has. A database locked by another process (or
  // another Db in this one) fails with Code::kBusy naming the lock file.
  // Errors are returned, not logged: the caller reports them.
  static Status open(const Options& options, std::unique_ptr<Db>* out);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Drains queued writes (their callbacks run on the writer thread), then
  // closes RocksDB. Idempotent.
  Status close();

  // The namespace `name` (a column family), created if missing. "default"
  // is RocksDB's own and refused. Handles stay valid until close().
  Status open_namespace(const std::string& name, Ns* out);
  std::vector<std::string> namespaces() const;

  // Reads one key: ok and *value, Code::kNotFound, or an error.
  Status get(Ns ns, std::string_view key, std::string* value) const;
  Status scan(Ns ns, const ScanRange& range, ScanResult* out) const;
  // Every key that starts with prefix (empty prefix: the whole namespace).
  Status scan_prefix(Ns ns, std::string_view prefix, bool reverse, size_t limit,
                     ScanResult* out) const;

  // Queues an atomic batch. done(status) runs exactly once on the writer
  // thread when the batch is durable as configured, or failed (nothing of it
  // was written); at once on the calling thread if the Db is closed.
  void write(Batch&& batch, WriteDone done);
  // The same, blocking until done.
  Status write_sync(Batch&& batch);

  // A consistent copy of the whole database in dir (must not exist; its
  // parent is created), openable as a database of its own.
  Status checkpoint(const std::string& dir);

  Stats stats() const;
  const Options& options() const { return options_; }

 private:
  explicit Db(const Options& options);
  void log(LogLevel level, const std::string& line) const;

  Options options_;
  mutable std::shared_mutex lifecycle_;  // shared: operations; unique: close
  bool closing_ = false;  // close() is draining the writer
  bool closed_ = false;
  rocksdb::DB* db_ = nullptr;
  std::shared_ptr<rocksdb::Statistics> statistics_;
  mutable std::mutex ns_mutex_;
  std::unordered_map<std::string, Ns> namespaces_;
  std::unique_ptr<GroupWriter> writer_;
};

}  // namespace parley::storage
