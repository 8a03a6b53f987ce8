// kill -9 at random moments under sustained load, many times in a row
// (issue 11, item 6). One parleyd (persistence with durability: sync, auth,
// rooms) on one data dir; each cycle four clients resend what was not
// acknowledged (same client_msg_id) and pipeline new rooms.send requests
// into three shared rooms, and the server is SIGKILLed at a random moment
// while sends are in flight. After each restart the rooms are read back:
// every acknowledged message is at its acknowledged seq, no client_msg_id is
// stored twice, seqs are gap-free, and the server serves again within 5 s.
// At the end every message ever sent is stored exactly once.
//
// PARLEY_CRASH_CYCLES (default 20) sets the number of kills
// (scripts/soak.sh runs many more); PARLEY_CRASH_SEED replays a run's
// random kill moments (the seed is printed).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>

#include "history.h"
#include "load_client.h"
#include "rooms_test_client.h"

namespace parley::test::crash {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kUsers = 4;
constexpr int kRooms = 3;
constexpr int kServingLimitMs = 5000;
// A full check (every message of every room) this often; the cycles in
// between check only the messages stored since the previous check.
constexpr int kFullCheckEvery = 25;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

long ms_since(Clock::time_point t) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

struct Totals {
  size_t new_acked = 0, retries_sent = 0, retries_acked = 0, in_flight_at_kill = 0;
  size_t unacked_stored = 0;  // unacknowledged at the kill, yet stored
  long max_serving_ms = 0;
};

class KillCycles : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = rooms::start_server();
    ASSERT_TRUE(server_);
    std::vector<rooms::Device> devices;
    for (int i = 0; i < kUsers; ++i) {
      devices.push_back(rooms::new_user(*server_, "crash" + std::to_string(i)));
      ASSERT_TRUE(devices.back().client);
      users_.push_back(devices.back().user);
    }
    std::vector<std::string> others;
    for (int i = 1; i < kUsers; ++i) others.push_back(users_[i].id);
    for (int r = 0; r < kRooms; ++r) {
      Incoming in = devices[0].client->call("rooms.create",
                                            rooms::create("crash-" + std::to_string(r), others));
      ASSERT_TRUE(in.ok()) << in.error;
      rooms_.push_back(rooms::as_room(in)->room_id()->str());
      checked_up_to_[rooms_.back()] = 0;
    }
    ledgers_.resize(kUsers);
  }

  // Restarts the server and waits until it serves a resumed session's
  // rooms.get; returns that client (nullptr on failure) and the time taken.
  std::unique_ptr<Client> restart_and_probe(long* serving_ms) {
    auto t0 = Clock::now();
    std::string error;
    if (!server_->restart(&error)) {
      ADD_FAILURE() << "restart failed: " << error;
      return nullptr;
    }
    auto c = rooms::second_device(*server_, users_[0]);
    if (!c) return nullptr;
    if (!last_seq_of(*c, rooms_[0], &error)) {
      ADD_FAILURE() << "not serving after restart: " << error;
      return nullptr;
    }
    *serving_ms = ms_since(t0);
    return c;
  }

  std::vector<const SentMessage*> sent_to(const std::string& room) const {
    std::vector<const SentMessage*> out;
    for (const auto& ledger : ledgers_)
      for (const auto& m : ledger)
        if (m.room_id == room) out.push_back(&m);
    return out;
  }

  // Reads back every room (full: all of it; else what is new since the last
  // check) and checks it against the ledgers. False on any problem.
  bool check_rooms(Client& c, bool full, bool require_all, const std::string& when,
                   Totals* totals) {
    bool good = true;
    for (const std::string& room : rooms_) {
      std::string error;
      auto last = last_seq_of(c, room, &error);
      const uint64_t first = full ? 0 : checked_up_to_[room];
      auto stored = last ? read_history(c, room, first, &error) : std::nullopt;
      if (!stored) {
        ADD_FAILURE() << when << ": " << error;
        return false;
      }
      if (*last < first) {
        ADD_FAILURE() << when << ": room " << room << " last_seq went back from " << first
                      << " to " << *last;
        return false;
      }
      CheckResult r = check_room(room, *stored, first, *last, sent_to(room), require_all);
      for (const auto& p : r.problems) ADD_FAILURE() << when << ": " << p;
      good = good && r.problems.empty();
      if (totals && !full) totals->unacked_stored += r.unacked_found;
      checked_up_to_[room] = *last;
    }
    return good;
  }

  std::unique_ptr<ServerProcess> server_;
  std::vector<rooms::User> users_;
  std::vector<std::string> rooms_;
  std::vector<std::vector<SentMessage>> ledgers_;  // per user
  std::map<std::string, uint64_t> checked_up_to_;  // room -> seq checked
};

TEST_F(KillCycles, NothingAcknowledgedIsLostOrDuplicatedAcrossRepeatedKillNine) {
  const int cycles = std::max(1, env_int("PARLEY_CRASH_CYCLES", 20));
  const unsigned seed =
      static_cast<unsigned>(env_int("PARLEY_CRASH_SEED", static_cast<int>(std::random_device{}())));
  std::printf("[          ] %d kill cycles, PARLEY_CRASH_SEED=%u\n", cycles, seed);
  std::mt19937 rng(seed);
  Totals totals;
  const auto started = Clock::now();

  int kills = 0;
  for (int cycle = 0; cycle < cycles && !HasFailure(); ++cycle) {
    const std::string when = "cycle " + std::to_string(cycle);
    if (cycle > 0) {
      long serving_ms = 0;
      auto probe = restart_and_probe(&serving_ms);
      ASSERT_TRUE(probe) << when;
      EXPECT_LT(serving_ms, kServingLimitMs) << when << ": serving again took too long";
      totals.max_serving_ms = std::max(totals.max_serving_ms, serving_ms);
      const bool full = cycle % kFullCheckEvery == 0;
      ASSERT_TRUE(check_rooms(*probe, full, false, when + " after restart", &totals));
    }

    LoadSignals signals;
    std::vector<LoadStats> stats(kUsers);
    std::vector<std::thread> threads;
    for (int u = 0; u < kUsers; ++u) {
      LoadPlan plan;
      plan.port = server_->port();
      plan.token = users_[u].token;
      plan.rooms = rooms_;
      plan.id_prefix = "u" + std::to_string(u) + "-";
      threads.emplace_back(
          [plan, &ledger = ledgers_[u], &signals, &st = stats[u]] {
            run_load(plan, ledger, signals, st);
          });
    }
    // Under load (every client acknowledged at least once), then a random
    // 0..150 ms more, then the kill.
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (signals.acked_once.load() < kUsers && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(signals.acked_once.load(), kUsers) << when << ": not every client got going";
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 151));
    server_->kill9();
    ++kills;
    for (auto& t : threads) t.join();

    for (const LoadStats& s : stats) {
      for (const auto& e : s.errors) ADD_FAILURE() << when << ": " << e;
      totals.new_acked += s.new_acked;
      totals.retries_sent += s.retries_sent;
      totals.retries_acked += s.retries_acked;
      totals.in_flight_at_kill += s.in_flight_at_close;
    }
  }

  // Last restart: every message not yet acknowledged is sent once more and
  // must now be acknowledged; then every room must hold every message ever
  // sent exactly once.
  long serving_ms = 0;
  auto probe = restart_and_probe(&serving_ms);
  ASSERT_TRUE(probe);
  EXPECT_LT(serving_ms, kServingLimitMs);
  totals.max_serving_ms = std::max(totals.max_serving_ms, serving_ms);
  ASSERT_TRUE(check_rooms(*probe, false, false, "after the last kill", &totals));
  size_t final_retries = 0;
  for (int u = 0; u < kUsers; ++u) {
    auto c = rooms::second_device(*server_, users_[u]);
    ASSERT_TRUE(c);
    for (SentMessage& m : ledgers_[u]) {
      if (m.acked) continue;
      Incoming in = c->call("rooms.send", rooms::send(m.room_id, m.client_msg_id, m.text));
      ASSERT_TRUE(in.ok()) << m.client_msg_id << ": " << in.error;
      m.acked = true;
      m.seq = rooms::as_message(in)->seq();
      m.message_id = rooms::as_message(in)->message_id()->str();
      ++final_retries;
    }
  }
  ASSERT_TRUE(check_rooms(*probe, true, true, "final", nullptr));

  size_t sent = 0;
  for (const auto& l : ledgers_) sent += l.size();
  std::printf(
      "[          ] kills survived %d, messages sent %zu, acked before a kill %zu, "
      "in flight at kills %zu (stored anyway %zu), retries sent %zu (acked %zu), final "
      "retries %zu, lost 0, duplicates 0, slowest back-to-serving %ld ms, %ld ms in all\n",
      kills, sent, totals.new_acked + totals.retries_acked, totals.in_flight_at_kill,
      totals.unacked_stored, totals.retries_sent, totals.retries_acked, final_retries,
      totals.max_serving_ms, ms_since(started));
  EXPECT_EQ(kills, cycles);
  EXPECT_GT(totals.in_flight_at_kill, 0u) << "no kill hit a send in flight";
  EXPECT_GT(totals.retries_acked, 0u) << "no retry was exercised";
}

}  // namespace
}  // namespace parley::test::crash
