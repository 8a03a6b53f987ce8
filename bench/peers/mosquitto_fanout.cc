// The fanout shape against Eclipse Mosquitto 2.0 (issue 10 peers): N
// subscriber clients on one topic (QoS 0), one publisher keeping `window`
// QoS 1 PUBLISHes in flight (PUBACK frees a slot — the broker's
// acknowledgement, like Parley's send Response), `size`-byte payloads
// stamped with the send time. Same JSON as parley-loadgen. libmosquitto's
// threaded API: one network thread per client.
//
//   parley-peer-mosquitto --server 127.0.0.1:1883 [--members 100] [--size 64]
//       [--duration 5] [--window 128] [--server-pid PID] [--json]
#include <mosquitto.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "histogram.h"
#include "proc_stats.h"

namespace {

using parley::loadgen::Histogram;

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

std::atomic<uint64_t> g_t0{UINT64_MAX};
std::atomic<bool> g_stopping{false};
std::atomic<uint64_t> g_delivered{0}, g_errors{0};
std::atomic<int> g_subscribed{0};

struct Sub {
  mosquitto* m = nullptr;
  Histogram lat;  // touched only by this client's network thread
};

struct Pub {
  mosquitto* m = nullptr;
  std::mutex mu;
  std::condition_variable cv;
  int inflight = 0;
  uint64_t sent = 0;
};
Pub g_pub;

void on_subscribe(mosquitto*, void*, int, int, const int*) { ++g_subscribed; }

void on_message(mosquitto*, void* ud, const mosquitto_message* msg) {
  uint64_t t0 = g_t0.load(std::memory_order_relaxed);
  if (g_stopping.load(std::memory_order_relaxed) || msg->payloadlen < 1) return;
  std::string_view p(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen));
  uint64_t stamp = 0;
  for (char c : p) {
    if (c < '0' || c > '9') break;
    stamp = stamp * 10 + static_cast<uint64_t>(c - '0');
  }
  if (stamp < t0) return;
  static_cast<Sub*>(ud)->lat.record(now_ns() - stamp);
  g_delivered.fetch_add(1, std::memory_order_relaxed);
}

void on_publish(mosquitto*, void*, int) {
  std::lock_guard<std::mutex> l(g_pub.mu);
  --g_pub.inflight;
  if (now_ns() >= g_t0.load()) ++g_pub.sent;
  g_pub.cv.notify_one();
}

mosquitto* client(const std::string& host, int port, void* ud) {
  mosquitto* m = mosquitto_new(nullptr, true, ud);
  // Without TCP_NODELAY small packets wait for Nagle + delayed ACKs (tens of
  // ms): the driver would measure that, not the broker.
  if (m) mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
  if (!m || mosquitto_connect(m, host.c_str(), port, 60) != MOSQ_ERR_SUCCESS) {
    std::fprintf(stderr, "mosquitto connect to %s:%d failed\n", host.c_str(), port);
    std::exit(1);
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 1883, members = 100, size = 64, window = 128;
  double duration = 5;
  pid_t server_pid = 0;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--json") { json = true; continue; }
    if (i + 1 >= argc) { std::fprintf(stderr, "missing value for %s\n", k.c_str()); return 2; }
    std::string v = argv[++i];
    if (k == "--server") {
      auto colon = v.rfind(':');
      host = v.substr(0, colon);
      port = std::atoi(v.c_str() + colon + 1);
    } else if (k == "--members") members = std::atoi(v.c_str());
    else if (k == "--size") size = std::atoi(v.c_str());
    else if (k == "--duration") duration = std::atof(v.c_str());
    else if (k == "--window") window = std::atoi(v.c_str());
    else if (k == "--server-pid") server_pid = std::atoi(v.c_str());
    else { std::fprintf(stderr, "unknown option %s\n", k.c_str()); return 2; }
  }
  size = std::max(size, 24);
  mosquitto_lib_init();
  std::vector<std::unique_ptr<Sub>> subs;
  for (int i = 0; i < members; ++i) {
    auto s = std::make_unique<Sub>();
    s->m = client(host, port, s.get());
    mosquitto_subscribe_callback_set(s->m, on_subscribe);
    mosquitto_message_callback_set(s->m, on_message);
    mosquitto_subscribe(s->m, nullptr, "bench", 0);
    mosquitto_loop_start(s->m);
    subs.push_back(std::move(s));
  }
  for (int i = 0; i < 1000 && g_subscribed.load() < members; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (g_subscribed.load() < members) {
    std::fprintf(stderr, "only %d of %d subscribed\n", g_subscribed.load(), members);
    return 1;
  }
  g_pub.m = client(host, port, nullptr);
  mosquitto_max_inflight_messages_set(g_pub.m, static_cast<unsigned>(window));
  mosquitto_publish_callback_set(g_pub.m, on_publish);
  mosquitto_loop_start(g_pub.m);

  double cpu0 = server_pid ? parley::loadgen::cpu_seconds(server_pid) : -1;
  uint64_t t0 = now_ns();
  g_t0 = t0;
  uint64_t end = t0 + static_cast<uint64_t>(duration * 1e9), next_progress = t0 + 1000000000;
  uint64_t last_delivered = 0;
  while (now_ns() < end) {
    {
      std::unique_lock<std::mutex> l(g_pub.mu);
      g_pub.cv.wait_for(l, std::chrono::milliseconds(10), [&] { return g_pub.inflight < window; });
      if (g_pub.inflight >= window) continue;
      ++g_pub.inflight;
    }
    std::string text = std::to_string(now_ns()) + " ";
    text.resize(static_cast<size_t>(size), 'x');
    if (mosquitto_publish(g_pub.m, nullptr, "bench", static_cast<int>(text.size()), text.data(), 1,
                          false) != MOSQ_ERR_SUCCESS)
      ++g_errors;
    if (now_ns() >= next_progress) {
      next_progress += 1000000000;
      uint64_t d = g_delivered.load();
      std::fprintf(stderr, "delivered/s %llu\n", static_cast<unsigned long long>(d - last_delivered));
      last_delivered = d;
    }
  }
  double secs = static_cast<double>(now_ns() - t0) / 1e9;
  uint64_t delivered = g_delivered.load();
  double cpu_pct = -1;
  uint64_t rss = 0;
  if (server_pid) {
    double cpu1 = parley::loadgen::cpu_seconds(server_pid);
    if (cpu0 >= 0 && cpu1 >= 0) cpu_pct = (cpu1 - cpu0) / secs * 100;
    rss = parley::loadgen::rss_bytes(server_pid);
  }
  g_stopping = true;
  for (auto& s : subs) mosquitto_loop_stop(s->m, true);
  mosquitto_loop_stop(g_pub.m, true);
  Histogram lat;
  for (auto& s : subs) lat.merge(s->lat);
  uint64_t sent;
  {
    std::lock_guard<std::mutex> l(g_pub.mu);
    sent = g_pub.sent;
  }
  auto us = [&](double q) { return static_cast<double>(lat.quantile(q)) / 1e3; };
  std::fprintf(stderr, "mosquitto fanout: %.1f s, delivered %.0f/s, p99 %.0f us\n", secs,
               delivered / secs, us(0.99));
  if (json) {
    std::printf(
        "{\"scenario\": \"fanout\", \"peer\": \"mosquitto\", \"tls\": false, \"members\": %d, "
        "\"size\": %d, \"window\": %d, \"duration_s\": %.3f, \"sent\": %llu, \"delivered\": %llu, "
        "\"sent_per_sec\": %.1f, \"delivered_per_sec\": %.1f, \"latency_kind\": "
        "\"send_to_delivery\", \"latency_us\": {\"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, "
        "\"p999\": %.1f, \"max\": %.1f}, \"errors\": %llu",
        members, size, window, secs, static_cast<unsigned long long>(sent),
        static_cast<unsigned long long>(delivered), sent / secs, delivered / secs, us(0.5),
        us(0.9), us(0.99), us(0.999), static_cast<double>(lat.max()) / 1e3,
        static_cast<unsigned long long>(g_errors.load()));
    if (server_pid) {
      std::printf(", \"cpu_pct\": %.1f, \"rss_bytes\": %llu", cpu_pct,
                  static_cast<unsigned long long>(rss));
      if (cpu_pct > 0)
        std::printf(", \"delivered_per_server_core_sec\": %.1f", delivered / secs / (cpu_pct / 100));
    }
    std::printf("}\n");
  }
  std::fflush(stdout);
  _exit(g_errors.load() == 0 && delivered > 0 ? 0 : 1);
}
