// Refusals from C++ plugins, one library per case, selected at compile time
// by TREFUSE_CASE: 1 tbadns (method outside its namespace), 2 tinitfail
// (init throws), 3 tneeds (requires a service nobody provides), 4 tlate
// (on_all_loaded throws).
#include <stdexcept>

#include "test_text.hpp"

#if TREFUSE_CASE == 1
class TRefuse : public parley::Plugin {
 public:
  static constexpr const char* kName = "tbadns";
  static constexpr const char* kVersion = "0.0.1";
  void init(const parley::Config&) override {
    method("other.verb", [](parley::Request& r, parley::span<const uint8_t>) { r.reply(); });
  }
};
#elif TREFUSE_CASE == 2
class TRefuse : public parley::Plugin {
 public:
  static constexpr const char* kName = "tinitfail";
  static constexpr const char* kVersion = "0.0.1";
  void init(const parley::Config&) override { throw std::runtime_error("database is on fire"); }
};
#elif TREFUSE_CASE == 3
class TRefuse : public parley::Plugin {
 public:
  static constexpr const char* kName = "tneeds";
  static constexpr const char* kVersion = "0.0.1";
  static constexpr const char* kRequires[] = {"nosuch", nullptr};
  void init(const parley::Config&) override {}
};
#elif TREFUSE_CASE == 4
class TRefuse : public parley::Plugin {
 public:
  static constexpr const char* kName = "tlate";
  static constexpr const char* kVersion = "0.0.1";
  void init(const parley::Config&) override {}
  void on_all_loaded() override { throw std::runtime_error("storage service missing"); }
};
#endif

PARLEY_PLUGIN(TRefuse)
