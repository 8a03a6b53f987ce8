// The storage library's basic contract: get/put/delete, atomic batches,
// namespace isolation, reopen, the lock against a second opener, closing,
// durability modes and checkpoints.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "storage/db.h"
#include "temp_dir.h"

namespace ps = parley::storage;
using ps::Code;
using ps::testing::TempDir;

namespace {

std::unique_ptr<ps::Db> open_db(const std::string& path,
                                ps::Durability d = ps::Durability::kSync) {
  ps::Options o;
  o.path = path;
  o.durability = d;
  std::unique_ptr<ps::Db> db;
  ps::Status st = ps::Db::open(o, &db);
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  return db;
}

ps::Ns ns_of(ps::Db& db, const std::string& name) {
  ps::Ns ns;
  ps::Status st = db.open_namespace(name, &ns);
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  return ns;
}

std::string get_or(ps::Db& db, ps::Ns ns, const std::string& key, const char* missing = "<missing>") {
  std::string v;
  ps::Status st = db.get(ns, key, &v);
  if (st.code() == Code::kNotFound) return missing;
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  return v;
}

}  // namespace

TEST(Db, OpenCreatesMissingDirectories) {
  TempDir tmp;
  std::string path = tmp.sub("a/b/db");
  auto db = open_db(path);
  ASSERT_TRUE(db);
  EXPECT_TRUE(std::filesystem::exists(path + "/CURRENT"));
}

TEST(Db, PutGetDeleteRoundTrip) {
  TempDir tmp;
  auto db = open_db(tmp.sub("db"));
  ps::Ns ns = ns_of(*db, "auth");
  ps::Batch b;
  b.put(ns, "k1", "v1");
  b.put(ns, std::string("k\0bin", 5), std::string("v\0\xFF", 3));
  ASSERT_TRUE(db->write_sync(std::move(b)).is_ok());
  EXPECT_EQ(get_or(*db, ns, "k1"), "v1");
  EXPECT_EQ(get_or(*db, ns, std::string("k\0bin", 5)), std::string("v\0\xFF", 3));
  EXPECT_EQ(get_or(*db, ns, "nope"), "<missing>");

  ps::Batch d;
  d.del(ns, "k1");
  ASSERT_TRUE(db->write_sync(std::move(d)).is_ok());
  EXPECT_EQ(get_or(*db, ns, "k1"), "<missing>");
}

TEST(Db, BatchIsAtomicAcrossNamespacesAndLaterOpsWin) {
  TempDir tmp;
  auto db = open_db(tmp.sub("db"));
  ps::Ns a = ns_of(*db, "rooms");
  ps::Ns b = ns_of(*db, "rooms.index");
  ps::Batch batch;
  batch.put(a, "msg", "hello");
  batch.put(b, "idx", "1");
  batch.put(a, "x", "first");
  batch.put(a, "x", "second");
  batch.put(a, "gone", "soon");
  batch.del(a, "gone");
  EXPECT_EQ(batch.size(), 6u);
  ASSERT_TRUE(db->write_sync(std::move(batch)).is_ok());
  EXPECT_EQ(get_or(*db, a, "msg"), "hello");
  EXPECT_EQ(get_or(*db, b, "idx"), "1");
  EXPECT_EQ(get_or(*db, a, "x"), "second");
  EXPECT_EQ(get_or(*db, a, "gone"), "<missing>");
}

TEST(Db, NamespacesAreIsolated) {
  TempDir tmp;
  auto db = open_db(tmp.sub("db"));
  ps::Ns auth = ns_of(*db, "auth");
  ps::Ns rooms = ns_of(*db, "rooms");
  ps::Batch b;
  b.put(auth, "same-key", "auth's");
  b.put(rooms, "same-key", "rooms'");
  ASSERT_TRUE(db->write_sync(std::move(b)).is_ok());
  EXPECT_EQ(get_or(*db, auth, "same-key"), "auth's");
  EXPECT_EQ(get_or(*db, rooms, "same-key"), "rooms'");
  ps::ScanResult r;
  ASSERT_TRUE(db->scan_prefix(auth, "", false, 0, &r).is_ok());
  ASSERT_EQ(r.items.size(), 1u);
  EXPECT_EQ(r.items[0].value, "auth's");
  // Opening a namespace twice yields the same handle.
  EXPECT_TRUE(ns_of(*db, "auth") == auth);
}

TEST(Db, DefaultAndEmptyNamespaceNamesAreRefused) {
  TempDir tmp;
  auto db = open_db(tmp.sub("db"));
  ps::Ns ns;
  EXPECT_EQ(db->open_namespace("default", &ns).code(), Code::kInvalidArgument);
  EXPECT_EQ(db->open_namespace("", &ns).code(), Code::kInvalidArgument);
  ps::Batch b;
  b.put(ps::Ns(), "k", "v");
  EXPECT_EQ(db->write_sync(std::move(b)).code(), Code::kInvalidArgument);
  std::string v;
  EXPECT_EQ(db->get(ps::Ns(), "k", &v).code(), Code::kInvalidArgument);
}

TEST(Db, DataAndNamespacesSurviveReopen) {
  TempDir tmp;
  {
    auto db = open_db(tmp.sub("db"));
    ps::Ns ns = ns_of(*db, "receipts");
    ps::Batch b;
    b.put(ns, "k", "v");
    ASSERT_TRUE(db->write_sync(std::move(b)).is_ok());
    ASSERT_TRUE(db->close().is_ok());
  }
  auto db = open_db(tmp.sub("db"));
  EXPECT_EQ(db->namespaces(), std::vector<std::string>{"receipts"});
  EXPECT_EQ(get_or(*db, ns_of(*db, "receipts"), "k"), "v");
}

TEST(Db, SecondOpenOfTheSameDirectoryIsRefusedWithTheLockError) {
  TempDir tmp;
  auto first = open_db(tmp.sub("db"));
  ps::Options o;
  o.path = tmp.sub("db");
  o.log = [](ps::LogLevel, const std::string&) {};
  std::unique_ptr<ps::Db> second;
  ps::Status st = ps::Db::open(o, &second);
  EXPECT_EQ(st.code(), Code::kBusy) << st.to_string();
  EXPECT_NE(st.message().find("LOCK"), std::string::npos) << st.message();
  EXPECT_FALSE(second);
  // Once the first closes, the directory can be opened again.
  ASSERT_TRUE(first->close().is_ok());
  EXPECT_TRUE(ps::Db::open(o, &second).is_ok());
}

TEST(Db, CallsAfterCloseFailWithClosedAndStillCallBack) {
  TempDir tmp;
  auto db = open_db(tmp.sub("db"));
  ps::Ns ns = ns_of(*db, "x");
  ASSERT_TRUE(db->close().is_ok());
  ASSERT_TRUE(db->close().is_ok());  // idempotent
  int calls = 0;
  ps::Batch b;
  b.put(ns, "k", "v");
  db->write(std::move(b), [&](const ps::Status& st) {
    ++calls;
    EXPECT_EQ(st.code(), Code::kClosed);
  });
  EXPECT_EQ(calls, 1);
  std::string v;
  EXPECT_EQ(db->get(ns, "k", &v).code(), Code::kClosed);
  ps::ScanResult r;
  EXPECT_EQ(db->scan_prefix(ns, "", false, 0, &r).code(), Code::kClosed);
}

TEST(Db, CloseDrainsQueuedWritesAndAnswersEachOnce) {
  TempDir tmp;
  auto db = open_db(tmp.sub("db"));
  ps::Ns ns = ns_of(*db, "x");
  std::atomic<int> ok{0};
  for (int i = 0; i < 200; ++i) {
    ps::Batch b;
    b.put(ns, "k" + std::to_string(i), "v");
    db->write(std::move(b), [&](const ps::Status& st) { ok += st.is_ok(); });
  }
  ASSERT_TRUE(db->close().is_ok());
  EXPECT_EQ(ok.load(), 200);
  auto again = open_db(tmp.sub("db"));
  EXPECT_EQ(get_or(*again, ns_of(*again, "x"), "k199"), "v");
}

TEST(Db, AsyncDurabilityWritesWithoutSyncingTheWal) {
  TempDir tmp;
  auto db = open_db(tmp.sub("db"), ps::Durability::kAsync);
  ps::Ns ns = ns_of(*db, "x");
  for (int i = 0; i < 20; ++i) {
    ps::Batch b;
    b.put(ns, "k" + std::to_string(i), "v");
    ASSERT_TRUE(db->write_sync(std::move(b)).is_ok());
  }
  EXPECT_EQ(get_or(*db, ns, "k19"), "v");
  EXPECT_EQ(db->stats().wal_syncs, 0u);
  EXPECT_EQ(db->stats().batches_committed, 20u);
}

TEST(Db, SyncDurabilitySyncsTheWal) {
  TempDir tmp;
  auto db = open_db(tmp.sub("db"));
  ps::Ns ns = ns_of(*db, "x");
  ps::Batch b;
  b.put(ns, "k", "v");
  ASSERT_TRUE(db->write_sync(std::move(b)).is_ok());
  EXPECT_GE(db->stats().wal_syncs, 1u);
}

TEST(Db, CheckpointIsAConsistentOpenableCopy) {
  TempDir tmp;
  auto db = open_db(tmp.sub("db"));
  ps::Ns ns = ns_of(*db, "rooms");
  ps::Batch b;
  b.put(ns, "before", "1");
  ASSERT_TRUE(db->write_sync(std::move(b)).is_ok());
  std::string cp_dir = tmp.sub("backups/20260101T000000Z");
  ps::Status st = db->checkpoint(cp_dir);
  ASSERT_TRUE(st.is_ok()) << st.to_string();
  ps::Batch after;
  after.put(ns, "after", "2");
  ASSERT_TRUE(db->write_sync(std::move(after)).is_ok());
  // A checkpoint into an existing directory is refused.
  EXPECT_FALSE(db->checkpoint(cp_dir).is_ok());

  auto copy = open_db(cp_dir);
  ps::Ns cns = ns_of(*copy, "rooms");
  EXPECT_EQ(get_or(*copy, cns, "before"), "1");
  EXPECT_EQ(get_or(*copy, cns, "after"), "<missing>");
}

TEST(Db, AWriteCallbackMayWriteAgainWhileTheDbCloses) {
  TempDir tmp;
  auto db = open_db(tmp.sub("db"));
  ps::Ns ns = ns_of(*db, "x");
  std::atomic<int> first{-1}, second{-1};
  ps::Batch b;
  b.put(ns, "k", "v");
  db->write(std::move(b), [&](const ps::Status& st) {
    first = static_cast<int>(st.code());
    ps::Batch again;
    again.put(ns, "k2", "v");
    // Runs on the writer thread, maybe during close(): must not deadlock.
    db->write(std::move(again), [&](const ps::Status& st2) { second = static_cast<int>(st2.code()); });
  });
  ASSERT_TRUE(db->close().is_ok());
  EXPECT_EQ(first.load(), static_cast<int>(Code::kOk));
  // Either written before close began draining, or refused: never lost silently.
  EXPECT_TRUE(second.load() == static_cast<int>(Code::kOk) ||
              second.load() == static_cast<int>(Code::kClosed))
      << second.load();
}
