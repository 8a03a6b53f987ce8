// Shared parts of the hostile-client suite: one parleyd with persistence,
// auth and rooms and short timeouts, healthy background clients that must
// see no errors while hostile ones misbehave, and /proc readings of the
// server process.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "parley/auth_generated.h"
#include "parley/rooms_generated.h"
#include "parley_test.h"

namespace parley::hostile {

using parley::test::Client;
using parley::test::ClientOptions;
using parley::test::Incoming;
using parley::test::ServerOptions;
using parley::test::ServerProcess;
using Clock = std::chrono::steady_clock;

inline constexpr uint16_t status_of(parley::Status s) { return static_cast<uint16_t>(s); }

// The limits the suite's server runs with (small so that the hostile cases
// stay cheap; the promises are the same at the defaults).
inline constexpr uint32_t kMaxFrameBytes = 65536;
inline constexpr uint64_t kMaxPendingBytes = 65536;
inline constexpr int kHandshakeMs = 500;

// persistence (sync durability) + auth (cheap argon2 for tests) + rooms.
ServerOptions hostile_server_options();
std::unique_ptr<ServerProcess> start_hostile_server();

std::unique_ptr<Client> connect_raw(const ServerProcess& server, ClientOptions options = {});
// Connected and said hello.
std::unique_ptr<Client> connect_hello(const ServerProcess& server, ClientOptions options = {});

struct User {
  std::string id, phone, token;
};
// auth.register on `c` with a phone unique to this process; EXPECTs Ok.
User register_user(Client& c, const std::string& display_name = "hostile");
// rooms.create with the given extra members; the room id ("" on failure).
std::string create_room(Client& c, const std::vector<std::string>& members = {});

// A payload finished with `ident`.
template <class Build>
std::vector<uint8_t> payload(const char* ident, Build build) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(build(fbb), ident);
  return parley::test::bytes_of(fbb);
}

// `count` healthy clients, authenticated, in rooms of four (each room's
// members exchange messages), driven round-robin by `threads` threads:
// every round each client sends a rooms.send (every other round also a
// sys.ping), waits for the answers, and reads the other members' messages.
// Any non-Ok answer, timeout, close, unverifiable frame or rooms.message
// out of seq order counts as an error.
class HealthyClients {
 public:
  HealthyClients(const ServerProcess& server, int count, int threads = 4);
  ~HealthyClients();
  // Stops the threads; returns the number of errors seen. Also EXPECTs that
  // every client completed requests and received its room's messages.
  int stop();
  uint64_t requests() const { return requests_.load(); }
  uint64_t events() const { return events_.load(); }
  // Errors as text (the first few).
  std::string errors_text() const;

 private:
  struct Member;
  void run(int thread_index, int first, int count);
  void note_error(const std::string& what);
  const ServerProcess& server_;
  std::atomic<bool> stop_{false};
  std::atomic<int> errors_{0};
  std::atomic<int> ready_{0};
  std::atomic<uint64_t> requests_{0}, events_{0};
  std::vector<std::thread> threads_;
  std::vector<uint64_t> sent_per_client_, events_per_client_;
  mutable std::mutex mu_;
  std::vector<std::string> error_text_;
};

// /proc/<pid>/fd entries, and VmRSS in KiB; -1 when unreadable.
int fd_count(pid_t pid);
long rss_kib(pid_t pid);

// Milliseconds since `start`.
inline long ms_since(Clock::time_point start) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

}  // namespace parley::hostile
