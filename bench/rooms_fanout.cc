// Rooms fanout benchmark: one group room, N members (default 100), one
// pipelined sender, 64-byte texts, through a real parleyd (persistence +
// auth + rooms) over TLS on loopback. Reports deliveries/s (rooms.message
// events received by all members' connections) and send → delivery latency
// percentiles, measured by the receivers from a timestamp in each text.
//
//   build/bin/parley_bench_rooms_fanout [--members 100] [--messages 20000]
//       [--size 64] [--window 256] [--durability sync|async]
//
// Each member is one blocking TLS client on its own thread (they sleep in
// poll(), so they cost the server's cores little). Numbers are end to end,
// including the client side on the same 2-core machine.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "rooms_test_client.h"

using namespace parley::test;
using namespace parley::test::rooms;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  int members = 100;
  int messages = 20000;
  int size = 64;
  int window = 256;
  std::string durability = "sync";
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--members") o.members = std::atoi(v.c_str());
    else if (k == "--messages") o.messages = std::atoi(v.c_str());
    else if (k == "--size") o.size = std::atoi(v.c_str());
    else if (k == "--window") o.window = std::atoi(v.c_str());
    else if (k == "--durability") o.durability = v;
    else std::fprintf(stderr, "unknown option %s\n", k.c_str());
  }
  o.window = std::clamp(o.window, 1, 250);  // below max_inflight_requests
  o.size = std::max(o.size, 24);
  return o;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// A text of exactly `size` bytes starting with the send time.
std::string stamped_text(int size) {
  std::string t = std::to_string(now_ns()) + " ";
  t.resize(static_cast<size_t>(size), 'x');
  return t;
}

double pct(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * (v.size() - 1) + 0.5));
  return v[i] / 1000.0;  // microseconds
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  ServerOptions so = server_options("max_members: " + std::to_string(std::max(1000, o.members + 1)));
  so.plugins_yaml = "persistence: {config: {durability: " + o.durability + "}}\n" +
                    so.plugins_yaml.substr(so.plugins_yaml.find('\n') + 1);
  std::string error;
  auto server = ServerProcess::start(so, &error);
  if (!server) {
    std::fprintf(stderr, "cannot start parleyd: %s\n", error.c_str());
    return 1;
  }
  Device sender = new_user(*server, "sender");
  std::vector<Device> members;
  std::vector<std::string> ids;
  for (int i = 0; i < o.members; ++i) {
    members.push_back(new_user(*server, "m" + std::to_string(i)));
    ids.push_back(members.back().user.id);
  }
  // create takes at most max_members ids; the sender is the Owner.
  Incoming r = sender.client->call("rooms.create", create("fanout", ids), 30000);
  if (!r.ok()) {
    std::fprintf(stderr, "rooms.create failed: %s\n", r.error.c_str());
    return 1;
  }
  std::string room = as_room(r)->room_id()->str();
  for (auto& m : members) m.client->drain_events(20);

  std::atomic<int64_t> delivered{0};
  std::vector<std::vector<int64_t>> lat(o.members);
  std::vector<std::thread> threads;
  for (int i = 0; i < o.members; ++i) {
    threads.emplace_back([&, i] {
      Client& c = *members[i].client;
      lat[i].reserve(o.messages);
      for (int got = 0; got < o.messages;) {
        auto ev = c.read(15000);
        if (!ev) break;
        if (ev->method != "rooms.message") continue;
        int64_t t = now_ns();
        if (auto* m = as_message(*ev)) lat[i].push_back(t - std::atoll(m->text()->c_str()));
        ++got;
        delivered.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }

  auto start = Clock::now();
  int sent = 0, answered = 0, errors = 0;
  while (answered < o.messages) {
    while (sent < o.messages && sent - answered < o.window) {
      sender.client->send("rooms.send", send(room, "b" + std::to_string(sent), stamped_text(o.size)));
      ++sent;
    }
    auto in = sender.client->read(15000);
    if (!in) {
      std::fprintf(stderr, "sender: no response (%d answered)\n", answered);
      break;
    }
    if (in->kind != parley::Kind::Response) continue;
    if (!in->ok()) ++errors;
    ++answered;
  }
  auto acked = Clock::now();
  for (auto& t : threads) t.join();
  auto end = Clock::now();

  std::vector<int64_t> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  double secs = std::chrono::duration<double>(end - start).count();
  double send_secs = std::chrono::duration<double>(acked - start).count();
  std::printf(
      "{\"members\": %d, \"messages\": %d, \"size\": %d, \"durability\": \"%s\", "
      "\"acked_per_sec\": %.0f, \"delivered\": %lld, \"delivered_per_sec\": %.0f, "
      "\"errors\": %d, \"latency_us\": {\"p50\": %.0f, \"p90\": %.0f, \"p99\": %.0f, "
      "\"p999\": %.0f, \"max\": %.0f}}\n",
      o.members, o.messages, o.size, o.durability.c_str(), answered / send_secs,
      static_cast<long long>(delivered.load()), delivered.load() / secs, errors,
      pct(all, 50), pct(all, 90), pct(all, 99), pct(all, 99.9), pct(all, 100));
  return delivered.load() == static_cast<int64_t>(o.messages) * o.members && errors == 0 ? 0 : 1;
}
