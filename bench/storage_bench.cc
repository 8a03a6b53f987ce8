// Storage benchmarks over parley_storage (RocksDB on the local disk):
//   SyncWrite/GroupCommit  durable (WAL fsynced) single-put batches with 1, 16
//                          and 256 concurrent writers, group commit on;
//   SyncWrite/OneFsyncEach the same with grouping off (max_group_batches=1):
//                          every write pays its own fsync — the baseline;
//   Pipelined/<depth>      the server's shape: one thread keeps 1/16/256
//                          writes in flight (no thread per writer), group
//                          commit on vs one fsync per write;
//   AsyncWrite             written, not synced;
//   Get, ScanRecent50      reads of a room-shaped namespace.
// Counters: items_per_second = writes/s over all threads; fsyncs_per_write
// from RocksDB's WAL_FILE_SYNCED ticker.
//
//   ninja -C build parley_bench_storage
//   build/bin/parley_bench_storage [--benchmark_filter=SyncWrite]
//   PARLEY_BENCH_DIR=/path/on/the/real/disk (default: $TMPDIR or /tmp)
#include <benchmark/benchmark.h>

#include <condition_variable>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <parley/util/keys.hpp>
#include <string>

#include "storage/db.h"

namespace ps = parley::storage;
using parley::keys::KeyBuilder;

namespace {

std::string g_root;

struct Opened {
  std::unique_ptr<ps::Db> db;
  ps::Ns ns;
};

std::mutex g_mu;
std::map<std::string, Opened> g_dbs;  // closed in main() before the cleanup

// One database per configuration, opened on first use, closed at exit.
Opened& database(const std::string& name, ps::Durability durability, size_t max_group) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_dbs.find(name);
  if (it != g_dbs.end()) return it->second;
  ps::Options o;
  o.path = g_root + "/" + name;
  o.durability = durability;
  o.max_group_batches = max_group;
  Opened opened;
  ps::Status st = ps::Db::open(o, &opened.db);
  if (!st.is_ok() || !opened.db->open_namespace("bench", &opened.ns).is_ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", o.path.c_str(), st.to_string().c_str());
    std::exit(1);
  }
  return g_dbs.emplace(name, std::move(opened)).first->second;
}

const std::string kValue(100, 'm');  // a short chat message

void write_loop(benchmark::State& state, Opened& d) {
  // Fsyncs and batches counted by thread 0 around its loop: the threads run
  // the same loop at the same time, so the ratio is that of the whole run.
  ps::Stats before;
  if (state.thread_index() == 0) before = d.db->stats();
  uint64_t i = 0;
  for (auto _ : state) {
    ps::Batch b;
    b.put(d.ns, KeyBuilder().u32(static_cast<uint32_t>(state.thread_index())).u64(i++).done(),
          kValue);
    ps::Status st = d.db->write_sync(std::move(b));
    if (!st.is_ok()) state.SkipWithError(st.to_string().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    ps::Stats after = d.db->stats();
    double writes = static_cast<double>(after.batches_committed - before.batches_committed);
    double syncs = static_cast<double>(after.wal_syncs - before.wal_syncs);
    state.counters["fsyncs_per_write"] = writes > 0 ? syncs / writes : 0;
  }
}

// The server's shape: one thread (the event loop) keeps `depth` writes in
// flight without blocking, each completion frees a slot — no thread per
// writer.
void pipelined_loop(benchmark::State& state, Opened& d) {
  const int64_t depth = state.range(0);
  std::mutex mu;
  std::condition_variable cv;
  int64_t in_flight = 0;
  bool failed = false;
  ps::Stats before = d.db->stats();
  uint64_t i = 0;
  for (auto _ : state) {
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return in_flight < depth; });
      ++in_flight;
    }
    ps::Batch b;
    b.put(d.ns, KeyBuilder().u32(1000).u64(i++).done(), kValue);
    d.db->write(std::move(b), [&](const ps::Status& st) {
      std::lock_guard<std::mutex> lock(mu);
      --in_flight;
      failed |= !st.is_ok();
      cv.notify_one();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return in_flight == 0; });
  }
  if (failed) state.SkipWithError("a write failed");
  state.SetItemsProcessed(state.iterations());
  ps::Stats after = d.db->stats();
  double writes = static_cast<double>(after.batches_committed - before.batches_committed);
  state.counters["fsyncs_per_write"] =
      writes > 0 ? static_cast<double>(after.wal_syncs - before.wal_syncs) / writes : 0;
}

void BM_Pipelined_GroupCommit(benchmark::State& state) {
  pipelined_loop(state, database("pipe-group", ps::Durability::kSync, 0));
}
void BM_Pipelined_OneFsyncEach(benchmark::State& state) {
  pipelined_loop(state, database("pipe-single", ps::Durability::kSync, 1));
}

void BM_SyncWrite_GroupCommit(benchmark::State& state) {
  write_loop(state, database("sync-group", ps::Durability::kSync, 0));
}
void BM_SyncWrite_OneFsyncEach(benchmark::State& state) {
  write_loop(state, database("sync-single", ps::Durability::kSync, 1));
}
void BM_AsyncWrite(benchmark::State& state) {
  write_loop(state, database("async", ps::Durability::kAsync, 0));
}

// A room of 100k messages (u64 sequence keys) for the read benchmarks.
Opened& room() {
  static std::once_flag once;
  Opened& d = database("reads", ps::Durability::kAsync, 0);
  std::call_once(once, [&] {
    for (uint64_t seq = 0; seq < 100000; seq += 1000) {
      ps::Batch b;
      for (uint64_t s = seq; s < seq + 1000; ++s) b.put(d.ns, KeyBuilder().str("room-1").u64(s).done(), kValue);
      (void)d.db->write_sync(std::move(b));
    }
  });
  return d;
}

void BM_Get(benchmark::State& state) {
  Opened& d = room();
  uint64_t seq = 0;
  std::string value;
  for (auto _ : state) {
    seq = (seq + 7919) % 100000;
    ps::Status st = d.db->get(d.ns, KeyBuilder().str("room-1").u64(seq).done(), &value);
    if (!st.is_ok()) state.SkipWithError(st.to_string().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}

// The newest 50 messages of the room: a reverse prefix scan with a limit.
void BM_ScanRecent50(benchmark::State& state) {
  Opened& d = room();
  std::string prefix = KeyBuilder().str("room-1").done();
  ps::ScanResult r;
  for (auto _ : state) {
    ps::Status st = d.db->scan_prefix(d.ns, prefix, /*reverse=*/true, 50, &r);
    if (!st.is_ok() || r.items.size() != 50) state.SkipWithError("scan failed");
  }
  state.SetItemsProcessed(state.iterations() * 50);
}

// A forward page of 1000 from the middle of the room.
void BM_ScanRange1000(benchmark::State& state) {
  Opened& d = room();
  ps::ScanRange range;
  range.start = KeyBuilder().str("room-1").u64(50000).done();
  range.limit = 1000;
  ps::ScanResult r;
  for (auto _ : state) {
    ps::Status st = d.db->scan(d.ns, range, &r);
    if (!st.is_ok() || r.items.size() != 1000) state.SkipWithError("scan failed");
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}

}  // namespace

BENCHMARK(BM_SyncWrite_GroupCommit)->Threads(1)->Threads(16)->Threads(256)->UseRealTime();
BENCHMARK(BM_SyncWrite_OneFsyncEach)->Threads(1)->Threads(16)->Threads(256)->UseRealTime();
BENCHMARK(BM_Pipelined_GroupCommit)->Arg(1)->Arg(16)->Arg(256)->UseRealTime();
BENCHMARK(BM_Pipelined_OneFsyncEach)->Arg(1)->Arg(16)->Arg(256)->UseRealTime();
BENCHMARK(BM_AsyncWrite)->Threads(1)->Threads(16)->UseRealTime();
BENCHMARK(BM_Get);
BENCHMARK(BM_ScanRecent50);
BENCHMARK(BM_ScanRange1000);

int main(int argc, char** argv) {
  const char* dir = std::getenv("PARLEY_BENCH_DIR");
  std::filesystem::path base = dir ? std::filesystem::path(dir) : std::filesystem::temp_directory_path();
  std::string tmpl = (base / "parley-bench-storage-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  g_root = tmpl;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_dbs.clear();
  std::error_code ec;
  std::filesystem::remove_all(g_root, ec);
  return 0;
}
