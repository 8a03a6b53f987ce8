// Throughput of the auth plugin through a real parleyd (persistence with
// durability async + auth): logins/s (argon2id-bound) and auth.resume/s
// (storage-read-bound), plus the raw cost of one argon2id hash in-process.
// Not a test: run it by hand,
//   build/bin/auth_bench [seconds=3] [argon2_memory_kib=19456] [argon2_iterations=2]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "auth_client.h"
#include "credentials.h"

using namespace parley::auth::testing;
using parley::test::Client;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Keeps `depth` requests in flight on each client for `secs` seconds;
// returns completed requests per second (all must succeed).
template <class MakePayload>
double run(std::vector<std::unique_ptr<Client>>& clients, const char* method,
           MakePayload make, int depth, double secs) {
  std::vector<std::vector<uint64_t>> inflight(clients.size());
  for (size_t i = 0; i < clients.size(); ++i)
    for (int d = 0; d < depth; ++d) inflight[i].push_back(clients[i]->send(method, make()));
  size_t done = 0, failed = 0;
  auto t0 = Clock::now();
  while (seconds_since(t0) < secs) {
    for (size_t i = 0; i < clients.size(); ++i) {
      auto r = clients[i]->read_response(inflight[i].front(), 30000);
      inflight[i].erase(inflight[i].begin());
      if (!r || !r->ok()) ++failed;
      ++done;
      inflight[i].push_back(clients[i]->send(method, make()));
    }
  }
  double elapsed = seconds_since(t0);
  for (size_t i = 0; i < clients.size(); ++i)
    for (uint64_t id : inflight[i]) clients[i]->read_response(id, 30000);
  if (failed) std::printf("  (%zu of %zu %s calls failed)\n", failed, done, method);
  return done / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  double secs = argc > 1 ? std::atof(argv[1]) : 3.0;
  unsigned long long mem = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 19456;
  unsigned long long t = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 2;

  parley::auth::crypto_init();
  parley::auth::Argon2Params params{mem, t};
  auto h0 = Clock::now();
  const int kHashes = 10;
  for (int i = 0; i < kHashes; ++i) (void)parley::auth::hash_password("benchmark pw", params);
  std::printf("argon2id m=%llu KiB t=%llu p=1: %.1f ms per hash (one thread, in-process)\n",
              mem, t, seconds_since(h0) * 1000 / kHashes);

  std::string error;
  auto server = start_server("argon2_memory_kib: " + std::to_string(mem) +
                                 ", argon2_iterations: " + std::to_string(t) +
                                 ", login_fail_per_phone: 0, login_fail_per_peer: 0",
                             &error);
  if (!server) {
    std::fprintf(stderr, "server: %s\n", error.c_str());
    return 1;
  }
  auto first = connect(*server);
  auto reg = first->call("auth.register",
                         register_payload("+15550102030", "benchmark pw", "Bench"));
  SessionView s = session_of(reg);
  if (!s.ok) {
    std::fprintf(stderr, "register failed: %s\n", reg.error.c_str());
    return 1;
  }
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 8; ++i) clients.push_back(connect(*server));

  double logins = run(clients, "auth.login",
                      [] { return login_payload("+15550102030", "benchmark pw"); }, 1, secs);
  std::printf("auth.login:  %8.1f /s  (8 connections, 1 in flight each, "
              "max_concurrent_hashes 2, 2-core host)\n", logins);
  double resumes = run(clients, "auth.resume", [&] { return resume_payload(s.token); }, 16, secs);
  std::printf("auth.resume: %8.1f /s  (8 connections, 16 in flight each)\n", resumes);
  return 0;
}
