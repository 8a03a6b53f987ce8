// Crash test: a child process writes in `sync` mode from several threads and
// reports each acknowledged key over a pipe; the parent SIGKILLs it at a
// random moment, reopens the database and checks that every acknowledged
// record is there with its value. Rounds: PARLEY_CRASH_ROUNDS (default 5).
// The parent stays single-threaded: writer and checker are both children.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <thread>

#include "storage/db.h"
#include "temp_dir.h"

namespace ps = parley::storage;
using ps::testing::TempDir;

namespace {

std::string key_of(uint32_t writer, uint32_t i) {
  return "w" + std::to_string(writer) + "-" + std::to_string(i);
}
std::string value_of(uint32_t writer, uint32_t i) {
  return "value:" + key_of(writer, i) + std::string(i % 200, 'x');
}

// The child: never returns.
// Each round writes new keys (tag = round * 16 + writer), so later rounds
// also check that earlier rounds' records are still intact.
[[noreturn]] void run_writer(const std::string& path, int ack_fd, uint32_t round,
                             uint32_t writers) {
  ps::Options o;
  o.path = path;
  o.durability = ps::Durability::kSync;
  std::unique_ptr<ps::Db> db;
  ps::Ns ns;
  if (!ps::Db::open(o, &db).is_ok() || !db->open_namespace("crash", &ns).is_ok()) _exit(3);
  std::vector<std::thread> threads;
  for (uint32_t w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      const uint32_t tag = round * 16 + w;
      for (uint32_t i = 0;; ++i) {
        ps::Batch b;
        b.put(ns, key_of(tag, i), value_of(tag, i));
        b.put(ns, "last-" + std::to_string(tag), std::to_string(i));
        if (!db->write_sync(std::move(b)).is_ok()) _exit(4);
        // Acknowledged: tell the parent (8-byte writes to a pipe are atomic).
        uint32_t ack[2] = {tag, i};
        if (write(ack_fd, ack, sizeof ack) != sizeof ack) _exit(5);
      }
    });
  }
  for (auto& t : threads) t.join();
  _exit(0);
}

// The checker: never returns. Exit 0 when every acknowledged record is
// there with its value, 1 when some are missing, 2 when the reopen fails.
[[noreturn]] void check_acks(const std::string& path,
                             const std::set<std::pair<uint32_t, uint32_t>>& acked, int round,
                             uint32_t writers, size_t new_acks) {
  ps::Options o;
  o.path = path;
  std::unique_ptr<ps::Db> db;
  ps::Status st = ps::Db::open(o, &db);
  ps::Ns ns;
  if (!st.is_ok() || !db->open_namespace("crash", &ns).is_ok()) {
    std::printf("round %d: reopen failed: %s\n", round, st.to_string().c_str());
    _exit(2);
  }
  size_t missing = 0;
  for (const auto& [w, i] : acked) {
    std::string v;
    ps::Status g = db->get(ns, key_of(w, i), &v);
    if (!g.is_ok() || v != value_of(w, i)) ++missing;
  }
  std::printf("round %d: %u writers, %zu new acks, %zu acked in total, %zu missing\n", round,
              writers, new_acks, acked.size(), missing);
  std::fflush(stdout);
  db->close();
  _exit(missing == 0 ? 0 : 1);
}

}  // namespace

TEST(Crash, EveryAcknowledgedWriteSurvivesSigkill) {
  int rounds = 5;
  if (const char* r = std::getenv("PARLEY_CRASH_ROUNDS")) rounds = std::max(1, std::atoi(r));
  std::mt19937 rng(std::random_device{}());
  TempDir tmp;
  std::string path = tmp.sub("db");
  std::set<std::pair<uint32_t, uint32_t>> acked;  // across rounds: the db accumulates

  for (int round = 0; round < rounds; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const uint32_t writers = 1 + rng() % 8;
    std::fflush(nullptr);  // nothing buffered may be written twice
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      run_writer(path, fds[1], static_cast<uint32_t>(round), writers);
    }
    close(fds[1]);
    // Wait for the first acknowledgement (opening may be slow on a loaded
    // machine), then read more for a random 0..350 ms and kill mid-write.
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    std::vector<uint32_t> buf;
    auto drain = [&] {
      uint32_t ack[2];
      ssize_t n;
      while ((n = read(fds[0], ack, sizeof ack)) == sizeof ack) {
        buf.push_back(ack[0]);
        buf.push_back(ack[1]);
      }
      ASSERT_TRUE(n == 0 || (n < 0 && errno == EAGAIN)) << "partial ack read";
    };
    auto first_ack_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (buf.empty() && std::chrono::steady_clock::now() < first_ack_deadline) {
      drain();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(rng() % 350);
    while (std::chrono::steady_clock::now() < deadline) {
      drain();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "writer exited early with " << WEXITSTATUS(wstatus);
    drain();  // acks written before the kill are acknowledged too
    close(fds[0]);
    size_t new_acks = buf.size() / 2;
    for (size_t i = 0; i < buf.size(); i += 2) acked.insert({buf[i], buf[i + 1]});

    // Reopen (the killed process's lock is gone) and check every ack — in
    // another child, so that this process never starts RocksDB's threads
    // and every fork above is the fork of a single-threaded process.
    std::fflush(nullptr);
    pid_t checker = fork();
    ASSERT_GE(checker, 0);
    if (checker == 0) check_acks(path, acked, round, writers, new_acks);
    ASSERT_EQ(waitpid(checker, &wstatus, 0), checker);
    ASSERT_TRUE(WIFEXITED(wstatus));
    EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "round " << round
                                       << (WEXITSTATUS(wstatus) == 2 ? ": reopen failed"
                                                                     : ": acknowledged records missing");
    EXPECT_GT(new_acks, 0u) << "round " << round << ": the writer acknowledged nothing";
  }
}
