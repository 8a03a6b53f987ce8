// Client::Impl: the state shared between the public methods (any thread) and
// the I/O thread. See client.hpp for the threading model.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "connection.h"
#include "frames.h"
#include "requests.h"
#include "parley/client/client.hpp"
#include "seq_tracker.h"

namespace parley::client {

using Clock = std::chrono::steady_clock;

struct Client::Impl {
  explicit Impl(Options o);
  ~Impl();

  // ---- any thread ----
  void call_async(const std::string& method, std::vector<uint8_t> payload,
                  std::function<void(Reply)> done, int timeout_ms);
  Reply call_sync(const std::string& method, std::vector<uint8_t> payload);
  bool on_io_thread() const { return std::this_thread::get_id() == io_id; }
  void wake();
  void emit_state(ConnectionState s, const std::string& why);
  void emit_event(const Event& e);
  // A Session was obtained (any auth method): remember it, tell the app,
  // start tracking rooms. Runs on the I/O thread.
  void adopt_session(const Session& s);
  void track_room_list(bool fetch_missing);
  void fetch_history(const std::string& room_id, uint64_t after_seq);
  void own_message_sent(const Message& m);
  bool deliverable(const Message& m) const;  // track_mu held

  // ---- I/O thread (and connect() before the thread starts) ----
  void run();
  // Blocking request/response on a fresh connection (hello, resume); other
  // Events meanwhile are appended to *events.
  Reply exchange(const std::string& method, const std::vector<uint8_t>& payload,
                 std::vector<Incoming>* events);
  bool reconnect();  // false: give up (closed, or the session is gone)
  void pump();       // one poll round on the live connection
  void lost(const std::string& why);
  void handle(Incoming in);
  void expire_timeouts();

  Options opts;
  std::thread io;
  std::atomic<std::thread::id> io_id{};
  int wake_fds[2] = {-1, -1};

  // Owned by the I/O thread once it runs.
  std::unique_ptr<Connection> conn;
  FrameSplitter splitter;
  std::vector<uint8_t> wbuf;
  size_t woff = 0;
  Clock::time_point last_sent = Clock::now();

  mutable std::mutex mu;  // guards the fields below
  bool stopping = false;
  bool connected = false;
  bool drop_requested = false;
  ConnectFailure failure = ConnectFailure::None;
  std::deque<std::vector<uint8_t>> outbox;
  struct Pending {
    std::string method;
    std::function<void(Reply)> done;
    Clock::time_point deadline;
  };
  std::map<uint64_t, Pending> pending;
  uint64_t next_id = 1;
  std::optional<Session> session;
  std::function<void(const Event&)> event_handler;
  std::function<void(ConnectionState, const std::string&)> state_handler;
  std::function<void(const Session&)> session_handler;

  mutable std::mutex track_mu;  // guards tracker, own_ids, self_user_id
  SeqTracker tracker;
  std::set<std::string> own_ids;
  std::string self_user_id;
  bool had_session = false;  // a room baseline was taken already
};

}  // namespace parley::client
