// Test plugin `receiptsprobe`: lets a test read the kernel's metrics (the
// receipts plugin's commit and event counters) through the protocol.
//   receiptsprobe.metrics (empty) -> the Prometheus text, as raw bytes
// Configure: `receiptsprobe: {path: <build>/lib/parley/test-plugins/libreceiptsprobe.so}`.
#include <string>

#include "parley/plugin.hpp"

namespace {

class ReceiptsProbe : public parley::Plugin {
 public:
  static constexpr const char* kName = "receiptsprobe";
  static constexpr const char* kVersion = "0.1.0";

  void init(const parley::Config&) override {
    method("receiptsprobe.metrics", [](parley::Request& req, parley::span<const uint8_t>) {
      std::string text;
      parley::api().metrics_render(
          [](const char* t, size_t n, void* ud) { static_cast<std::string*>(ud)->assign(t, n); },
          &text);
      req.reply(
          parley::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    });
  }
};

}  // namespace

PARLEY_PLUGIN(ReceiptsProbe)
