// ttimer: one-shot, repeating and stopped timers.
#include <chrono>
#include <map>

#include "test_text.hpp"

using ptest::bytes;
using ptest::text;

class TTimer : public parley::Plugin {
 public:
  static constexpr const char* kName = "ttimer";
  static constexpr const char* kVersion = "0.0.1";

  void init(const parley::Config&) override {
    // Fires once after <payload> ms; replies the elapsed ms.
    method("ttimer.once", [this](parley::Request& req, parley::span<const uint8_t> p) {
      uint64_t ms = std::stoull(text(p));
      auto d = req.defer();
      auto start = std::chrono::steady_clock::now();
      uint64_t key = next_++;
      timers_[key] = timer(ms, 0, [this, d, start, key]() mutable {
        auto el = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start).count();
        d.reply(bytes("elapsed=" + std::to_string(el)));
        timers_.erase(key);  // destroys the running Timer: must be safe
      });
    }, PARLEY_METHOD_PUBLIC);

    // Repeats every 10 ms; the third fire stops it and replies.
    method("ttimer.repeat", [this](parley::Request& req, parley::span<const uint8_t>) {
      auto d = req.defer();
      uint64_t key = next_++;
      auto fires = std::make_shared<int>(0);
      timers_[key] = timer(10, 10, [this, d, key, fires]() mutable {
        if (++*fires < 3) return;
        timers_.erase(key);
        // One more interval: a stopped timer must not fire again.
        timers_[next_++] = timer(40, 0, [d, fires]() mutable {
          d.reply(bytes("fires=" + std::to_string(*fires)));
        });
      });
    }, PARLEY_METHOD_PUBLIC);

    // A timer stopped before it fires never fires.
    method("ttimer.cancel", [this](parley::Request& req, parley::span<const uint8_t>) {
      auto d = req.defer();
      auto fired = std::make_shared<bool>(false);
      parley::Timer t = timer(20, 0, [fired] { *fired = true; });
      t.stop();
      timers_[next_++] = timer(60, 0, [d, fired]() mutable {
        d.reply(bytes(std::string("fired=") + (*fired ? "1" : "0")));
      });
    }, PARLEY_METHOD_PUBLIC);

    // A repeating timer left running: shutdown must stop it (no crash).
    timers_[next_++] = timer(5, 5, [] {});
  }

 private:
  std::map<uint64_t, parley::Timer> timers_;
  uint64_t next_ = 1;
};

PARLEY_PLUGIN(TTimer)
