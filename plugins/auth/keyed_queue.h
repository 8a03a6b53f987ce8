// Serialises asynchronous critical sections per key, on the loop: run(key,
// fn) calls fn(done) at once when no section for `key` is open, otherwise
// after the earlier ones called their done(). Used so that two registrations
// of the same phone, or two refreshes of the same token, never interleave
// their read-check-write against storage.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace parley::auth {

class KeyedQueue {
 public:
  using Done = std::function<void()>;
  using Section = std::function<void(Done done)>;

  void run(const std::string& key, Section fn) {
    auto& q = queues_[key];
    q.push_back(std::move(fn));
    if (q.size() == 1) start(key);
  }

  // Keys with an open section (for tests and metrics).
  size_t busy_keys() const { return queues_.size(); }

 private:
  void start(const std::string& key) {
    auto it = queues_.find(key);
    if (it == queues_.end() || it->second.empty()) return;
    // done() may run synchronously inside fn; guard against a second call.
    auto called = std::make_shared<bool>(false);
    Section fn = it->second.front();
    fn([this, key, called] {
      if (*called) return;
      *called = true;
      auto it2 = queues_.find(key);
      if (it2 == queues_.end()) return;
      it2->second.pop_front();
      if (it2->second.empty())
        queues_.erase(it2);
      else
        start(key);
    });
  }

  std::map<std::string, std::deque<Section>> queues_;
};

}  // namespace parley::auth
