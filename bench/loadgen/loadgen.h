// The scenarios of parley-loadgen on one libuv loop: setup (connect,
// register users, make rooms) with bounded concurrency, then a measured
// phase with a progress line every second and a final summary.
#pragma once

#include <netinet/in.h>
#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client.h"
#include "histogram.h"
#include "options.h"

namespace parley::loadgen {

class Loadgen {
 public:
  Loadgen(const Options& o, uv_loop_t* loop, const sockaddr_in& addr);
  // Runs the scenario to completion; returns the exit code.
  int run();

 private:
  using Done = std::function<void(bool)>;
  using Item = std::function<void(int index, Done done)>;

  Client* new_client();
  // Runs item(0..n-1), at most `concurrency` at once; then `then`.
  void batch(int n, Item item, std::function<void()> then);
  // A connected, registered user (appended to users_).
  void make_user(Done done);
  // Connect + hello + auth.resume with `token`.
  void resume_client(Client* c, const std::string& token, Done done);
  [[noreturn]] void fail(const std::string& why);

  void scenario_fanout();
  void scenario_rooms();
  void scenario_durable();
  void scenario_connect();
  void scenario_idle();

  void watch_deliveries(Client* c);
  void begin_measuring(bool senders);
  void send_one(Client& c);
  void pump(Client& c);
  void on_rate_tick();
  void on_progress();
  void connect_loop();
  void finish();

  static void on_timer(uv_timer_t* t);

  Options o_;
  uv_loop_t* loop_;
  sockaddr_in addr_;
  Net net_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<Client*> users_;    // registered, in creation order
  std::vector<Client*> senders_;  // clients that send in the measured phase
  std::string token_;             // connect / idle: the one user's token

  uint32_t window_ = 1;
  bool ack_latency_ = false;  // durable: the histogram holds send -> ack
  bool measuring_ = false, stopping_ = false;
  uint64_t t0_ns_ = 0, msg_seq_ = 0;
  double cpu0_ = -1;
  uint64_t rss_before_ = 0, rss_after_ = 0;
  int idle_target_ = 0;

  uint64_t tls_resumed_ = 0;
  uint64_t sent_ = 0, delivered_ = 0, errors_ = 0, attempts_ = 0;
  uint64_t last_sent_ = 0, last_delivered_ = 0;
  Histogram lat_, lat_second_;
  int ticks_ = 0;

  uv_timer_t progress_timer_{}, rate_timer_{}, end_timer_{};
};

uint64_t now_ns();

}  // namespace parley::loadgen
