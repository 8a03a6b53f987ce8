// Runs one Parley method for one HTTP request on its own kernel virtual
// connection: sys.hello, then auth.resume with the bearer token (if any),
// then the method. Responses arrive through parley_virtual_ops.write; each
// step continues from a 0 ms timer so the kernel is never re-entered from
// inside its own write callback.
#pragma once

#include <parley/plugin.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace parley::http_api {

struct CallResult {
  uint16_t status = 0;  // PARLEY_STATUS_*
  std::string error;
  std::vector<uint8_t> payload;
  // The methods the server registers (sys.Welcome.methods from the hello).
  std::vector<std::string> server_methods;
};

class CallRunner {
 public:
  using Done = std::function<void(CallResult)>;
  CallRunner(parley_plugin* self, uint64_t timeout_ms);
  ~CallRunner();  // ends every call still running (Unavailable)

  // token "" = unauthenticated. done runs exactly once, on the loop.
  void run(const std::string& peer, const std::string& token, const std::string& method,
           std::vector<uint8_t> payload, Done done);

 private:
  struct Call;
 public:  // C callbacks of parley_virtual_ops and timers

  void step(uint64_t id);
  void finish(uint64_t id, CallResult r);
  void schedule(uint64_t id);
  static int64_t on_write(void* ud, const uint8_t* bytes, size_t len);
  static void on_close(void* ud, uint16_t status, const char* message);

 private:

  parley_plugin* self_;
  uint64_t timeout_ms_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Call>> calls_;
};

}  // namespace parley::http_api
