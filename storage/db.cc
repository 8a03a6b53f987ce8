#include "storage/db.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>

#include <cstdio>
#include <filesystem>
#include <future>
#include <system_error>

#include "storage/group_writer.h"

namespace parley::storage {

namespace {

void stderr_log(LogLevel level, const std::string& line) {
  const char* tag = level == LogLevel::kError ? "ERROR" : level == LogLevel::kWarn ? "WARN" : "INFO";
  std::fprintf(stderr, "storage %s %s\n", tag, line.c_str());
}

rocksdb::ColumnFamilyOptions cf_options(const Options& o,
                                        const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = o.write_buffer_mb << 20;
  // Most point reads miss: every new client_msg_id is looked up in the
  // rooms dedupe index before it is stored. Bloom filters (whole keys) on
  // the memtable and on every table file answer those misses without
  // searching the skiplist or reading index and data blocks per level.
  cf.memtable_prefix_bloom_size_ratio = 0.02;
  cf.memtable_whole_key_filtering = true;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

}  // namespace

Db::Db(const Options& options) : options_(options) {
  if (!options_.log) options_.log = stderr_log;
}

Status Db::open(const Options& options, std::unique_ptr<Db>* out) {
  if (options.path.empty()) return {Code::kInvalidArgument, "storage path is empty"};
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec)
    return {Code::kIOError, "cannot create " + options.path + ": " + ec.message()};

  std::unique_ptr<Db> db(new Db(options));
  auto cache = rocksdb::NewLRUCache(std::max<size_t>(options.block_cache_mb, 1) << 20);

  rocksdb::DBOptions dbo;
  dbo.create_if_missing = true;
  dbo.create_missing_column_families = true;
  dbo.paranoid_checks = true;
  // After a crash, replay the WAL up to the first damaged record and stop
  // there: a torn tail costs only writes that were never acknowledged
  // (tests/crash/wal_tail_test.cc). Explicit, not left to the default.
  dbo.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db->statistics_ = rocksdb::CreateDBStatistics();
  dbo.statistics = db->statistics_;
  if (options.env) dbo.env = options.env;

  // Reopen every namespace the database already has; RocksDB refuses an
  // open that omits one.
  std::vector<std::string> names;
  rocksdb::Status ls = rocksdb::DB::ListColumnFamilies(dbo, options.path, &names);
  if (!ls.ok() || names.empty()) names = {rocksdb::kDefaultColumnFamilyName};
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) descriptors.emplace_back(n, cf_options(options, cache));

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status rs = rocksdb::DB::Open(dbo, options.path, descriptors, &handles, &db->db_);
  if (!rs.ok()) {
    // Not logged here: the caller reports it (with its own context).
    db->closed_ = true;
    return Status::from_rocksdb(rs);
  }
  for (size_t i = 0; i < handles.size(); ++i) db->namespaces_[names[i]] = Ns(handles[i]);
  db->writer_ = std::make_unique<GroupWriter>(
      db->db_, options.durability == Durability::kSync, options.max_group_batches,
      options.max_group_bytes, db->options_.log);
  *out = std::move(db);
  return {};
}

Db::~Db() { close(); }

Status Db::close() {
  {
    std::unique_lock<std::shared_mutex> lock(lifecycle_);
    if (closed_ || closing_) return {};
    closing_ = true;
  }
  // Writes first: every queued batch is written and answered. No lock is
  // held meanwhile, so a callback may still read, or write (and be refused
  // with kClosed), without deadlocking against this close.
  if (writer_) writer_->stop();
  std::unique_lock<std::shared_mutex> lock(lifecycle_);
  closed_ = true;
  rocksdb::Status first;
  {
    std::lock_guard<std::mutex> ns_lock(ns_mutex_);
    for (auto& [name, ns] : namespaces_) {
      rocksdb::Status s = db_->DestroyColumnFamilyHandle(ns.cf());
      if (first.ok() && !s.ok()) first = s;
    }
    namespaces_.clear();
  }
  rocksdb::Status s = db_->Close();
  if (first.ok() && !s.ok()) first = s;
  delete db_;
  db_ = nullptr;
  Status st = Status::from_rocksdb(first);
  if (!st.is_ok()) log(LogLevel::kError, "closing database: " + st.to_string());
  return st;
}

Status Db::open_namespace(const std::string& name, Ns* out) {
  if (name.empty() || name == rocksdb::kDefaultColumnFamilyName)
    return {Code::kInvalidArgument, "bad namespace name '" + name + "'"};
  std::shared_lock<std::shared_mutex> lock(lifecycle_);
  if (closed_) return {Code::kClosed, "database closed"};
  std::lock_guard<std::mutex> ns_lock(ns_mutex_);
  auto it = namespaces_.find(name);
  if (it != namespaces_.end()) {
    *out = it->second;
    return {};
  }
  auto cache = rocksdb::NewLRUCache(std::max<size_t>(options_.block_cache_mb, 1) << 20);
  // New namespaces share the first one's options (and its block cache).
  rocksdb::ColumnFamilyOptions cfo = cf_options(options_, cache);
  if (!namespaces_.empty()) {
    rocksdb::ColumnFamilyDescriptor d;
    if (namespaces_.begin()->second.cf()->GetDescriptor(&d).ok()) cfo = d.options;
  }
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  rocksdb::Status rs = db_->CreateColumnFamily(cfo, name, &cf);
  if (!rs.ok()) {
    Status st = Status::from_rocksdb(rs);
    log(LogLevel::kError, "cannot create namespace " + name + ": " + st.to_string());
    return st;
  }
  namespaces_[name] = Ns(cf);
  *out = Ns(cf);
  return {};
}

std::vector<std::string> Db::namespaces() const {
  std::lock_guard<std::mutex> lock(ns_mutex_);
  std::vector<std::string> out;
  for (const auto& [name, ns] : namespaces_)
    if (name != rocksdb::kDefaultColumnFamilyName) out.push_back(name);
  return out;
}

Status Db::get(Ns ns, std::string_view key, std::string* value) const {
  if (!ns.valid()) return {Code::kInvalidArgument, "invalid namespace"};
  std::shared_lock<std::shared_mutex> lock(lifecycle_);
  if (closed_) return {Code::kClosed, "database closed"};
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), ns.cf(),
                                rocksdb::Slice(key.data(), key.size()), value);
  if (rs.IsNotFound()) return {Code::kNotFound, "no such key"};
  Status st = Status::from_rocksdb(rs);
  if (!st.is_ok()) log(LogLevel::kError, "storage read FAILED: " + st.to_string());
  return st;
}

void Db::write(Batch&& batch, WriteDone done) {
  for (const auto& op : batch.ops()) {
    if (op.cf == nullptr) {
      if (done) done({Code::kInvalidArgument, "batch uses an invalid namespace"});
      return;
    }
  }
  bool queued = false;
  {
    std::shared_lock<std::shared_mutex> lock(lifecycle_);
    if (!closed_) queued = writer_->submit(std::move(batch), done);
  }
  if (!queued && done) done({Code::kClosed, "database closed"});
}

Status Db::write_sync(Batch&& batch) {
  std::promise<Status> promise;
  std::future<Status> result = promise.get_future();
  write(std::move(batch), [&promise](const Status& st) { promise.set_value(st); });
  return result.get();
}

Status Db::checkpoint(const std::string& dir) {
  std::shared_lock<std::shared_mutex> lock(lifecycle_);
  if (closed_) return {Code::kClosed, "database closed"};
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(dir).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return {Code::kIOError, "cannot create " + parent.string() + ": " + ec.message()};
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status rs = rocksdb::Checkpoint::Create(db_, &raw);
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  if (rs.ok()) rs = cp->CreateCheckpoint(dir);
  Status st = Status::from_rocksdb(rs);
  if (st.is_ok())
    log(LogLevel::kInfo, "checkpoint written to " + dir);
  else
    log(LogLevel::kError, "checkpoint to " + dir + " FAILED: " + st.to_string());
  return st;
}

Stats Db::stats() const {
  Stats s;
  std::shared_lock<std::shared_mutex> lock(lifecycle_);
  if (writer_) {
    s.batches_committed = writer_->batches_committed();
    s.batches_failed = writer_->batches_failed();
    s.group_writes = writer_->group_writes();
  }
  if (statistics_) s.wal_syncs = statistics_->getTickerCount(rocksdb::WAL_FILE_SYNCED);
  return s;
}

void Db::log(LogLevel level, const std::string& line) const { options_.log(level, line); }

}  // namespace parley::storage
