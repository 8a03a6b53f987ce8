// Client's public methods and the pieces of Impl shared by all threads.
#include <fcntl.h>
#include <unistd.h>

#include <random>

#include "client_impl.h"

namespace parley::client {

namespace {

std::string random_client_msg_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string out(24, '0');
  for (auto& c : out) c = hex[rng() & 15];
  return out;
}

Reply disconnected(const std::string& method, const std::string& why) {
  Reply r;
  r.status = Status::Disconnected;
  r.method = method;
  r.error = why;
  return r;
}

// Turns a Reply into a typed Result with `decode`.
template <class T, class Decode>
Result<T> typed(Reply r, Decode decode) {
  Result<T> out;
  out.status = r.status;
  out.error = std::move(r.error);
  if (!out.ok()) return out;
  std::optional<T> v = decode(r.payload);
  if (!v) {
    out.status = Status::BadResponse;
    out.error = r.method + ": the response payload did not verify";
    return out;
  }
  out.value = std::move(*v);
  return out;
}

std::optional<Empty> empty(const std::vector<uint8_t>&) { return Empty{}; }

}  // namespace

// ------------------------------------------------------------------ Impl --

Client::Impl::Impl(Options o) : opts(std::move(o)) {
  if (::pipe2(wake_fds, O_NONBLOCK | O_CLOEXEC) != 0) wake_fds[0] = wake_fds[1] = -1;
}

Client::Impl::~Impl() {
  for (int fd : wake_fds)
    if (fd >= 0) ::close(fd);
}

void Client::Impl::wake() {
  char c = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fds[1], &c, 1);
}

void Client::Impl::call_async(const std::string& method, std::vector<uint8_t> payload,
                              std::function<void(Reply)> done, int timeout_ms) {
  if (timeout_ms <= 0) timeout_ms = opts.request_timeout_ms;
  {
    std::unique_lock lock(mu);
    if (!connected || stopping) {
      lock.unlock();
      done(disconnected(method, stopping ? "the client is closed"
                                         : "not connected to the server"));
      return;
    }
    uint64_t id = next_id++;
    pending[id] = {method, std::move(done),
                   Clock::now() + std::chrono::milliseconds(timeout_ms)};
    outbox.push_back(encode_request(id, method, payload));
  }
  wake();
}

Reply Client::Impl::call_sync(const std::string& method, std::vector<uint8_t> payload) {
  if (on_io_thread()) {
    Reply r;
    r.status = Status::FailedPrecondition;
    r.method = method;
    r.error = "blocking call from a Client callback; use call_async there";
    return r;
  }
  auto p = std::make_shared<std::promise<Reply>>();
  auto f = p->get_future();
  call_async(method, std::move(payload), [p](Reply r) { p->set_value(std::move(r)); }, 0);
  return f.get();
}

void Client::Impl::emit_state(ConnectionState s, const std::string& why) {
  std::function<void(ConnectionState, const std::string&)> h;
  {
    std::lock_guard lock(mu);
    h = state_handler;
  }
  if (h) h(s, why);
}

void Client::Impl::emit_event(const Event& e) {
  std::function<void(const Event&)> h;
  {
    std::lock_guard lock(mu);
    h = event_handler;
  }
  if (h) h(e);
}

void Client::Impl::adopt_session(const Session& in) {
  std::function<void(const Session&)> h;
  Session s = in;
  {
    std::lock_guard lock(mu);
    // auth.resume may answer without the refresh token: keep the one we have.
    if (s.refresh_token.empty() && session) s.refresh_token = session->refresh_token;
    session = s;
    h = session_handler;
  }
  {
    std::lock_guard lock(track_mu);
    self_user_id = s.user.user_id;
  }
  if (h) h(s);
  if (opts.track_rooms) track_room_list(true);
}

// rooms.list: rooms not yet tracked start at their last_seq on the first
// session; after a reconnect (fetch_missing) every room whose last_seq is past
// what was delivered gets a catch-up fetch, a room new to us from seq 0.
void Client::Impl::track_room_list(bool fetch_missing) {
  bool first;
  {
    std::lock_guard lock(track_mu);
    first = !had_session;
    had_session = true;
  }
  call_async("rooms.list", {}, [this, first, fetch_missing](Reply r) {
    if (!r.ok()) return;
    auto rooms = codec::room_list(r.payload);
    if (!rooms) return;
    std::vector<std::pair<std::string, uint64_t>> fetches;
    {
      std::lock_guard lock(track_mu);
      for (const auto& room : *rooms) {
        if (first) tracker.baseline(room.room_id, room.last_seq);
        else tracker.baseline(room.room_id, 0);
        if (!fetch_missing) continue;
        if (auto after = tracker.start_fetch(room.room_id, room.last_seq))
          fetches.emplace_back(room.room_id, *after);
      }
    }
    for (auto& [room, after] : fetches) fetch_history(room, after);
  }, 0);
}

void Client::Impl::fetch_history(const std::string& room_id, uint64_t after_seq) {
  call_async("rooms.history", codec::history(room_id, 0, after_seq, 200),
             [this, room_id](Reply r) {
               MessageList list;
               if (r.ok()) {
                 if (auto l = codec::message_list(r.payload)) list = std::move(*l);
               }
               bool again = false;
               std::vector<Message> ready;
               std::optional<uint64_t> next;
               {
                 std::lock_guard lock(track_mu);
                 ready = tracker.finish_fetch(
                     room_id, list.messages, list.has_more,
                     [this](const Message& m) { return deliverable(m); }, &again);
                 if (again) next = tracker.start_fetch(room_id, tracker.last(room_id) + 1);
               }
               for (auto& m : ready) {
                 Event e;
                 e.method = "rooms.message";
                 e.message = std::move(m);
                 e.catch_up = true;
                 emit_event(e);
               }
               if (next) fetch_history(room_id, *next);
             },
             0);
}

bool Client::Impl::deliverable(const Message& m) const {
  return !(m.sender_user_id == self_user_id && own_ids.count(m.client_msg_id) > 0);
}

void Client::Impl::own_message_sent(const Message& m) {
  std::vector<Message> ready;
  std::optional<uint64_t> fetch_after;
  {
    std::lock_guard lock(track_mu);
    ready = tracker.offer(m, false);
    fetch_after = tracker.start_fetch(m.room_id);
  }
  for (auto& msg : ready) {
    Event e;
    e.method = "rooms.message";
    e.message = std::move(msg);
    emit_event(e);
  }
  if (fetch_after) fetch_history(m.room_id, *fetch_after);
}

// ---------------------------------------------------------------- Client --

Client::Client(Options options) : impl_(std::make_shared<Impl>(std::move(options))) {}

Client::~Client() { close(); }

void Client::on_event(std::function<void(const Event&)> handler) {
  std::lock_guard lock(impl_->mu);
  impl_->event_handler = std::move(handler);
}

void Client::on_state(std::function<void(ConnectionState, const std::string&)> handler) {
  std::lock_guard lock(impl_->mu);
  impl_->state_handler = std::move(handler);
}

void Client::on_session(std::function<void(const Session&)> handler) {
  std::lock_guard lock(impl_->mu);
  impl_->session_handler = std::move(handler);
}

Result<Welcome> Client::connect() {
  Impl& d = *impl_;
  Result<Welcome> out;
  {
    std::lock_guard lock(d.mu);
    if (d.io.joinable() || d.stopping) {
      out.status = Status::FailedPrecondition;
      out.error = "connect() may be called once per Client";
      return out;
    }
  }
  ConnectError err;
  d.conn = Connection::open(d.opts, &err);
  if (!d.conn) {
    std::lock_guard lock(d.mu);
    d.failure = err.kind;
    out.status = Status::Disconnected;
    out.error = err.message;
    return out;
  }
  std::vector<Incoming> events;
  Reply r = d.exchange("sys.hello", codec::hello(d.opts.client_name), &events);
  out = typed<Welcome>(std::move(r), codec::welcome);
  if (!out.ok()) {
    d.conn.reset();
    std::lock_guard lock(d.mu);
    d.failure = out.status == Status::Disconnected ? ConnectFailure::Handshake
                                                    : ConnectFailure::Protocol;
    if (out.error.empty()) out.error = "the server refused sys.hello";
    return out;
  }
  {
    std::lock_guard lock(d.mu);
    d.connected = true;
    d.failure = ConnectFailure::None;
  }
  d.last_sent = Clock::now();
  d.io = std::thread([&d] { d.run(); });
  d.io_id = d.io.get_id();  // atomic: callbacks on the new thread read it
  return out;
}

ConnectFailure Client::failure() const {
  std::lock_guard lock(impl_->mu);
  return impl_->failure;
}

void Client::close() {
  Impl& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    d.stopping = true;
  }
  d.wake();
  if (d.io.joinable() && !d.on_io_thread()) d.io.join();
}

bool Client::connected() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connected;
}

void Client::set_endpoint(const std::string& host, uint16_t port) {
  std::lock_guard lock(impl_->mu);
  impl_->opts.host = host;
  impl_->opts.port = port;
}

void Client::drop_connection() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->drop_requested = true;
  }
  impl_->wake();
}

void Client::call_async(const std::string& method, std::vector<uint8_t> payload,
                        std::function<void(Reply)> done, int timeout_ms) {
  impl_->call_async(method, std::move(payload), std::move(done), timeout_ms);
}

std::future<Reply> Client::call(const std::string& method, std::vector<uint8_t> payload,
                                int timeout_ms) {
  auto p = std::make_shared<std::promise<Reply>>();
  auto f = p->get_future();
  impl_->call_async(method, std::move(payload),
                    [p](Reply r) { p->set_value(std::move(r)); }, timeout_ms);
  return f;
}

Result<Empty> Client::ping() { return typed<Empty>(impl_->call_sync("sys.ping", {}), empty); }

// Auth methods that yield a Session adopt it on the I/O thread before the
// caller sees the Result, so events after it are already tracked.
namespace {
Result<Session> session_call(Client::Impl& d, const std::string& method,
                             std::vector<uint8_t> payload) {
  if (d.on_io_thread()) {
    return typed<Session>(d.call_sync(method, {}), codec::session);
  }
  auto p = std::make_shared<std::promise<Reply>>();
  auto f = p->get_future();
  d.call_async(method, std::move(payload), [&d, p](Reply r) {
    if (r.ok()) {
      if (auto s = codec::session(r.payload)) d.adopt_session(*s);
    }
    p->set_value(std::move(r));
  }, 0);
  return typed<Session>(f.get(), codec::session);
}
}  // namespace

Result<Session> Client::register_user(const std::string& phone, const std::string& password,
                                      const std::string& display_name) {
  return session_call(*impl_, "auth.register",
                      requests::register_user(phone, password, display_name));
}

Result<Session> Client::login(const std::string& phone, const std::string& password) {
  return session_call(*impl_, "auth.login", requests::login(phone, password));
}

Result<Session> Client::resume(const std::string& token, const std::string& refresh_token) {
  auto r = session_call(*impl_, "auth.resume", requests::resume(token));
  if (r.ok() && !refresh_token.empty() && r.value.refresh_token.empty()) {
    // The Resume response may omit the refresh token; keep ours for later.
    r.value.refresh_token = refresh_token;
    std::lock_guard lock(impl_->mu);
    if (impl_->session) impl_->session->refresh_token = refresh_token;
  }
  return r;
}

Result<Session> Client::refresh(const std::string& refresh_token) {
  return session_call(*impl_, "auth.refresh", requests::refresh(refresh_token));
}

Result<Empty> Client::logout() {
  auto r = typed<Empty>(impl_->call_sync("auth.logout", {}), empty);
  if (r.ok()) {
    std::lock_guard lock(impl_->mu);
    impl_->session.reset();
  }
  return r;
}

Result<User> Client::whoami() {
  return typed<User>(impl_->call_sync("auth.whoami", {}), codec::user);
}

Result<User> Client::find_user(const std::string& phone) {
  return typed<User>(impl_->call_sync("auth.find_user", requests::find_user(phone)),
                     codec::user);
}

Result<User> Client::update_profile(const std::string& display_name) {
  return typed<User>(impl_->call_sync("auth.update_profile", requests::profile(display_name)),
                     codec::user);
}

Result<Room> Client::open_direct(const std::string& peer_user_id) {
  return typed<Room>(impl_->call_sync("rooms.open_direct", requests::open_direct(peer_user_id)),
                     codec::room);
}

Result<Room> Client::create_room(const std::string& name,
                                 const std::vector<std::string>& member_user_ids) {
  return typed<Room>(impl_->call_sync("rooms.create", requests::create(name, member_user_ids)),
                     codec::room);
}

Result<Room> Client::get_room(const std::string& room_id) {
  return typed<Room>(impl_->call_sync("rooms.get", requests::room_ref(room_id)), codec::room);
}

Result<std::vector<Room>> Client::list_rooms() {
  return typed<std::vector<Room>>(impl_->call_sync("rooms.list", {}), codec::room_list);
}

Result<Room> Client::add_members(const std::string& room_id,
                                 const std::vector<std::string>& user_ids) {
  return typed<Room>(
      impl_->call_sync("rooms.add_members", requests::add_members(room_id, user_ids)),
      codec::room);
}

Result<Room> Client::remove_member(const std::string& room_id, const std::string& user_id) {
  return typed<Room>(
      impl_->call_sync("rooms.remove_member", requests::remove_member(room_id, user_id)),
      codec::room);
}

Result<Empty> Client::leave(const std::string& room_id) {
  return typed<Empty>(impl_->call_sync("rooms.leave", requests::room_ref(room_id)), empty);
}

Result<Message> Client::send(const std::string& room_id, const std::string& text,
                             const std::string& client_msg_id) {
  Impl& d = *impl_;
  const std::string cmid = client_msg_id.empty() ? random_client_msg_id() : client_msg_id;
  {
    std::lock_guard lock(d.track_mu);
    d.own_ids.insert(cmid);
  }
  if (d.on_io_thread()) return typed<Message>(d.call_sync("rooms.send", {}), codec::message);
  auto p = std::make_shared<std::promise<Reply>>();
  auto f = p->get_future();
  d.call_async("rooms.send", codec::send(room_id, cmid, text), [&d, p](Reply r) {
    if (r.ok() && d.opts.track_rooms) {
      if (auto m = codec::message(r.payload)) d.own_message_sent(*m);
    }
    p->set_value(std::move(r));
  }, 0);
  return typed<Message>(f.get(), codec::message);
}

Result<MessageList> Client::history(const std::string& room_id, uint64_t before_seq,
                                    uint64_t after_seq, uint16_t limit) {
  return typed<MessageList>(
      impl_->call_sync("rooms.history", codec::history(room_id, before_seq, after_seq, limit)),
      codec::message_list);
}

Result<Empty> Client::typing(const std::string& room_id, bool typing) {
  return typed<Empty>(impl_->call_sync("rooms.typing", requests::typing(room_id, typing)),
                      empty);
}

Result<Empty> Client::mark_delivered(const std::string& room_id, uint64_t seq) {
  return typed<Empty>(
      impl_->call_sync("receipts.mark_delivered", requests::mark(room_id, seq)), empty);
}

Result<Empty> Client::mark_read(const std::string& room_id, uint64_t seq) {
  return typed<Empty>(impl_->call_sync("receipts.mark_read", requests::mark(room_id, seq)),
                      empty);
}

Result<std::vector<Receipt>> Client::receipts(const std::string& room_id) {
  return typed<std::vector<Receipt>>(
      impl_->call_sync("receipts.get", requests::receipts_ref(room_id)), codec::receipt_list);
}

Result<std::vector<Unread>> Client::unread() {
  return typed<std::vector<Unread>>(impl_->call_sync("receipts.unread", {}),
                                    codec::unread_list);
}

std::optional<Session> Client::session() const {
  std::lock_guard lock(impl_->mu);
  return impl_->session;
}

uint64_t Client::last_seq(const std::string& room_id) const {
  std::lock_guard lock(impl_->track_mu);
  return impl_->tracker.last(room_id);
}

}  // namespace parley::client
