// A real WebSocket client (the npm `ws` package, via ws_peer.js under node)
// driven from C++ over pipes, plus raw-HTTP helpers for the bridge tests.
#pragma once

#include <sys/types.h>

#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "parley_test.h"

namespace parley::test::ws {

// One JSON line from ws_peer.js, with the fields the tests read.
struct PeerEvent {
  std::string line;
  std::string ev;        // open, msg, close, unexpected, error, paused
  std::string protocol;  // open
  std::vector<uint8_t> bytes;  // msg
  bool binary = false;   // msg
  int code = 0;          // close: the close code; unexpected: the HTTP status
  std::string reason;    // close
};

class WsPeer {
 public:
  // Spawns node ws_peer.js. nullptr and *error when node is missing.
  static std::unique_ptr<WsPeer> spawn(std::string* error);
  ~WsPeer();

  // Connects and waits for the outcome: "open", "unexpected" (refused with an
  // HTTP status), "close" or "error".
  PeerEvent connect(const std::string& url, const std::string& origin = "",
                    const std::vector<std::string>& protocols = {"parley.v1"});
  void send(std::span<const uint8_t> bytes);
  void send_text(const std::string& text);
  void send_zeros(size_t n);  // one binary message of n zero bytes
  void pause();
  void close();

  // Next event of any kind (queued ones first).
  std::optional<PeerEvent> next(int timeout_ms);
  // A Request with the next id; waits for its Response (other messages queued).
  Incoming call(const std::string& method, std::span<const uint8_t> payload = {},
                int timeout_ms = 10000);
  Incoming hello();
  // The next Envelope Event (with that method if non-empty).
  std::optional<Incoming> next_event(const std::string& method, int timeout_ms = 5000);
  // Waits for the close event; the Envelopes seen on the way are kept in seen.
  std::optional<PeerEvent> wait_close(int timeout_ms, std::vector<Incoming>* seen = nullptr);

 private:
  WsPeer() = default;
  void command(const std::string& json);
  std::optional<PeerEvent> read_line(int timeout_ms);

  pid_t pid_ = -1;
  int in_fd_ = -1, out_fd_ = -1;
  std::string buf_;
  std::deque<PeerEvent> queue_;
  uint64_t next_id_ = 1;
};

// Sends `request` on a plain TCP connection to 127.0.0.1:port and returns
// everything the server sent until it closed (or timeout_ms).
std::string raw_http(int port, const std::string& request, int timeout_ms = 5000);
// The status code of a raw HTTP response, or -1.
int http_status(const std::string& response);
std::string http_body(const std::string& response);

}  // namespace parley::test::ws
