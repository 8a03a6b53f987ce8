// A Parley session on top of Conn: Requests with callbacks matched by id,
// Events handed to a per-client function. One user (or none) per client.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>

#include "tls_conn.h"

namespace parley::loadgen {

class Client final : public Conn::Handler {
 public:
  using Reply = std::function<void(Client&, const parley::Envelope&)>;
  using Event = std::function<void(Client&, const parley::Envelope&)>;

  explicit Client(Net& net) : conn_(net, *this) {}

  // Connects and says sys.hello; `done(ok)` once answered or failed.
  void start(const sockaddr_in& addr, std::function<void(Client&, bool)> done);
  uint64_t call(std::string_view method, std::span<const uint8_t> payload, Reply reply);
  void close(const char* why) { conn_.close(why); }
  bool closed() const { return conn_.closed(); }
  bool open() const { return conn_.is_open(); }
  bool tls_resumed() const { return conn_.tls_resumed(); }

  Event on_event;                                       // non-Response Envelopes
  std::function<void(Client&, const char*)> on_gone;    // unexpected close
  bool expect_close = false;                            // close() was ours

  // Scenario state.
  std::string user_id, token, room;
  uint32_t inflight = 0;
  uint64_t issued = 0;
  uint64_t started_ns = 0;

 private:
  void on_open(Conn& c) override;
  void on_envelope(Conn& c, const parley::Envelope& e) override;
  void on_closed(Conn& c, const char* why) override;

  Conn conn_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Reply> pending_;
  std::function<void(Client&, bool)> started_;
};

}  // namespace parley::loadgen
