// Errors: a failing WAL sync, a full disk and a corrupted database become
// error statuses (and a logged line) — never an acknowledgement of a record
// that was not written, never a crash.
#include <gtest/gtest.h>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "storage/db.h"
#include "temp_dir.h"

namespace ps = parley::storage;
using ps::Code;
using ps::testing::TempDir;

namespace {

// Fails WAL ("*.log") syncs and appends on demand.
struct Faults {
  std::atomic<bool> fail_sync{false};
  std::atomic<bool> fail_append_nospace{false};
};

class FaultyFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyFile(std::unique_ptr<rocksdb::FSWritableFile>&& f, Faults* faults)
      : FSWritableFileOwnerWrapper(std::move(f)), faults_(faults) {}
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
    if (faults_->fail_append_nospace) return rocksdb::IOStatus::NoSpace("injected: disk full");
    return FSWritableFileOwnerWrapper::Append(data, o, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v,
                           rocksdb::IODebugContext* dbg) override {
    if (faults_->fail_append_nospace) return rocksdb::IOStatus::NoSpace("injected: disk full");
    return FSWritableFileOwnerWrapper::Append(data, o, v, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (faults_->fail_sync) return rocksdb::IOStatus::IOError("injected: fsync failed");
    return FSWritableFileOwnerWrapper::Sync(o, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (faults_->fail_sync) return rocksdb::IOStatus::IOError("injected: fsync failed");
    return FSWritableFileOwnerWrapper::Fsync(o, dbg);
  }

 private:
  Faults* faults_;
};

class FaultyFs : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultyFs(Faults* faults)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), faults_(faults) {}
  const char* Name() const override { return "FaultyFs"; }
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = FileSystemWrapper::NewWritableFile(f, o, r, dbg);
    if (s.ok() && f.size() > 4 && f.compare(f.size() - 4, 4, ".log") == 0)
      *r = std::make_unique<FaultyFile>(std::move(*r), faults_);
    return s;
  }

 private:
  Faults* faults_;
};

struct Harness {
  TempDir tmp;
  Faults faults;
  std::unique_ptr<rocksdb::Env> env =
      rocksdb::NewCompositeEnv(std::make_shared<FaultyFs>(&faults));
  std::mutex log_mutex;
  std::vector<std::string> errors;
  std::unique_ptr<ps::Db> db;
  ps::Ns ns;

  void open() {
    ps::Options o;
    o.path = tmp.sub("db");
    o.env = env.get();
    o.log = [this](ps::LogLevel level, const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mutex);
      if (level == ps::LogLevel::kError) errors.push_back(line);
    };
    ps::Status st = ps::Db::open(o, &db);
    ASSERT_TRUE(st.is_ok()) << st.to_string();
    ASSERT_TRUE(db->open_namespace("x", &ns).is_ok());
  }
  ps::Status put(const std::string& k) {
    ps::Batch b;
    b.put(ns, k, "v");
    return db->write_sync(std::move(b));
  }
};

}  // namespace

TEST(Faults, FailedWalSyncIsAnErrorAndTheRecordIsNotVisible) {
  Harness h;
  h.open();
  ASSERT_TRUE(h.put("before").is_ok());
  h.faults.fail_sync = true;
  ps::Status st = h.put("lost");
  EXPECT_FALSE(st.is_ok());
  EXPECT_EQ(st.code(), Code::kIOError) << st.to_string();
  std::string v;
  EXPECT_EQ(h.db->get(h.ns, "lost", &v).code(), Code::kNotFound);
  EXPECT_EQ(h.db->stats().batches_failed, 1u);
  ASSERT_FALSE(h.errors.empty());
  EXPECT_NE(h.errors.front().find("FAILED"), std::string::npos) << h.errors.front();
  // RocksDB stops accepting writes after a failed WAL sync: later writes
  // keep failing rather than pretending.
  h.faults.fail_sync = false;
  EXPECT_FALSE(h.put("after").is_ok());
  EXPECT_TRUE(h.db->get(h.ns, "before", &v).is_ok());
}

TEST(Faults, DiskFullIsReportedAsNoSpace) {
  Harness h;
  h.open();
  h.faults.fail_append_nospace = true;
  ps::Status st = h.put("k");
  EXPECT_EQ(st.code(), Code::kNoSpace) << st.to_string();
  std::string v;
  EXPECT_EQ(h.db->get(h.ns, "k", &v).code(), Code::kNotFound);
}

TEST(Faults, CorruptedDatabaseFailsToOpenWithCorruption) {
  TempDir tmp;
  std::string path = tmp.sub("db");
  {
    ps::Options o;
    o.path = path;
    std::unique_ptr<ps::Db> db;
    ASSERT_TRUE(ps::Db::open(o, &db).is_ok());
    ps::Ns ns;
    ASSERT_TRUE(db->open_namespace("x", &ns).is_ok());
    ps::Batch b;
    b.put(ns, "k", "v");
    ASSERT_TRUE(db->write_sync(std::move(b)).is_ok());
  }
  // Overwrite the MANIFEST that CURRENT names with garbage.
  std::string current;
  {
    std::ifstream in(path + "/CURRENT");
    std::getline(in, current);
  }
  ASSERT_FALSE(current.empty());
  {
    std::ofstream out(path + "/" + current, std::ios::binary | std::ios::trunc);
    out << std::string(4096, '\x5A');
  }
  ps::Options o;
  o.path = path;
  std::unique_ptr<ps::Db> db;
  ps::Status st = ps::Db::open(o, &db);
  EXPECT_FALSE(st.is_ok());
  EXPECT_EQ(st.code(), Code::kCorruption) << st.to_string();
  EXPECT_FALSE(db);
}
