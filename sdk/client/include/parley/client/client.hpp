// parley::client::Client — a native Parley client library (see docs/client.md).
//
// Threading model: each Client owns one I/O thread. It alone touches the TLS
// socket (a non-blocking socket + OpenSSL, driven by poll() on the socket and
// a wake-up pipe), writes queued Requests, reads frames, matches Responses to
// Requests by id, expires timed-out Requests, sends keep-alive pings and
// reconnects. Every callback you give the Client (request callbacks, event,
// state and session handlers) runs on that I/O thread: keep them short and do
// not call the blocking (synchronous) helpers from inside them — use the
// *_async / call_async forms there. All public methods are thread-safe.
//
// Reconnect: after the connection drops (server restart, network loss), the
// I/O thread reconnects with backoff, sends sys.hello, resumes the session
// with auth.resume (falling back to auth.refresh), lists the rooms and fetches
// every message it has not yet delivered with rooms.history after_seq. It
// tracks the last delivered seq of every room, so each rooms.message reaches
// your event handler exactly once and in seq order, across reconnects too.
// Requests in flight when the connection drops complete with
// Status::Disconnected; new Requests fail the same way until reconnected.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parley/client/types.hpp"

namespace parley::client {

template <class T>
struct Result {
  Status status = Status::Ok;
  std::string error;  // the server's reason (or the client's) when not Ok
  T value{};
  bool ok() const { return status == Status::Ok; }
  explicit operator bool() const { return ok(); }
};

// A raw Response: status, error and the method's payload FlatBuffer.
struct Reply {
  Status status = Status::Ok;
  std::string error;
  std::string method;
  std::vector<uint8_t> payload;
  bool ok() const { return status == Status::Ok; }
};

// One Event from the server, decoded when its method is known.
struct Event {
  std::string method;  // "rooms.message", "rooms.updated", "rooms.typing",
                       // "receipts.updated", "sys.closing", ...
  Status status = Status::Ok;  // sys.closing: why
  std::string error;
  std::vector<uint8_t> payload;
  std::optional<Message> message;   // rooms.message
  std::optional<Room> room;         // rooms.updated
  std::optional<TypingEvent> typing;  // rooms.typing
  std::optional<Receipt> receipt;   // receipts.updated
  // True for a rooms.message fetched with rooms.history to fill a gap
  // (after a reconnect) rather than pushed live.
  bool catch_up = false;
};

enum class ConnectionState { Connected, Reconnecting, Disconnected };

// Why connect() failed, so that a program can tell its user what to do.
enum class ConnectFailure {
  None,
  Unreachable,     // DNS, TCP connect refused or timed out
  Certificate,     // the server's certificate did not verify
  Handshake,       // other TLS failure (e.g. ALPN refused, not TLS)
  Protocol,        // sys.hello refused or the server spoke nonsense
};

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 7443;
  bool tls = true;           // false only for `tls: off` listeners
  bool insecure = false;     // skip certificate verification (development)
  std::string ca_file;       // PEM file of CAs to trust instead of the system's
  std::string client_name = "parley-client/0.1";
  int connect_timeout_ms = 5000;
  int request_timeout_ms = 10000;  // default per-request timeout
  int ping_interval_ms = 30000;    // keep-alive when otherwise quiet
  bool auto_reconnect = true;
  int reconnect_min_ms = 100;
  int reconnect_max_ms = 5000;
  // Track rooms for gap-free delivery (a rooms.list after authenticating and
  // on every reconnect). Short-lived programs that ignore events may disable it.
  bool track_rooms = true;
};

class Client {
 public:
  explicit Client(Options options);
  ~Client();  // close()
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Handlers; set them before connect() (they may be replaced at any time).
  void on_event(std::function<void(const Event&)> handler);
  void on_state(std::function<void(ConnectionState, const std::string& why)> handler);
  // Called whenever a session is obtained or renewed (login, register,
  // resume, refresh — also the automatic ones on reconnect); persist it here.
  void on_session(std::function<void(const Session&)> handler);

  // Blocking: TCP connect, TLS handshake (ALPN parley/1), sys.hello. Starts
  // the I/O thread on success. On failure, failure() says what kind.
  Result<Welcome> connect();
  ConnectFailure failure() const;
  // Closes the connection and stops the I/O thread. Pending Requests complete
  // with Disconnected. Idempotent.
  void close();
  bool connected() const;
  // Where the next (re)connect goes; the current connection is not touched.
  void set_endpoint(const std::string& host, uint16_t port);
  // Drop the current connection as if the network failed (tests, and apps
  // that know the network changed). Reconnects when auto_reconnect is on.
  void drop_connection();

  // ---- generic Requests (pipelined; any thread) ----
  // timeout_ms <= 0: Options::request_timeout_ms. `done` runs on the I/O
  // thread exactly once.
  void call_async(const std::string& method, std::vector<uint8_t> payload,
                  std::function<void(Reply)> done, int timeout_ms = 0);
  std::future<Reply> call(const std::string& method, std::vector<uint8_t> payload = {},
                          int timeout_ms = 0);

  // ---- typed helpers: block until the Response (never call them from a
  // callback; they return FailedPrecondition if you do) ----
  Result<Empty> ping();
  // auth.* — register, login, resume and refresh remember the Session for
  // reconnects and report it to on_session.
  Result<Session> register_user(const std::string& phone, const std::string& password,
                                const std::string& display_name);
  Result<Session> login(const std::string& phone, const std::string& password);
  Result<Session> resume(const std::string& token, const std::string& refresh_token = "");
  Result<Session> refresh(const std::string& refresh_token);
  Result<Empty> logout();
  Result<User> whoami();
  Result<User> find_user(const std::string& phone);
  Result<User> update_profile(const std::string& display_name);
  // rooms.*
  Result<Room> open_direct(const std::string& peer_user_id);
  Result<Room> create_room(const std::string& name, const std::vector<std::string>& member_user_ids);
  Result<Room> get_room(const std::string& room_id);
  Result<std::vector<Room>> list_rooms();
  Result<Room> add_members(const std::string& room_id, const std::vector<std::string>& user_ids);
  Result<Room> remove_member(const std::string& room_id, const std::string& user_id);
  Result<Empty> leave(const std::string& room_id);
  // An empty client_msg_id gets a random one; pass your own to retry safely.
  Result<Message> send(const std::string& room_id, const std::string& text,
                       const std::string& client_msg_id = "");
  Result<MessageList> history(const std::string& room_id, uint64_t before_seq = 0,
                              uint64_t after_seq = 0, uint16_t limit = 0);
  Result<Empty> typing(const std::string& room_id, bool typing);
  // receipts.*
  Result<Empty> mark_delivered(const std::string& room_id, uint64_t seq);
  Result<Empty> mark_read(const std::string& room_id, uint64_t seq);
  Result<std::vector<Receipt>> receipts(const std::string& room_id);
  Result<std::vector<Unread>> unread();

  // The session in use (after login/register/resume/refresh), if any.
  std::optional<Session> session() const;
  // The highest seq of `room_id` delivered to on_event (or sent by this
  // client) so far; 0 when the room is not tracked.
  uint64_t last_seq(const std::string& room_id) const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// Payload builders and decoders, for call()/call_async() users. Each builder
// returns a finished FlatBuffer with the namespace's file identifier; each
// decoder verifies the payload and returns nullopt when it does not verify.
namespace codec {
std::vector<uint8_t> hello(const std::string& client_name);
std::vector<uint8_t> send(const std::string& room_id, const std::string& client_msg_id,
                          const std::string& text);
std::vector<uint8_t> history(const std::string& room_id, uint64_t before_seq,
                             uint64_t after_seq, uint16_t limit);
std::optional<Session> session(const std::vector<uint8_t>& payload);
std::optional<User> user(const std::vector<uint8_t>& payload);
std::optional<Room> room(const std::vector<uint8_t>& payload);
std::optional<std::vector<Room>> room_list(const std::vector<uint8_t>& payload);
std::optional<Message> message(const std::vector<uint8_t>& payload);
std::optional<MessageList> message_list(const std::vector<uint8_t>& payload);
std::optional<TypingEvent> typing_event(const std::vector<uint8_t>& payload);
std::optional<Receipt> receipt(const std::vector<uint8_t>& payload);
std::optional<std::vector<Receipt>> receipt_list(const std::vector<uint8_t>& payload);
std::optional<std::vector<Unread>> unread_list(const std::vector<uint8_t>& payload);
std::optional<Welcome> welcome(const std::vector<uint8_t>& payload);
}  // namespace codec

}  // namespace parley::client
