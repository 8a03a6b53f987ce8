// tworker: deferred replies completed from the worker pool (queue_work) and
// from another thread through post_to_loop; also tries session_authenticate
// without the auth capability.
#include <chrono>
#include <memory>
#include <thread>

#include "test_text.hpp"

using ptest::bytes;
using ptest::text;

class TWorker : public parley::Plugin {
 public:
  static constexpr const char* kName = "tworker";
  static constexpr const char* kVersion = "0.0.1";

  void init(const parley::Config&) override {
    loop_thread_ = std::this_thread::get_id();
    // Sums the payload's bytes on the pool; replies "sum=<n> pool=<0|1>".
    method("tworker.sum", [this](parley::Request& req, parley::span<const uint8_t> p) {
      auto d = req.defer();
      auto data = std::make_shared<std::string>(text(p));
      auto result = std::make_shared<std::pair<long, bool>>(0, false);
      auto loop = loop_thread_;
      queue_work(
          [data, result, loop] {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            for (unsigned char c : *data) result->first += c;
            result->second = std::this_thread::get_id() != loop;
          },
          [d, result](int status) mutable {
            if (status != 0) return (void)d.error(PARLEY_STATUS_INTERNAL, "work failed");
            d.reply(bytes("sum=" + std::to_string(result->first) +
                          " pool=" + (result->second ? "1" : "0")));
          });
    }, PARLEY_METHOD_PUBLIC);

    // The pool thread posts the answer back to the loop itself.
    method("tworker.post", [this](parley::Request& req, parley::span<const uint8_t>) {
      auto d = req.defer();
      queue_work([d]() mutable {
        // Runs on a pool thread: only post_to_loop may be called here. The
        // Deferred is moved into the loop closure, never touched here.
        parley::post_to_loop([d]() mutable { d.reply(bytes("posted")); });
      }, [](int) {});
    }, PARLEY_METHOD_PUBLIC);

    // Without PARLEY_CAP_AUTH: must get PARLEY_EPERM.
    method("tworker.steal", [this](parley::Request& req, parley::span<const uint8_t>) {
      int rc = session_authenticate(req.conn(), "mallory");
      req.reply(bytes("rc=" + std::to_string(rc)));
    }, PARLEY_METHOD_PUBLIC);
  }

 private:
  std::thread::id loop_thread_;
};

PARLEY_PLUGIN(TWorker)
