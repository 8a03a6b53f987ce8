// A damaged write-ahead-log tail after a crash (issue 11, item 6): the
// storage library (parley_storage, as the persistence plugin configures it)
// writes records with durability sync, the process dies with SIGKILL, and
// the tail of the newest WAL file is then truncated, corrupted or followed
// by garbage. Reopening must succeed and return a consistent prefix: every
// record it returns is intact, nothing after a lost record survives, data
// already in table files is untouched, and the database takes new writes
// that survive a further reopen (the damaged WAL is not replayed again).
//
// Why this holds: RocksDB's wal_recovery_mode is kPointInTimeRecovery (the
// default, which storage/db.cc relies on; RecoveryModeIsPointInTime pins
// it): replay stops at the first record that is torn or fails its checksum.
// kTolerateCorruptedTailRecords would refuse to open on a corrupted (not
// merely torn) record, kAbsoluteConsistency on any damage, and
// kSkipAnyCorruptedRecords could return records from after a hole.
//
// Every RocksDB use happens in a forked child, so that the test process
// stays single-threaded and each fork is safe.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "storage/db.h"
#include "temp_dir.h"

namespace ps = parley::storage;
namespace fs = std::filesystem;
using ps::testing::TempDir;

namespace {

constexpr int kBaseRecords = 100;  // written and closed cleanly first
constexpr int kRecords = 400;      // then these, and the SIGKILL

std::string key_of(const std::string& tag, int i) {
  char b[32];
  std::snprintf(b, sizeof b, "%s%06d", tag.c_str(), i);
  return b;
}
// 60..309 bytes, so the WAL spans several 32 KiB blocks.
std::string value_of(const std::string& key) {
  size_t n = 60 + std::hash<std::string>{}(key) % 250;
  std::string v = "value of " + key + ":";
  while (v.size() < n) v += static_cast<char>('a' + v.size() % 26);
  return v;
}

// ---------------------------------------------------------------- children

struct ChildResult {
  int code = -1;    // exit code, or 128 + signal
  std::string out;  // what the child emitted
};

// Runs body in a forked child; emit() sends text to the parent at once (so
// that it arrives even if the body then kills itself).
ChildResult run_child(const std::function<int(const std::function<void(const std::string&)>&)>& body) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    auto emit = [fd = fds[1]](const std::string& s) {
      if (write(fd, s.data(), s.size()) < 0) _exit(98);
    };
    _exit(body(emit));
  }
  close(fds[1]);
  ChildResult r;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::unique_ptr<ps::Db> open_db(const std::string& path, std::string* error) {
  ps::Options o;
  o.path = path;
  o.durability = ps::Durability::kSync;
  o.log = [](ps::LogLevel, const std::string&) {};
  std::unique_ptr<ps::Db> db;
  ps::Status st = ps::Db::open(o, &db);
  if (!st.is_ok()) {
    *error = st.to_string();
    return nullptr;
  }
  return db;
}

// Writes `count` records "<tag>NNNNNN" one synced batch each.
int write_records(ps::Db& db, const std::string& ns_name, const std::string& tag, int count) {
  ps::Ns ns;
  if (!db.open_namespace(ns_name, &ns).is_ok()) return 3;
  for (int i = 0; i < count; ++i) {
    ps::Batch b;
    std::string k = key_of(tag, i);
    b.put(ns, k, value_of(k));
    if (!db.write_sync(std::move(b)).is_ok()) return 4;
  }
  return 0;
}

// A database with kBaseRecords in table files (closed cleanly, then flushed
// by the next open's recovery) and kRecords acknowledged in the WAL of a
// process that was then SIGKILLed. The WAL then ends exactly with the last
// record.
void make_crashed_db(const std::string& path) {
  ChildResult base = run_child([&](const auto&) {
    std::string error;
    auto db = open_db(path, &error);
    if (!db) return 2;
    int rc = write_records(*db, "base", "b", kBaseRecords);
    db->close();
    return rc;
  });
  ASSERT_EQ(base.code, 0) << base.out;
  ChildResult crash = run_child([&](const auto& emit) {
    std::string error;
    auto db = open_db(path, &error);
    if (!db) return 2;
    int rc = write_records(*db, "wal", "k", kRecords);
    if (rc != 0) return rc;
    emit("acked");
    raise(SIGKILL);
    return 99;
  });
  ASSERT_EQ(crash.out, "acked");
  ASSERT_EQ(crash.code, 128 + SIGKILL);
}

// The newest WAL file (NNNNNN.log) of a database directory.
std::string newest_wal(const std::string& dir) {
  static const std::regex wal_name(R"(\d+\.log)");
  std::string newest;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (std::regex_match(name, wal_name) && name > fs::path(newest).filename().string())
      newest = e.path().string();
  }
  return newest;
}

// Per tag: how many records form the prefix tag000000 .. tag(m-1); the
// child fails when the records of a tag are not exactly such a prefix with
// intact values.
struct Recovered {
  int code = -1;
  std::string detail;
  std::map<std::string, int> prefix;  // tag -> m
};

// Opens the (damaged) database, checks every tag's records and the base
// records, then writes one more record, reopens and checks that nothing
// changed but the new record. Emits "tag=m ..." lines.
Recovered reopen_and_check(const std::string& path, const std::vector<std::string>& tags) {
  ChildResult r = run_child([&](const auto& emit) {
    auto check = [&](ps::Db& db, std::map<std::string, int>* counts) -> int {
      ps::Ns base, wal;
      if (!db.open_namespace("base", &base).is_ok() || !db.open_namespace("wal", &wal).is_ok())
        return 3;
      for (int i = 0; i < kBaseRecords; ++i) {
        std::string v, k = key_of("b", i);
        if (!db.get(base, k, &v).is_ok() || v != value_of(k)) {
          emit("base record " + k + " lost or changed\n");
          return 4;
        }
      }
      for (const std::string& tag : tags) {
        ps::ScanResult all;
        if (!db.scan_prefix(wal, tag, false, 0, &all).is_ok()) return 5;
        for (size_t i = 0; i < all.items.size(); ++i) {
          const auto& kv = all.items[i];
          if (kv.key != key_of(tag, static_cast<int>(i))) {
            emit("not a prefix: record " + std::to_string(i) + " of " + tag + " is " + kv.key + "\n");
            return 6;
          }
          if (kv.value != value_of(kv.key)) {
            emit("record " + kv.key + " is not intact\n");
            return 7;
          }
        }
        (*counts)[tag] = static_cast<int>(all.items.size());
      }
      return 0;
    };
    std::string error;
    auto db = open_db(path, &error);
    if (!db) {
      emit("reopen failed: " + error + "\n");
      return 2;
    }
    std::map<std::string, int> first;
    if (int rc = check(*db, &first)) return rc;
    // Writable, and the damage stays behind: a new record and a reopen.
    ps::Ns wal;
    ps::Batch b;
    if (!db->open_namespace("wal", &wal).is_ok()) return 3;
    b.put(wal, "zz-after-recovery", "x");
    if (!db->write_sync(std::move(b)).is_ok()) return 8;
    db->close();
    db = open_db(path, &error);
    if (!db) {
      emit("second reopen failed: " + error + "\n");
      return 9;
    }
    std::map<std::string, int> second;
    if (int rc = check(*db, &second)) return rc;
    std::string v;
    ps::Ns wal_again;  // handles die with the Db that gave them
    if (!db->open_namespace("wal", &wal_again).is_ok()) return 3;
    if (second != first || !db->get(wal_again, "zz-after-recovery", &v).is_ok()) {
      emit("the second reopen differs from the first\n");
      return 10;
    }
    for (const auto& [tag, m] : first) emit(tag + "=" + std::to_string(m) + "\n");
    return 0;
  });
  Recovered out;
  out.code = r.code;
  out.detail = r.out;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) out.prefix[line.substr(0, eq)] = std::atoi(line.c_str() + eq + 1);
  }
  return out;
}

// A fresh copy of a crashed database, so that each damage starts from the
// same WAL.
std::string copy_of(const std::string& pristine, const std::string& where) {
  fs::copy(pristine, where, fs::copy_options::recursive);
  return where;
}

void truncate_to(const std::string& file, uintmax_t size) { fs::resize_file(file, size); }

void overwrite(const std::string& file, uintmax_t offset, const std::string& bytes) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void append(const std::string& file, const std::string& bytes) {
  std::ofstream f(file, std::ios::app | std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class WalTail : public ::testing::Test {
 protected:
  void SetUp() override {
    pristine_ = tmp_.sub("pristine");
    make_crashed_db(pristine_);
    ASSERT_FALSE(HasFatalFailure());
    std::string wal = newest_wal(pristine_);
    ASSERT_FALSE(wal.empty()) << "no WAL file in " << pristine_;
    wal_name_ = fs::path(wal).filename().string();
    wal_size_ = fs::file_size(wal);
    // kRecords records of 60+ bytes: several 32 KiB blocks.
    ASSERT_GT(wal_size_, 2u * 32768u);
  }

  // A copy with its WAL damaged by `damage`; the recovered prefix of "k".
  Recovered damaged(const std::string& name, const std::function<void(const std::string&)>& damage) {
    std::string dir = copy_of(pristine_, tmp_.sub(name));
    damage(dir + "/" + wal_name_);
    return reopen_and_check(dir, {"k"});
  }

  TempDir tmp_;
  std::string pristine_, wal_name_;
  uintmax_t wal_size_ = 0;
};

#define EXPECT_RECOVERED(r) \
  EXPECT_EQ((r).code, 0) << (r).detail; \
  ASSERT_EQ((r).prefix.count("k"), 1u) << (r).detail

TEST_F(WalTail, RecoveryModeIsPointInTime) {
  // RocksDB records the options it opened with in OPTIONS-NNNNNN.
  std::string options_text;
  for (const auto& e : fs::directory_iterator(pristine_))
    if (e.path().filename().string().rfind("OPTIONS-", 0) == 0) {
      std::ifstream f(e.path());
      options_text.assign(std::istreambuf_iterator<char>(f), {});
    }
  ASSERT_FALSE(options_text.empty());
  EXPECT_NE(options_text.find("wal_recovery_mode=kPointInTimeRecovery"), std::string::npos)
      << "storage/db.cc must open RocksDB with WALRecoveryMode::kPointInTimeRecovery: a damaged "
         "WAL tail then reopens to a consistent prefix (see this file's header)";
}

TEST_F(WalTail, AnUndamagedWalRecoversEveryAcknowledgedRecord) {
  Recovered r = damaged("intact", [](const std::string&) {});
  EXPECT_RECOVERED(r);
  EXPECT_EQ(r.prefix["k"], kRecords);
}

TEST_F(WalTail, ATruncatedTailRecoversAConsistentPrefix) {
  // Cuts: inside the last record, inside a record header, at and around
  // block boundaries, in the middle, and the whole WAL.
  std::vector<uintmax_t> keep = {wal_size_ - 1, wal_size_ - 3,  wal_size_ - 7,
                                 wal_size_ - 200, wal_size_ - 5000, 2 * 32768 + 3,
                                 32768, 32768 - 1, wal_size_ / 2, 100, 7, 0};
  std::sort(keep.begin(), keep.end());
  int previous = 0;
  for (uintmax_t bytes : keep) {
    SCOPED_TRACE("WAL cut to " + std::to_string(bytes) + " of " + std::to_string(wal_size_) +
                 " bytes");
    Recovered r = damaged("cut-" + std::to_string(bytes),
                          [&](const std::string& wal) { truncate_to(wal, bytes); });
    EXPECT_RECOVERED(r);
    int m = r.prefix["k"];
    EXPECT_LT(m, kRecords) << "a cut WAL cannot hold every record";
    EXPECT_GE(m, previous) << "keeping more of the WAL recovered fewer records";
    previous = m;
    if (bytes == wal_size_ - 1) {
      EXPECT_EQ(m, kRecords - 1) << "only the torn last record is lost";
    }
    if (bytes == 0) {
      EXPECT_EQ(m, 0);
    }
    std::printf("[          ] WAL cut to %ju of %ju bytes: %d of %d records recovered\n", bytes,
                wal_size_, m, kRecords);
  }
}

TEST_F(WalTail, ACorruptedTailRecoversAConsistentPrefix) {
  struct Damage {
    std::string name;
    uintmax_t offset;
    std::string bytes;
    int expect = -1;  // exact records expected; -1: any prefix shorter than all
  };
  std::mt19937 rng(std::random_device{}());
  std::vector<Damage> damages = {
      {"last-byte-flipped", wal_size_ - 1, "\xA5", kRecords - 1},
      {"random-flip-in-last-8k", wal_size_ - 1 - rng() % 8192, "\x5A", -1},
      {"zeros-over-last-4k", wal_size_ - 4096, std::string(4096, '\0'), -1},
      {"garbage-mid-wal", wal_size_ / 2, "\xDE\xAD\xBE\xEF\x01\x02\x03\x04", -1},
  };
  for (const Damage& d : damages) {
    SCOPED_TRACE(d.name + " at offset " + std::to_string(d.offset));
    Recovered r = damaged(d.name, [&](const std::string& wal) {
      std::string bytes = d.bytes;
      if (bytes.size() == 1) {  // flip: xor with the existing byte
        std::ifstream in(wal, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(d.offset));
        bytes[0] = static_cast<char>(in.get() ^ bytes[0]);
      }
      overwrite(wal, d.offset, bytes);
    });
    EXPECT_RECOVERED(r);
    int m = r.prefix["k"];
    if (d.expect >= 0) {
      EXPECT_EQ(m, d.expect);
    } else {
      EXPECT_LE(m, kRecords);
    }
    std::printf("[          ] %s at %ju: %d of %d records recovered\n", d.name.c_str(), d.offset,
                m, kRecords);
  }
}

TEST_F(WalTail, GarbageAfterTheLastRecordLosesNothing) {
  std::mt19937 rng(std::random_device{}());
  std::string noise(1000, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  Recovered r = damaged("noise", [&](const std::string& wal) { append(wal, noise); });
  EXPECT_RECOVERED(r);
  EXPECT_EQ(r.prefix["k"], kRecords);
  // Zeros, as a preallocated but unwritten file end looks.
  Recovered z = damaged("zeros", [&](const std::string& wal) {
    append(wal, std::string(70000, '\0'));
  });
  EXPECT_RECOVERED(z);
  EXPECT_EQ(z.prefix["k"], kRecords);
}

// Four writer threads (group commit merges their batches into shared WAL
// records), SIGKILLed at a random moment, then a random part of the tail
// cut off: every writer's records are still a prefix of what it wrote.
TEST(WalTailUnderLoad, KilledConcurrentWritersThenACutTailLeavePerWriterPrefixes) {
  TempDir tmp;
  const std::string path = tmp.sub("db");
  std::mt19937 rng(std::random_device{}());
  const std::vector<std::string> tags = {"t0-", "t1-", "t2-", "t3-"};
  ChildResult base = run_child([&](const auto&) {
    std::string error;
    auto db = open_db(path, &error);
    if (!db) return 2;
    int rc = write_records(*db, "base", "b", kBaseRecords);
    db->close();
    return rc;
  });
  ASSERT_EQ(base.code, 0) << base.out;
  for (int round = 0; round < 3; ++round) {
    const int run_ms = 50 + static_cast<int>(rng() % 200);
    ChildResult w = run_child([&](const auto& emit) {
      std::string error;
      auto db = open_db(path, &error);
      if (!db) return 2;
      ps::Ns ns;
      if (!db->open_namespace("wal", &ns).is_ok()) return 3;
      for (size_t t = 0; t < tags.size(); ++t) {
        std::thread([&db, ns, tag = tags[t] + std::to_string(round) + "-"] {
          for (int i = 0;; ++i) {
            ps::Batch b;
            std::string k = key_of(tag, i);
            b.put(ns, k, value_of(k));
            if (!db->write_sync(std::move(b)).is_ok()) return;
          }
        }).detach();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(run_ms));
      emit("killed");
      raise(SIGKILL);
      return 99;
    });
    ASSERT_EQ(w.code, 128 + SIGKILL) << w.out;
    std::string wal = newest_wal(path);
    ASSERT_FALSE(wal.empty());
    uintmax_t size = fs::file_size(wal);
    uintmax_t cut = std::min<uintmax_t>(size, 1 + rng() % 4096);
    truncate_to(wal, size - cut);
    std::vector<std::string> round_tags;
    for (const auto& t : tags) round_tags.push_back(t + std::to_string(round) + "-");
    Recovered r = reopen_and_check(path, round_tags);
    EXPECT_EQ(r.code, 0) << "round " << round << ": " << r.detail;
    int total = 0;
    for (const auto& [tag, m] : r.prefix) total += m;
    std::printf("[          ] round %d: ran %d ms, cut %ju of %ju WAL bytes, %d records in 4 "
                "per-writer prefixes\n", round, run_ms, cut, size, total);
  }
}

}  // namespace
