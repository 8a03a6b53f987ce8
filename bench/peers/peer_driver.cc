#include "peer_driver.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "proc_stats.h"

namespace parley::peers {

namespace {
// The loop is single-threaded and every read is consumed (or its remainder
// copied to the connection) before the next: one buffer serves all.
char g_read_buf[256 * 1024];
std::vector<RawConn*> g_dirty, g_flushing;
uv_prepare_t g_prepare;
bool g_prepare_started = false;

struct WriteReq {
  uv_write_t req;
  std::string data;
};

[[noreturn]] void usage_exit(const char* usage, const std::string& why) {
  std::fprintf(stderr, "%s\nusage: %s\n", why.c_str(), usage);
  std::exit(2);
}
}  // namespace

Options parse_options(int argc, char** argv, const char* usage) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--json") {
      o.json = true;
      continue;
    }
    if (i + 1 >= argc) usage_exit(usage, "missing value for " + k);
    std::string v = argv[++i];
    if (k == "--server") {
      auto colon = v.rfind(':');
      if (colon == std::string::npos) usage_exit(usage, "--server wants HOST:PORT");
      o.host = v.substr(0, colon);
      o.port = std::atoi(v.c_str() + colon + 1);
    } else if (k == "--scenario") o.scenario = v;
    else if (k == "--members") o.members = std::atoi(v.c_str());
    else if (k == "--rooms") o.rooms = std::atoi(v.c_str());
    else if (k == "--size") o.size = std::atoi(v.c_str());
    else if (k == "--duration") o.duration = std::atof(v.c_str());
    else if (k == "--window") o.window = std::atoi(v.c_str());
    else if (k == "--server-pid") o.server_pid = static_cast<pid_t>(std::atoi(v.c_str()));
    else usage_exit(usage, "unknown option " + k);
  }
  if (o.port <= 0) usage_exit(usage, "--server is required");
  if (o.scenario != "fanout" && o.scenario != "rooms") usage_exit(usage, "--scenario fanout|rooms");
  if (o.window <= 0) o.window = o.scenario == "fanout" ? 128 : 8;  // as parley-loadgen
  o.size = std::max(o.size, 24);
  return o;
}

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

uint64_t stamp_of(std::string_view p) {
  uint64_t v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') break;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

void stamped_payload(std::string& out, int size) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%llu ", static_cast<unsigned long long>(now_ns()));
  out.assign(buf, static_cast<size_t>(n));
  out.resize(static_cast<size_t>(size), 'x');
}

// ------------------------------------------------------------- RawConn ---

RawConn::RawConn(uv_loop_t* loop, const sockaddr_in& addr,
                 std::function<void(RawConn&)> on_connected, OnData on_data)
    : on_connected_(std::move(on_connected)), on_data_(std::move(on_data)) {
  if (!g_prepare_started) {
    g_prepare_started = true;
    uv_prepare_init(loop, &g_prepare);
    uv_prepare_start(&g_prepare, on_prepare);
    uv_unref(reinterpret_cast<uv_handle_t*>(&g_prepare));
  }
  uv_tcp_init(loop, &tcp_);
  tcp_.data = this;
  uv_tcp_nodelay(&tcp_, 1);
  connect_req_.data = this;
  int rc = uv_tcp_connect(&connect_req_, &tcp_, reinterpret_cast<const sockaddr*>(&addr), on_connect);
  if (rc != 0) {
    std::fprintf(stderr, "connect: %s\n", uv_strerror(rc));
    std::exit(1);
  }
}

void RawConn::on_connect(uv_connect_t* req, int status) {
  auto* self = static_cast<RawConn*>(req->data);
  if (status != 0) {
    std::fprintf(stderr, "connect: %s\n", uv_strerror(status));
    std::exit(1);
  }
  uv_read_start(reinterpret_cast<uv_stream_t*>(&self->tcp_), on_alloc, on_read);
  self->on_connected_(*self);
}

void RawConn::on_alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  *buf = uv_buf_init(g_read_buf, sizeof g_read_buf);
}

void RawConn::on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  auto* self = static_cast<RawConn*>(s->data);
  if (n < 0) {
    std::fprintf(stderr, "connection lost: %s\n", uv_strerror(static_cast<int>(n)));
    std::exit(1);
  }
  if (n == 0) return;
  const char* p = buf->base;
  size_t len = static_cast<size_t>(n);
  if (!self->pending_.empty()) {
    self->pending_.append(p, len);
    size_t used = self->on_data_(*self, self->pending_.data(), self->pending_.size());
    self->pending_.erase(0, used);
    return;
  }
  size_t used = self->on_data_(*self, p, len);
  if (used < len) self->pending_.assign(p + used, len - used);
}

void RawConn::write(std::string_view bytes) {
  tx_.append(bytes);
  mark_dirty();
}

void RawConn::mark_dirty() {
  if (dirty_) return;
  dirty_ = true;
  g_dirty.push_back(this);
}

void RawConn::on_prepare(uv_prepare_t*) {
  g_flushing.swap(g_dirty);
  for (RawConn* c : g_flushing) {
    c->dirty_ = false;
    c->flush();
  }
  g_flushing.clear();
}

void RawConn::flush() {
  if (tx_.empty()) return;
  auto* w = new WriteReq;
  w->data.swap(tx_);
  uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), &b, 1, [](uv_write_t* r, int st) {
    delete reinterpret_cast<WriteReq*>(r);
    if (st < 0) {
      std::fprintf(stderr, "write: %s\n", uv_strerror(st));
      std::exit(1);
    }
  });
  if (rc != 0) {
    std::fprintf(stderr, "write: %s\n", uv_strerror(rc));
    std::exit(1);
  }
}

// ----------------------------------------------------------------- Run ---

Run::Run(uv_loop_t* loop, const Options& o, const char* peer) : loop_(loop), o_(o), peer_(peer) {
  for (uv_timer_t* t : {&progress_timer_, &end_timer_}) {
    uv_timer_init(loop_, t);
    t->data = this;
  }
}

void Run::begin() {
  measuring_ = true;
  t0_ = now_ns();
  if (o_.server_pid) cpu0_ = parley::loadgen::cpu_seconds(o_.server_pid);
  uv_timer_start(&progress_timer_, [](uv_timer_t* t) { static_cast<Run*>(t->data)->progress(); },
                 1000, 1000);
  uv_timer_start(&end_timer_, [](uv_timer_t* t) { static_cast<Run*>(t->data)->finish(); },
                 static_cast<uint64_t>(o_.duration * 1000), 0);
}

void Run::delivered(std::string_view payload) {
  if (!measuring()) return;
  uint64_t stamp = stamp_of(payload);
  if (stamp < t0_) return;  // sent before the measured phase
  ++delivered_;
  uint64_t d = now_ns() - stamp;
  lat_.record(d);
  lat_second_.record(d);
}

void Run::progress() {
  ++ticks_;
  std::fprintf(stderr, "[%3ds] sent/s %8llu  delivered/s %10llu  p99 %8.0f us\n", ticks_,
               static_cast<unsigned long long>(sent_ - last_sent_),
               static_cast<unsigned long long>(delivered_ - last_delivered_),
               static_cast<double>(lat_second_.quantile(0.99)) / 1e3);
  last_sent_ = sent_;
  last_delivered_ = delivered_;
  lat_second_.clear();
}

void Run::finish() {
  double secs = static_cast<double>(now_ns() - t0_) / 1e9;
  stopping_ = true;
  double cpu_pct = -1;
  uint64_t rss = 0;
  if (o_.server_pid) {
    double cpu1 = parley::loadgen::cpu_seconds(o_.server_pid);
    if (cpu0_ >= 0 && cpu1 >= 0) cpu_pct = (cpu1 - cpu0_) / secs * 100;
    rss = parley::loadgen::rss_bytes(o_.server_pid);
  }
  auto us = [&](double q) { return static_cast<double>(lat_.quantile(q)) / 1e3; };
  std::fprintf(stderr, "%s %s: %.1f s, sent %.0f/s, delivered %.0f/s, p99 %.0f us, errors %llu\n",
               peer_, o_.scenario.c_str(), secs, sent_ / secs, delivered_ / secs, us(0.99),
               static_cast<unsigned long long>(errors_));
  if (o_.json) {
    std::printf(
        "{\"scenario\": \"%s\", \"peer\": \"%s\", \"tls\": false, \"members\": %d, \"rooms\": %d, "
        "\"size\": %d, \"window\": %d, \"duration_s\": %.3f, \"sent\": %llu, \"delivered\": %llu, "
        "\"sent_per_sec\": %.1f, \"delivered_per_sec\": %.1f, \"latency_kind\": "
        "\"send_to_delivery\", \"latency_us\": {\"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, "
        "\"p999\": %.1f, \"max\": %.1f}, \"errors\": %llu",
        o_.scenario.c_str(), peer_, o_.members, o_.rooms, o_.size, o_.window, secs,
        static_cast<unsigned long long>(sent_), static_cast<unsigned long long>(delivered_),
        sent_ / secs, delivered_ / secs, us(0.5), us(0.9), us(0.99), us(0.999),
        static_cast<double>(lat_.max()) / 1e3, static_cast<unsigned long long>(errors_));
    if (o_.server_pid) {
      std::printf(", \"cpu_pct\": %.1f, \"rss_bytes\": %llu", cpu_pct,
                  static_cast<unsigned long long>(rss));
      if (cpu_pct > 0)
        std::printf(", \"delivered_per_server_core_sec\": %.1f", delivered_ / secs / (cpu_pct / 100));
    }
    std::printf("}\n");
  }
  std::fflush(stdout);
  std::fflush(stderr);
  _exit(errors_ == 0 && delivered_ > 0 ? 0 : 1);
}

}  // namespace parley::peers
