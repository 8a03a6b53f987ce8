// Group commit: concurrent writes in `sync` mode share WAL fsyncs. The fsync
// count is RocksDB's own WAL_FILE_SYNCED ticker, not ours.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "storage/db.h"
#include "temp_dir.h"

namespace ps = parley::storage;
using ps::testing::TempDir;

namespace {

std::unique_ptr<ps::Db> open_sync(const std::string& path, size_t max_group = 0) {
  ps::Options o;
  o.path = path;
  o.durability = ps::Durability::kSync;
  o.max_group_batches = max_group;
  std::unique_ptr<ps::Db> db;
  EXPECT_TRUE(ps::Db::open(o, &db).is_ok());
  return db;
}

// Submits n single-put batches from `threads` threads without waiting, then
// waits for every callback. Returns how many were acknowledged ok.
int write_concurrently(ps::Db& db, ps::Ns ns, int n, int threads) {
  std::mutex m;
  std::condition_variable cv;
  int done = 0, ok = 0;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = t; i < n; i += threads) {
        ps::Batch b;
        b.put(ns, "key-" + std::to_string(i), "value-" + std::to_string(i));
        db.write(std::move(b), [&](const ps::Status& st) {
          std::lock_guard<std::mutex> lock(m);
          ++done;
          ok += st.is_ok();
          cv.notify_all();
        });
      }
    });
  }
  for (auto& th : pool) th.join();
  std::unique_lock<std::mutex> lock(m);
  cv.wait(lock, [&] { return done == n; });
  return ok;
}

}  // namespace

TEST(GroupCommit, ThousandConcurrentWritesNeedFarFewerFsyncs) {
  TempDir tmp;
  auto db = open_sync(tmp.sub("db"));
  ps::Ns ns;
  ASSERT_TRUE(db->open_namespace("bench", &ns).is_ok());
  uint64_t syncs_before = db->stats().wal_syncs;

  ASSERT_EQ(write_concurrently(*db, ns, 1000, 8), 1000);

  ps::Stats s = db->stats();
  uint64_t syncs = s.wal_syncs - syncs_before;
  std::printf("1000 writes: %llu WAL fsyncs, %llu group writes\n",
              static_cast<unsigned long long>(syncs),
              static_cast<unsigned long long>(s.group_writes));
  EXPECT_EQ(s.batches_committed, 1000u);
  EXPECT_GE(syncs, 1u);
  EXPECT_LE(syncs, 100u) << "group commit should need far fewer fsyncs than writes";
  EXPECT_LE(s.group_writes, 100u);
  // And every acknowledged write is readable.
  for (int i = 0; i < 1000; i += 37) {
    std::string v;
    ASSERT_TRUE(db->get(ns, "key-" + std::to_string(i), &v).is_ok());
    EXPECT_EQ(v, "value-" + std::to_string(i));
  }
}

TEST(GroupCommit, WithoutGroupingEveryWritePaysItsOwnFsync) {
  // The baseline the benchmark compares against; also shows that the fsync
  // counter used above does count real syncs.
  TempDir tmp;
  auto db = open_sync(tmp.sub("db"), /*max_group=*/1);
  ps::Ns ns;
  ASSERT_TRUE(db->open_namespace("bench", &ns).is_ok());
  uint64_t syncs_before = db->stats().wal_syncs;
  ASSERT_EQ(write_concurrently(*db, ns, 100, 8), 100);
  EXPECT_GE(db->stats().wal_syncs - syncs_before, 100u);
  EXPECT_EQ(db->stats().group_writes, 100u);
}

TEST(GroupCommit, BlockingWritersFromManyThreadsAreGrouped) {
  TempDir tmp;
  auto db = open_sync(tmp.sub("db"));
  ps::Ns ns;
  ASSERT_TRUE(db->open_namespace("bench", &ns).is_ok());
  std::atomic<int> ok{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 32; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        ps::Batch b;
        b.put(ns, "t" + std::to_string(t) + "-" + std::to_string(i), "v");
        ok += db->write_sync(std::move(b)).is_ok();
      }
    });
  for (auto& w : writers) w.join();
  EXPECT_EQ(ok.load(), 256);
  EXPECT_LT(db->stats().group_writes, 256u);
}

TEST(GroupCommit, AGroupStopsAtTheByteCap) {
  TempDir tmp;
  ps::Options o;
  o.path = tmp.sub("db");
  o.max_group_bytes = 1000;  // about 9 of the 103-byte batches below
  std::unique_ptr<ps::Db> db;
  ASSERT_TRUE(ps::Db::open(o, &db).is_ok());
  ps::Ns ns;
  ASSERT_TRUE(db->open_namespace("x", &ns).is_ok());
  std::atomic<int> ok{0};
  for (int i = 0; i < 90; ++i) {
    ps::Batch b;
    b.put(ns, "k" + std::to_string(10 + i), std::string(100, 'v'));
    db->write(std::move(b), [&](const ps::Status& st) { ok += st.is_ok(); });
  }
  ASSERT_TRUE(db->close().is_ok());
  EXPECT_EQ(ok.load(), 90);
  EXPECT_GE(db->stats().group_writes, 10u);  // 90 batches / at most 9 per group
}
