#include "loadgen.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "proc_stats.h"

namespace parley::loadgen {

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

namespace {
const char* kPassword = "loadgen password";

// Unique phone numbers across runs and processes: +1, 4 digits of the time,
// 4 of the pid, a 5-digit counter (14 digits, E.164 allows 15).
std::string next_phone() {
  static int counter = 0;
  static const long stamp = static_cast<long>(std::time(nullptr) % 10000);
  char buf[32];
  std::snprintf(buf, sizeof buf, "+1%04ld%04d%05d", stamp, static_cast<int>(getpid() % 10000),
                counter++ % 100000);
  return buf;
}

struct Batch : std::enable_shared_from_this<Batch> {
  int n = 0, next = 0, done = 0, concurrency = 1;
  std::function<void(int, std::function<void(bool)>)> item;
  std::function<void()> then;
  std::function<void(const std::string&)> fail;
  void launch() {
    while (next < n && next - done < concurrency) {
      int i = next++;
      auto self = shared_from_this();
      item(i, [self, i](bool ok) {
        if (!ok) self->fail("setup step " + std::to_string(i) + " failed");
        if (++self->done == self->n) {
          self->then();
        } else {
          self->launch();
        }
      });
    }
  }
};

std::string status_text(const parley::Envelope& e) {
  std::string s = parley::EnumNameStatus(e.status());
  if (e.error()) s += ": " + e.error()->str();
  return s;
}
}  // namespace

Loadgen::Loadgen(const Options& o, uv_loop_t* loop, const sockaddr_in& addr)
    : o_(o), loop_(loop), addr_(addr), net_(loop, o.tls, o.insecure, o.ca_file) {
  net_.resume_tls = o.tls_resume;
  for (uv_timer_t* t : {&progress_timer_, &rate_timer_, &end_timer_}) {
    uv_timer_init(loop_, t);
    t->data = this;
  }
}

Client* Loadgen::new_client() {
  clients_.push_back(std::make_unique<Client>(net_));
  Client* c = clients_.back().get();
  c->on_gone = [this](Client&, const char* why) {
    if (stopping_) return;
    if (!measuring_) fail(std::string("connection lost during setup: ") + why);
    ++errors_;
    std::fprintf(stderr, "connection lost: %s\n", why);
  };
  c->on_event = [this](Client&, const parley::Envelope& e) {
    if (e.method() && e.method()->string_view() == "sys.closing" && !stopping_) {
      ++errors_;
      std::fprintf(stderr, "sys.closing: %s\n", status_text(e).c_str());
    }
  };
  return c;
}

void Loadgen::fail(const std::string& why) {
  std::fprintf(stderr, "parley-loadgen: %s\n", why.c_str());
  std::fflush(stderr);
  _exit(1);
}

void Loadgen::batch(int n, Item item, std::function<void()> then) {
  if (n == 0) {
    then();
    return;
  }
  auto b = std::make_shared<Batch>();
  b->n = n;
  b->concurrency = o_.setup_concurrency;
  b->item = std::move(item);
  b->then = std::move(then);
  b->fail = [this](const std::string& why) { fail(why); };
  b->launch();
}

void Loadgen::make_user(Done done) {
  Client* c = new_client();
  users_.push_back(c);
  c->start(addr_, [this, done](Client& c, bool ok) {
    if (!ok) fail("connect + sys.hello failed");
    std::string phone = next_phone();
    c.call("auth.register", register_payload(phone, kPassword, "loadgen"),
           [this, done](Client& c, const parley::Envelope& e) {
             auto* s = as_session(e);
             if (e.status() != parley::Status::Ok || !s || !s->user() || !s->token())
               fail("auth.register: " + status_text(e));
             c.user_id = s->user()->user_id()->str();
             c.token = s->token()->str();
             done(true);
           });
  });
}

void Loadgen::resume_client(Client* c, const std::string& token, Done done) {
  c->started_ns = now_ns();
  c->start(addr_, [this, token, done](Client& c, bool ok) {
    if (!ok) {
      done(false);
      return;
    }
    c.call("auth.resume", resume_payload(token), [done](Client&, const parley::Envelope& e) {
      done(e.status() == parley::Status::Ok);
    });
  });
}

void Loadgen::watch_deliveries(Client* c) {
  c->on_event = [this](Client&, const parley::Envelope& e) {
    if (!e.method()) return;
    auto m = e.method()->string_view();
    if (m == "rooms.message") {
      if (!measuring_ || stopping_) return;
      uint64_t stamp = 0;
      if (auto* msg = as_message(e)) stamp = stamp_of(msg->text());
      if (stamp == 0 || stamp < t0_ns_) return;  // sent before the measured phase
      ++delivered_;
      if (!ack_latency_) {
        uint64_t d = now_ns() - stamp;
        lat_.record(d);
        lat_second_.record(d);
      }
    } else if (m == "sys.closing" && !stopping_) {
      ++errors_;
      std::fprintf(stderr, "sys.closing: %s\n", status_text(e).c_str());
    }
  };
}

int Loadgen::run() {
  const std::string& s = o_.scenario;
  if (s == "fanout") scenario_fanout();
  else if (s == "rooms") scenario_rooms();
  else if (s == "durable") scenario_durable();
  else if (s == "connect") scenario_connect();
  else if (s == "idle") scenario_idle();
  else fail("unknown scenario " + s);
  uv_run(loop_, UV_RUN_DEFAULT);
  return 1;  // finish() exits; getting here means the loop ran dry
}

// ---------------------------------------------------------------- fanout ---

void Loadgen::scenario_fanout() {
  window_ = o_.window > 0 ? o_.window : 128;
  batch(o_.members + 1, [this](int, Done d) { make_user(d); }, [this] {
    Client* sender = users_[0];
    std::vector<std::string> ids;
    for (size_t i = 1; i < users_.size(); ++i) {
      ids.push_back(users_[i]->user_id);
      watch_deliveries(users_[i]);
    }
    sender->call("rooms.create", create_room_payload("loadgen fanout", ids),
                 [this](Client& c, const parley::Envelope& e) {
                   auto* r = as_room(e);
                   if (e.status() != parley::Status::Ok || !r || !r->room_id())
                     fail("rooms.create: " + status_text(e));
                   c.room = r->room_id()->str();
                   senders_.push_back(&c);
                   begin_measuring(true);
                 });
  });
}

// ----------------------------------------------------------------- rooms ---

void Loadgen::scenario_rooms() {
  window_ = o_.window > 0 ? o_.window : 8;
  batch(2 * o_.rooms, [this](int, Done d) { make_user(d); }, [this] {
    for (Client* u : users_) watch_deliveries(u);
    batch(o_.rooms, [this](int k, Done d) {
      Client* a = users_[2 * k];
      Client* b = users_[2 * k + 1];
      a->call("rooms.open_direct", open_direct_payload(b->user_id),
              [this, b, d](Client& a, const parley::Envelope& e) {
                auto* r = as_room(e);
                if (e.status() != parley::Status::Ok || !r || !r->room_id())
                  fail("rooms.open_direct: " + status_text(e));
                a.room = b->room = r->room_id()->str();
                d(true);
              });
    }, [this] {
      senders_ = users_;
      begin_measuring(true);
    });
  });
}

// --------------------------------------------------------------- durable ---

void Loadgen::scenario_durable() {
  // K senders, each with its own direct room to one sink user; each keeps
  // `window` (default 1) sends in flight: a send is counted when acknowledged,
  // i.e. durable, and the histogram holds send -> acknowledgement.
  window_ = o_.window > 0 ? o_.window : 1;
  ack_latency_ = true;
  int senders = o_.connections > 0 ? o_.connections : 64;
  batch(senders + 1, [this](int, Done d) { make_user(d); }, [this, senders] {
    Client* sink = users_[0];
    watch_deliveries(sink);
    batch(senders, [this, sink](int k, Done d) {
      users_[k + 1]->call("rooms.open_direct", open_direct_payload(sink->user_id),
                          [this, d](Client& c, const parley::Envelope& e) {
                            auto* r = as_room(e);
                            if (e.status() != parley::Status::Ok || !r || !r->room_id())
                              fail("rooms.open_direct: " + status_text(e));
                            c.room = r->room_id()->str();
                            d(true);
                          });
    }, [this] {
      senders_.assign(users_.begin() + 1, users_.end());
      begin_measuring(true);
    });
  });
}

// --------------------------------------------------------------- connect ---

void Loadgen::scenario_connect() {
  // `connections` loops, each: TCP connect, TLS handshake (full, or resumed
  // with --tls-resume), sys.hello, auth.resume; then close and again. sent =
  // attempts, delivered = sessions completed, latency = connect -> resumed.
  make_user([this](bool) {
    token_ = users_[0]->token;
    begin_measuring(false);
    int loops = o_.connections > 0 ? o_.connections : 8;
    for (int i = 0; i < loops; ++i) connect_loop();
  });
}

void Loadgen::connect_loop() {
  if (stopping_) return;
  Client* c = new_client();
  c->on_gone = nullptr;
  ++attempts_;
  resume_client(c, token_, [this, c](bool ok) {
    if (stopping_) return;
    if (ok) {
      ++delivered_;
      ++sent_;
      if (c->tls_resumed()) ++tls_resumed_;
      uint64_t d = now_ns() - c->started_ns;
      lat_.record(d);
      lat_second_.record(d);
    } else {
      ++errors_;
    }
    c->expect_close = true;
    c->close("done");
    connect_loop();
  });
}

// ------------------------------------------------------------------ idle ---

void Loadgen::scenario_idle() {
  idle_target_ = o_.connections > 0 ? o_.connections : 1000;
  make_user([this](bool) {
    token_ = users_[0]->token;
    if (o_.server_pid) rss_before_ = rss_bytes(o_.server_pid);
    begin_measuring(false);
    batch(idle_target_, [this](int, Done d) {
      Client* c = new_client();
      ++attempts_;
      resume_client(c, token_, [this, c, d](bool ok) {
        if (!ok) fail("an idle connection could not authenticate");
        ++sent_;
        ++delivered_;
        uint64_t ns = now_ns() - c->started_ns;
        lat_.record(ns);
        lat_second_.record(ns);
        d(true);
      });
    }, [this] {
      // All connected: hold them idle for `duration`, then sample the RSS.
      uv_timer_stop(&end_timer_);
      uv_timer_start(&end_timer_, on_timer, static_cast<uint64_t>(o_.duration * 1000), 0);
    });
  });
}

// ------------------------------------------------------------- measuring ---

void Loadgen::begin_measuring(bool senders) {
  measuring_ = true;
  t0_ns_ = now_ns();
  if (o_.server_pid) cpu0_ = cpu_seconds(o_.server_pid);
  uv_timer_start(&progress_timer_, on_timer, 1000, 1000);
  if (o_.scenario != "idle")
    uv_timer_start(&end_timer_, on_timer, static_cast<uint64_t>(o_.duration * 1000), 0);
  if (!senders) return;
  if (o_.rate > 0) {
    uv_timer_start(&rate_timer_, on_timer, 0, 1);
  } else {
    for (Client* c : senders_) pump(*c);
  }
}

void Loadgen::send_one(Client& c) {
  uint64_t t = now_ns();
  ++c.inflight;
  ++c.issued;
  c.call("rooms.send", send_payload(c.room, ++msg_seq_, stamped_text(t, o_.size)),
         [this, t](Client& c, const parley::Envelope& e) {
           --c.inflight;
           if (stopping_) return;
           if (e.status() != parley::Status::Ok) {
             ++errors_;
             if (errors_ <= 5) std::fprintf(stderr, "rooms.send: %s\n", status_text(e).c_str());
           } else {
             ++sent_;
             if (ack_latency_) {
               uint64_t d = now_ns() - t;
               lat_.record(d);
               lat_second_.record(d);
             }
           }
           if (o_.rate <= 0) pump(c);
         });
}

void Loadgen::pump(Client& c) {
  while (!stopping_ && c.open() && c.inflight < window_) send_one(c);
}

void Loadgen::on_rate_tick() {
  if (stopping_ || senders_.empty()) return;
  double per_sender = o_.rate / static_cast<double>(senders_.size());
  double elapsed = static_cast<double>(now_ns() - t0_ns_) / 1e9;
  uint64_t due = static_cast<uint64_t>(per_sender * elapsed) + 1;
  for (Client* c : senders_) {
    while (c->issued < due && c->inflight < window_ && c->open()) send_one(*c);
    // Behind schedule with a full window: skip the missed slots rather than
    // bursting later (latency is measured from the actual send).
    if (c->issued < due && c->inflight >= window_) c->issued = due;
  }
}

void Loadgen::on_progress() {
  ++ticks_;
  std::fprintf(stderr,
               "[%3ds] sent/s %8llu  delivered/s %10llu  p50 %7.0f us  p99 %8.0f us  "
               "errors %llu  clients %zu\n",
               ticks_, static_cast<unsigned long long>(sent_ - last_sent_),
               static_cast<unsigned long long>(delivered_ - last_delivered_),
               lat_second_.quantile(0.5) / 1e3, lat_second_.quantile(0.99) / 1e3,
               static_cast<unsigned long long>(errors_), clients_.size());
  last_sent_ = sent_;
  last_delivered_ = delivered_;
  lat_second_.clear();
  // Connect churn: drop clients whose handles are closed.
  std::erase_if(clients_, [](const std::unique_ptr<Client>& c) {
    return c->closed() && c->expect_close;
  });
}

void Loadgen::finish() {
  double secs = static_cast<double>(now_ns() - t0_ns_) / 1e9;
  stopping_ = true;
  double cpu_pct = -1;
  uint64_t rss = 0;
  if (o_.server_pid) {
    double cpu1 = cpu_seconds(o_.server_pid);
    if (cpu0_ >= 0 && cpu1 >= 0) cpu_pct = (cpu1 - cpu0_) / secs * 100.0;
    rss = rss_after_ = rss_bytes(o_.server_pid);
  }
  auto us = [&](double q) { return static_cast<double>(lat_.quantile(q)) / 1e3; };
  std::fprintf(stderr,
               "%s: %.1f s, sent %llu (%.0f/s), delivered %llu (%.0f/s), p50 %.0f us, "
               "p99 %.0f us, max %.0f us, errors %llu\n",
               o_.scenario.c_str(), secs, static_cast<unsigned long long>(sent_), sent_ / secs,
               static_cast<unsigned long long>(delivered_), delivered_ / secs, us(0.5), us(0.99),
               static_cast<double>(lat_.max()) / 1e3, static_cast<unsigned long long>(errors_));
  if (o_.json) {
    std::printf(
        "{\"scenario\": \"%s\", \"tls\": %s, \"members\": %d, \"rooms\": %d, \"senders\": %zu, "
        "\"connections\": %d, \"size\": %d, \"rate\": %.0f, \"window\": %u, "
        "\"duration_s\": %.3f, \"sent\": %llu, \"delivered\": %llu, "
        "\"sent_per_sec\": %.1f, \"delivered_per_sec\": %.1f, \"latency_kind\": \"%s\", "
        "\"latency_us\": {\"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, \"p999\": %.1f, "
        "\"max\": %.1f}, \"errors\": %llu",
        o_.scenario.c_str(), o_.tls ? "true" : "false", o_.members, o_.rooms, senders_.size(),
        o_.connections, o_.size, o_.rate, window_, secs,
        static_cast<unsigned long long>(sent_), static_cast<unsigned long long>(delivered_),
        sent_ / secs, delivered_ / secs,
        ack_latency_ ? "send_to_ack"
                     : (o_.scenario == "connect" || o_.scenario == "idle" ? "connect_to_authenticated"
                                                                          : "send_to_delivery"),
        us(0.5), us(0.9), us(0.99), us(0.999), static_cast<double>(lat_.max()) / 1e3,
        static_cast<unsigned long long>(errors_));
    if (o_.server_pid) {
      std::printf(", \"cpu_pct\": %.1f, \"rss_bytes\": %llu", cpu_pct,
                  static_cast<unsigned long long>(rss));
      if (cpu_pct > 0)
        std::printf(", \"delivered_per_server_core_sec\": %.1f", delivered_ / secs / (cpu_pct / 100));
      if (o_.scenario == "idle" && delivered_ > 0)
        std::printf(", \"rss_before_bytes\": %llu, \"rss_per_connection_bytes\": %.0f",
                    static_cast<unsigned long long>(rss_before_),
                    (static_cast<double>(rss_after_) - static_cast<double>(rss_before_)) /
                        static_cast<double>(delivered_));
    }
    if (o_.scenario == "connect")
      std::printf(", \"tls_resumed\": %llu", static_cast<unsigned long long>(tls_resumed_));
    std::printf("}\n");
  }
  std::fflush(stdout);
  std::fflush(stderr);
  // Skip orderly teardown of thousands of connections: the server sees them
  // reset, which is what a killed client does too.
  _exit(errors_ == 0 && delivered_ > 0 ? 0 : 1);
}

void Loadgen::on_timer(uv_timer_t* t) {
  auto* self = static_cast<Loadgen*>(t->data);
  if (t == &self->progress_timer_) self->on_progress();
  else if (t == &self->rate_timer_) self->on_rate_tick();
  else self->finish();
}

}  // namespace parley::loadgen
