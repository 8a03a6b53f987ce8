// tuser: requires the "tcounter" service (looked up in on_all_loaded) and
// listens to the bus topic "tprov.bumped".
#include "tcounter.h"
#include "test_text.hpp"

using ptest::bytes;
using ptest::text;

class TUser : public parley::Plugin {
 public:
  static constexpr const char* kName = "tuser";
  static constexpr const char* kVersion = "0.0.1";
  static constexpr const char* kRequires[] = {"tcounter", nullptr};

  void init(const parley::Config&) override {
    on_topic("tprov.bumped", [this](std::string_view, parley::span<const uint8_t> p) {
      seen_++;
      last_ = text(p);
    });
    method("tuser.bump", [this](parley::Request& req, parley::span<const uint8_t> p) {
      int64_t by = std::stoll(text(p));
      int64_t v = counter_->bump(counter_->ctx, by);
      // Bus delivery is asynchronous: nothing seen yet for this bump.
      req.reply(bytes("value=" + std::to_string(v) + " seen_now=" + std::to_string(seen_)));
    }, PARLEY_METHOD_PUBLIC);
    method("tuser.seen", [this](parley::Request& req, parley::span<const uint8_t>) {
      req.reply(bytes("seen=" + std::to_string(seen_) + " last=" + last_));
    }, PARLEY_METHOD_PUBLIC);
  }
  void on_all_loaded() override {
    counter_ = service<tcounter_v1>("tcounter", 1);
    if (!counter_) throw std::runtime_error("no tcounter v1");
    if (service<tcounter_v1>("tcounter", 2)) throw std::runtime_error("tcounter v2 should not exist");
    info("on_all_loaded order=tuser");
  }
  // Shutdown may still use the services of what it requires (tprov shuts
  // down after tuser): bump once more and report it.
  ~TUser() override {
    long long v = counter_ ? static_cast<long long>(counter_->bump(counter_->ctx, 100)) : -1;
    info("shutdown order=tuser bump=%lld", v);
  }

 private:
  const tcounter_v1* counter_ = nullptr;
  int seen_ = 0;
  std::string last_;
};

PARLEY_PLUGIN(TUser)
