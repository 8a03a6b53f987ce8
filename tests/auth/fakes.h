// In-memory stand-ins for the storage service and the SDK host, so the
// auth core's flows run in a unit test without a server. Every callback is
// queued and runs from drain(), like completions arriving later on the loop;
// that lets a test interleave two requests at will.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "auth_core.h"
#include "parley/errors.h"

namespace parley::auth::testing {

class Loop {
 public:
  void post(std::function<void()> fn) { q_.push_back(std::move(fn)); }
  // Runs queued callbacks (and those they queue) until none is left.
  size_t drain() {
    size_t n = 0;
    while (!q_.empty()) {
      auto fn = std::move(q_.front());
      q_.pop_front();
      fn();
      ++n;
    }
    return n;
  }

 private:
  std::deque<std::function<void()>> q_;
};

class FakeKv : public Kv {
 public:
  explicit FakeKv(Loop& loop) : loop_(loop) {}
  void get(const std::string& key,
           std::function<void(int, std::string)> cb) override {
    ++gets;
    if (fail_next) {
      fail_next = false;
      loop_.post([cb] { cb(PARLEY_EUNAVAIL, ""); });
      return;
    }
    auto it = data.find(key);
    if (it == data.end())
      loop_.post([cb] { cb(PARLEY_ENOENT, ""); });
    else
      loop_.post([cb, v = it->second] { cb(0, v); });
  }
  void write(std::vector<Op> ops, std::function<void(int)> cb) override {
    ++writes;
    // Applied when the completion runs, as a durable write would be.
    loop_.post([this, ops = std::move(ops), cb] {
      for (const auto& op : ops) {
        if (op.value)
          data[op.key] = *op.value;
        else
          data.erase(op.key);
      }
      cb(0);
    });
  }
  std::map<std::string, std::string> data;
  int gets = 0, writes = 0;
  bool fail_next = false;

 private:
  Loop& loop_;
};

class FakeHost : public Host {
 public:
  explicit FakeHost(Loop& loop) : loop_(loop) {}
  uint64_t now_ms() override { return now; }
  void run_off_loop(std::function<void()> work,
                    std::function<void(bool)> after) override {
    ++work_started;
    running_now++;
    max_running = std::max(max_running, running_now);
    loop_.post([this, work, after] {
      work();
      running_now--;
      after(true);
    });
  }
  bool authenticate(ConnId conn, const std::string& user_id) override {
    if (closed.count(conn)) return false;
    users[conn] = user_id;
    return true;
  }
  void deauthenticate(ConnId conn) override { users.erase(conn); }
  void close_conn(ConnId conn, uint16_t status, const std::string& msg) override {
    closes.push_back({conn, status, msg});
    closed.insert(conn);
    users.erase(conn);
  }
  void count(Event e) override { ++counts[e]; }
  void audit(const std::string& line) override { audits.push_back(line); }
  void warn(const std::string& line) override { audits.push_back("WARN " + line); }

  struct Close {
    ConnId conn;
    uint16_t status;
    std::string message;
  };
  uint64_t now = 1'700'000'000'000;
  std::map<ConnId, std::string> users;
  std::set<ConnId> closed;
  std::vector<Close> closes;
  std::vector<std::string> audits;
  std::map<Event, int> counts;
  int work_started = 0, running_now = 0, max_running = 0;

 private:
  Loop& loop_;
};

}  // namespace parley::auth::testing
