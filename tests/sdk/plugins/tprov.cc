// tprov: exports the "tcounter" service (v1) and publishes every bump on the
// bus topic "tprov.bumped".
#include "tcounter.h"
#include "test_text.hpp"

using ptest::bytes;

class TProv : public parley::Plugin {
 public:
  static constexpr const char* kName = "tprov";
  static constexpr const char* kVersion = "0.0.1";
  static constexpr const char* kProvides[] = {"tcounter", nullptr};

  void init(const parley::Config&) override {
    vtable_.struct_size = sizeof vtable_;
    vtable_.ctx = this;
    vtable_.bump = [](void* ctx, int64_t by) -> int64_t {
      auto* self = static_cast<TProv*>(ctx);
      self->value_ += by;
      std::string v = std::to_string(self->value_);
      self->publish("tprov.bumped", bytes(v));
      return self->value_;
    };
    export_service("tcounter", 1, &vtable_);
    method("tprov.value", [this](parley::Request& req, parley::span<const uint8_t>) {
      req.reply(bytes(std::to_string(value_)));
    }, PARLEY_METHOD_PUBLIC);
  }
  void on_all_loaded() override { info("on_all_loaded order=tprov"); }
  ~TProv() override { info("shutdown order=tprov"); }

 private:
  tcounter_v1 vtable_{};
  int64_t value_ = 0;
};

PARLEY_PLUGIN(TProv)
