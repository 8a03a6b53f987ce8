// What the peer drivers (Redis, Mosquitto) share: options, plain TCP
// connections on one libuv loop with their output coalesced per loop pass,
// and the measured phase (progress line, JSON summary in parley-loadgen's
// format).
//
// Why not the peers' own client libraries: hiredis allocates a reply tree per
// message and libmosquitto reads every packet with at least three recv()
// calls (command byte, each remaining-length byte, then the body — see
// packet__read in lib/packet_mosq.c), and its threaded API costs a thread per
// client. Either makes the single driver core the limit, so the peer would
// not be measured. These drivers read up to 256 KiB per recv() and parse the
// wire format in place (RESP2, MQTT 3.1.1), a few tens of ns per message.
#pragma once

#include <netinet/in.h>
#include <sys/types.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "histogram.h"

namespace parley::peers {

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string scenario = "fanout";  // fanout | rooms
  int members = 100, rooms = 50, size = 64, window = 0;  // window 0: per scenario
  double duration = 5;
  pid_t server_pid = 0;
  bool json = false;
};
// Exits with a usage line on a bad option.
Options parse_options(int argc, char** argv, const char* usage);

uint64_t now_ns();
// The send-time stamp at the start of a payload ("<ns> xxxx..."), 0 if none.
uint64_t stamp_of(std::string_view payload);
// A `size`-byte payload stamped with now.
void stamped_payload(std::string& out, int size);

// One plaintext TCP connection. Bytes written with write() go out with one
// uv_write per connection per loop pass; received bytes are handed to
// on_data, which returns how many it consumed (the rest is kept until more
// arrive).
class RawConn {
 public:
  using OnData = std::function<size_t(RawConn&, const char* p, size_t n)>;
  RawConn(uv_loop_t* loop, const sockaddr_in& addr, std::function<void(RawConn&)> on_connected,
          OnData on_data);
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;
  void write(std::string_view bytes);
  std::string& tx() { return tx_; }  // append directly, then mark_dirty()
  void mark_dirty();
  int index = 0;  // the driver's own

 private:
  static void on_connect(uv_connect_t* req, int status);
  static void on_alloc(uv_handle_t*, size_t, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
  static void on_prepare(uv_prepare_t* p);
  void flush();

  uv_tcp_t tcp_{};
  uv_connect_t connect_req_{};
  std::function<void(RawConn&)> on_connected_;
  OnData on_data_;
  std::string tx_, pending_;
  bool dirty_ = false;
};

// The measured phase: counters, histograms, a progress line per second and
// the final JSON line (then _exit).
class Run {
 public:
  Run(uv_loop_t* loop, const Options& o, const char* peer);
  // Call when every client is set up: starts the clock and the timers.
  void begin();
  bool measuring() const { return measuring_ && !stopping_; }
  void delivered(std::string_view payload);
  void sent() { if (measuring()) ++sent_; }
  void error() { ++errors_; }
  uint64_t t0() const { return t0_; }

 private:
  void progress();
  [[noreturn]] void finish();
  uv_loop_t* loop_;
  Options o_;
  const char* peer_;
  bool measuring_ = false, stopping_ = false;
  uint64_t t0_ = 0, sent_ = 0, delivered_ = 0, errors_ = 0, last_sent_ = 0, last_delivered_ = 0;
  double cpu0_ = -1;
  int ticks_ = 0;
  parley::loadgen::Histogram lat_, lat_second_;
  uv_timer_t progress_timer_{}, end_timer_{};
};

}  // namespace parley::peers
