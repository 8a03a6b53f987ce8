// Thousands of client connections driven from one thread with poll(), for
// the slowloris and churn tests: non-blocking connects, non-blocking TLS
// handshakes (OpenSSL), byte-by-byte trickling, sys.hello round trips, and
// noticing when the server closes a connection (with the sys.closing status
// it sent, for TLS ones). No thread or blocking Client per connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parley_test.h"

struct ssl_st;
struct ssl_ctx_st;

namespace parley::hostile {

enum class FloodKind : uint8_t {
  TcpSilent,   // TCP connect, then nothing
  TcpTrickle,  // TCP connect, then a TLS record header and junk, one byte per tick
  TlsSilent,   // TLS handshake, then nothing (no sys.hello)
  TlsTrickle,  // TLS handshake, then a sys.hello frame one byte per tick, never complete
  TcpLeave,    // churn: TCP connect, close at once
  TlsLeave,    // churn: TLS handshake, close
  TlsHello,    // churn: TLS handshake, sys.hello answered Ok, close
};
inline constexpr int kFloodKinds = 7;
const char* flood_kind_name(FloodKind kind);

struct FloodStats {
  int started = 0;
  int established = 0;       // TCP connected (and TLS handshake done for TLS kinds)
  int completed = 0;         // churn kinds: the script ran to its own close
  int closed_by_server = 0;  // EOF or reset from the server
  int timeout_closings = 0;  // of those, after a sys.closing Timeout (TLS kinds)
  int failed = 0;            // connect or handshake failed
  long min_life_ms = -1;     // open -> closed by the server, over the closed ones
  long max_life_ms = -1;
  std::vector<std::string> errors;  // the first few failures, for the message
};

class ConnectionFlood {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ConnectionFlood(int port, int trickle_interval_ms = 200);
  ~ConnectionFlood();  // closes whatever is still open
  ConnectionFlood(const ConnectionFlood&) = delete;
  ConnectionFlood& operator=(const ConnectionFlood&) = delete;

  // Starts one connection (a non-blocking connect).
  void start(FloodKind kind);
  // Waits up to timeout_ms for activity once, advances every connection
  // that has some, and trickles one byte into each trickling connection per
  // tick.
  void step(int timeout_ms);
  // Connections not finished yet (connecting, handshaking or open).
  int active() const { return active_; }
  // Connections started and still in connect or TLS handshake.
  int pending_setup() const { return pending_setup_; }
  const FloodStats& stats(FloodKind kind) const { return stats_[static_cast<int>(kind)]; }
  // Closes everything still open, from the client side.
  void close_all();

 private:
  struct Conn;
  void advance(Conn& c, short revents);
  void on_established(Conn& c);
  void read_from(Conn& c);
  void trickle(Conn& c);
  void finish(Conn& c, bool by_server, const std::string& error = "");
  FloodStats& st(const Conn& c);

  int port_;
  int trickle_ms_;
  ::ssl_ctx_st* ctx_ = nullptr;
  std::vector<std::unique_ptr<Conn>> conns_;
  int active_ = 0, pending_setup_ = 0;
  Clock::time_point next_trickle_;
  FloodStats stats_[kFloodKinds];
  std::vector<uint8_t> hello_frame_;
};

// Raises RLIMIT_NOFILE's soft limit to the hard limit (servers started
// afterwards inherit it); returns the soft limit now in force.
long raise_fd_limit();

}  // namespace parley::hostile
