// The fanout shape against Redis pub/sub (issue 10 peers): N subscriber
// connections on one channel, one publisher keeping `window` PUBLISHes in
// flight, `size`-byte payloads stamped with the send time. Same JSON as
// parley-loadgen (delivered = messages received by all subscribers). Runs on
// hiredis' async API on one libuv loop, like the load generator.
//
//   parley-peer-redis --server 127.0.0.1:6379 [--members 100] [--size 64]
//       [--duration 5] [--window 128] [--server-pid PID] [--json]
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <hiredis/adapters/libuv.h>
#pragma GCC diagnostic pop

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "histogram.h"
#include "proc_stats.h"

namespace {

using parley::loadgen::Histogram;

struct State {
  std::string host = "127.0.0.1";
  int port = 6379, members = 100, size = 64, window = 128;
  double duration = 5;
  pid_t server_pid = 0;
  bool json = false;

  uv_loop_t* loop = nullptr;
  redisAsyncContext* pub = nullptr;
  std::vector<redisAsyncContext*> subs;
  int subscribed = 0, inflight = 0;
  bool measuring = false, stopping = false;
  uint64_t t0 = 0, sent = 0, delivered = 0, errors = 0, last_sent = 0, last_delivered = 0;
  double cpu0 = -1;
  Histogram lat, lat_second;
  int ticks = 0;
  uv_timer_t progress{}, end{};
};
State g;

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

void publish();

void on_published(redisAsyncContext*, void* r, void*) {
  auto* reply = static_cast<redisReply*>(r);
  --g.inflight;
  if (g.stopping) return;
  if (!reply || reply->type == REDIS_REPLY_ERROR) ++g.errors;
  else ++g.sent;
  publish();
}

void publish() {
  while (!g.stopping && g.inflight < g.window) {
    std::string text = std::to_string(now_ns()) + " ";
    text.resize(static_cast<size_t>(g.size), 'x');
    ++g.inflight;
    redisAsyncCommand(g.pub, on_published, nullptr, "PUBLISH bench %b", text.data(), text.size());
  }
}

void finish() {
  double secs = static_cast<double>(now_ns() - g.t0) / 1e9;
  g.stopping = true;
  double cpu_pct = -1;
  uint64_t rss = 0;
  if (g.server_pid) {
    double cpu1 = parley::loadgen::cpu_seconds(g.server_pid);
    if (g.cpu0 >= 0 && cpu1 >= 0) cpu_pct = (cpu1 - g.cpu0) / secs * 100;
    rss = parley::loadgen::rss_bytes(g.server_pid);
  }
  auto us = [](double q) { return static_cast<double>(g.lat.quantile(q)) / 1e3; };
  std::fprintf(stderr, "redis fanout: %.1f s, sent %.0f/s, delivered %.0f/s, p99 %.0f us\n", secs,
               g.sent / secs, g.delivered / secs, us(0.99));
  if (g.json) {
    std::printf(
        "{\"scenario\": \"fanout\", \"peer\": \"redis\", \"tls\": false, \"members\": %d, "
        "\"size\": %d, \"window\": %d, \"duration_s\": %.3f, \"sent\": %llu, \"delivered\": %llu, "
        "\"sent_per_sec\": %.1f, \"delivered_per_sec\": %.1f, \"latency_kind\": "
        "\"send_to_delivery\", \"latency_us\": {\"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, "
        "\"p999\": %.1f, \"max\": %.1f}, \"errors\": %llu",
        g.members, g.size, g.window, secs, static_cast<unsigned long long>(g.sent),
        static_cast<unsigned long long>(g.delivered), g.sent / secs, g.delivered / secs, us(0.5),
        us(0.9), us(0.99), us(0.999), static_cast<double>(g.lat.max()) / 1e3,
        static_cast<unsigned long long>(g.errors));
    if (g.server_pid) {
      std::printf(", \"cpu_pct\": %.1f, \"rss_bytes\": %llu", cpu_pct,
                  static_cast<unsigned long long>(rss));
      if (cpu_pct > 0)
        std::printf(", \"delivered_per_server_core_sec\": %.1f", g.delivered / secs / (cpu_pct / 100));
    }
    std::printf("}\n");
  }
  std::fflush(stdout);
  std::fflush(stderr);
  _exit(g.errors == 0 && g.delivered > 0 ? 0 : 1);
}

void on_progress(uv_timer_t*) {
  ++g.ticks;
  std::fprintf(stderr, "[%3ds] sent/s %8llu  delivered/s %10llu  p99 %8.0f us\n", g.ticks,
               static_cast<unsigned long long>(g.sent - g.last_sent),
               static_cast<unsigned long long>(g.delivered - g.last_delivered),
               g.lat_second.quantile(0.99) / 1e3);
  g.last_sent = g.sent;
  g.last_delivered = g.delivered;
  g.lat_second.clear();
}

void on_message(redisAsyncContext*, void* r, void*) {
  auto* reply = static_cast<redisReply*>(r);
  if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
  std::string_view kind(reply->element[0]->str, reply->element[0]->len);
  if (kind == "subscribe") {
    if (++g.subscribed == g.members) {
      g.measuring = true;
      g.t0 = now_ns();
      if (g.server_pid) g.cpu0 = parley::loadgen::cpu_seconds(g.server_pid);
      uv_timer_start(&g.progress, on_progress, 1000, 1000);
      uv_timer_start(&g.end, [](uv_timer_t*) { finish(); },
                     static_cast<uint64_t>(g.duration * 1000), 0);
      publish();
    }
    return;
  }
  if (kind != "message" || !g.measuring || g.stopping) return;
  const redisReply* p = reply->element[2];
  uint64_t stamp = std::strtoull(p->str, nullptr, 10);
  if (stamp < g.t0) return;
  ++g.delivered;
  uint64_t d = now_ns() - stamp;
  g.lat.record(d);
  g.lat_second.record(d);
}

redisAsyncContext* connect_one() {
  redisAsyncContext* c = redisAsyncConnect(g.host.c_str(), g.port);
  if (!c || c->err) {
    std::fprintf(stderr, "redis connect: %s\n", c ? c->errstr : "out of memory");
    std::exit(1);
  }
  redisLibuvAttach(c, g.loop);
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc || (i < argc && std::strcmp(argv[i], "--json") == 0); ++i) {
    std::string k = argv[i];
    if (k == "--json") { g.json = true; continue; }
    std::string v = argv[++i];
    if (k == "--server") {
      auto colon = v.rfind(':');
      g.host = v.substr(0, colon);
      g.port = std::atoi(v.c_str() + colon + 1);
    } else if (k == "--members") g.members = std::atoi(v.c_str());
    else if (k == "--size") g.size = std::atoi(v.c_str());
    else if (k == "--duration") g.duration = std::atof(v.c_str());
    else if (k == "--window") g.window = std::atoi(v.c_str());
    else if (k == "--server-pid") g.server_pid = std::atoi(v.c_str());
    else { std::fprintf(stderr, "unknown option %s\n", k.c_str()); return 2; }
  }
  g.size = std::max(g.size, 24);
  g.loop = uv_default_loop();
  uv_timer_init(g.loop, &g.progress);
  uv_timer_init(g.loop, &g.end);
  g.pub = connect_one();
  for (int i = 0; i < g.members; ++i) {
    redisAsyncContext* s = connect_one();
    g.subs.push_back(s);
    redisAsyncCommand(s, on_message, nullptr, "SUBSCRIBE bench");
  }
  uv_run(g.loop, UV_RUN_DEFAULT);
  return 1;
}
