// The I/O thread: writes queued Requests, reads and dispatches frames,
// expires timeouts, pings, and reconnects with resume + catch-up.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>

#include "client_impl.h"

namespace parley::client {

namespace {

constexpr uint8_t kResponse = 1;
constexpr uint8_t kEvent = 2;

int ms_until(Clock::time_point t) {
  auto d = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
  return d < 0 ? 0 : static_cast<int>(std::min<long long>(d, 60000));
}

Reply reply_of(Incoming& in) {
  Reply r;
  r.status = static_cast<Status>(in.status);
  r.error = std::move(in.error);
  r.method = std::move(in.method);
  r.payload = std::move(in.payload);
  return r;
}

}  // namespace

Reply Client::Impl::exchange(const std::string& method, const std::vector<uint8_t>& payload,
                             std::vector<Incoming>* events) {
  uint64_t id;
  {
    std::lock_guard lock(mu);
    id = next_id++;
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(opts.request_timeout_ms);
  Reply fail;
  fail.status = Status::Disconnected;
  fail.method = method;
  std::vector<uint8_t> frame = encode_request(id, method, payload);
  size_t off = 0;
  while (off < frame.size()) {
    long n = conn->write(frame.data() + off, frame.size() - off);
    if (n < 0) {
      fail.error = conn->error();
      return fail;
    }
    off += static_cast<size_t>(n);
    if (n == 0) {
      pollfd p{conn->fd(), POLLOUT, 0};
      if (::poll(&p, 1, ms_until(deadline)) <= 0) {
        fail.status = Status::Timeout;
        fail.error = method + " timed out";
        return fail;
      }
    }
  }
  uint8_t buf[16384];
  for (;;) {
    bool bad = false;
    while (auto in = splitter.next(&bad)) {
      if (in->kind == kResponse && in->id == id) return reply_of(*in);
      if (in->kind == kEvent) events->push_back(std::move(*in));
    }
    if (bad) {
      fail.error = "the server sent a malformed frame";
      return fail;
    }
    long n = conn->read(buf, sizeof buf);
    if (n < 0) {
      fail.error = conn->error();
      return fail;
    }
    if (n > 0) {
      splitter.feed(buf, static_cast<size_t>(n));
      continue;
    }
    pollfd p{conn->fd(), static_cast<short>(POLLIN | (conn->wants_write() ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, ms_until(deadline)) <= 0) {
      fail.status = Status::Timeout;
      fail.error = method + " timed out";
      return fail;
    }
  }
}

void Client::Impl::run() {
  // OpenSSL writes with write(2): a peer reset would raise SIGPIPE in this
  // thread. Blocked here, the write fails with EPIPE instead.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  for (;;) {
    {
      std::lock_guard lock(mu);
      if (stopping) break;
    }
    if (!conn) {
      if (!opts.auto_reconnect || !reconnect()) {
        // Stay idle until close(): requests fail at once meanwhile.
        pollfd p{wake_fds[0], POLLIN, 0};
        ::poll(&p, 1, 1000);
        char drain[64];
        while (::read(wake_fds[0], drain, sizeof drain) > 0) {
        }
        continue;
      }
      continue;
    }
    pump();
  }
  if (conn) lost("the client was closed");
}

void Client::Impl::pump() {
  bool drop = false;
  {
    std::lock_guard lock(mu);
    while (!outbox.empty()) {
      wbuf.insert(wbuf.end(), outbox.front().begin(), outbox.front().end());
      outbox.pop_front();
    }
    drop = drop_requested;
    drop_requested = false;
  }
  if (drop) {
    lost("connection dropped by the application");
    return;
  }
  // Write what we can.
  while (woff < wbuf.size()) {
    long n = conn->write(wbuf.data() + woff, wbuf.size() - woff);
    if (n < 0) {
      lost(conn->error());
      return;
    }
    if (n == 0) break;
    woff += static_cast<size_t>(n);
    last_sent = Clock::now();
  }
  if (woff == wbuf.size()) {
    wbuf.clear();
    woff = 0;
  }
  // Read everything available, then dispatch.
  uint8_t buf[16384];
  std::string read_error;
  for (;;) {
    long n = conn->read(buf, sizeof buf);
    if (n < 0) {
      read_error = conn->error();
      break;
    }
    if (n == 0) break;
    splitter.feed(buf, static_cast<size_t>(n));
  }
  bool bad = false;
  while (auto in = splitter.next(&bad)) handle(std::move(*in));
  if (bad) {
    lost("the server sent a malformed frame");
    return;
  }
  if (!read_error.empty()) {
    lost(read_error);
    return;
  }
  expire_timeouts();

  // Keep-alive: the server closes connections idle for timeouts.idle_ms.
  auto ping_due = last_sent + std::chrono::milliseconds(opts.ping_interval_ms);
  if (Clock::now() >= ping_due) {
    last_sent = Clock::now();
    call_async("sys.ping", {}, [](Reply) {}, 0);
    return;
  }
  int timeout = ms_until(ping_due);
  {
    std::lock_guard lock(mu);
    for (const auto& [id, p] : pending) timeout = std::min(timeout, ms_until(p.deadline) + 1);
    if (!outbox.empty() || drop_requested || stopping) timeout = 0;
  }
  if (conn->has_buffered()) timeout = 0;
  pollfd fds[2] = {
      {conn->fd(),
       static_cast<short>(POLLIN | (woff < wbuf.size() || conn->wants_write() ? POLLOUT : 0)),
       0},
      {wake_fds[0], POLLIN, 0}};
  ::poll(fds, 2, timeout);
  if (fds[1].revents & POLLIN) {
    char drain[64];
    while (::read(wake_fds[0], drain, sizeof drain) > 0) {
    }
  }
}

void Client::Impl::expire_timeouts() {
  std::vector<Pending> expired;
  {
    std::lock_guard lock(mu);
    auto now = Clock::now();
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->second.deadline <= now) {
        expired.push_back(std::move(it->second));
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& p : expired) {
    Reply r;
    r.status = Status::Timeout;
    r.method = p.method;
    r.error = p.method + ": no response within the timeout";
    p.done(std::move(r));
  }
}

void Client::Impl::lost(const std::string& why) {
  conn.reset();
  splitter.clear();
  wbuf.clear();
  woff = 0;
  std::map<uint64_t, Pending> failed;
  bool reconnecting;
  {
    std::lock_guard lock(mu);
    connected = false;
    failed.swap(pending);
    outbox.clear();
    reconnecting = opts.auto_reconnect && !stopping && session.has_value();
  }
  {
    std::lock_guard lock(track_mu);
    tracker.abort_fetches();
  }
  for (auto& [id, p] : failed) {
    Reply r;
    r.status = Status::Disconnected;
    r.method = p.method;
    r.error = "connection lost before the response: " + why;
    p.done(std::move(r));
  }
  emit_state(reconnecting ? ConnectionState::Reconnecting : ConnectionState::Disconnected, why);
}

bool Client::Impl::reconnect() {
  int delay = opts.reconnect_min_ms;
  for (;;) {
    std::optional<Session> s;
    {
      std::lock_guard lock(mu);
      if (stopping) return false;
      s = session;
    }
    if (!s) return false;  // nothing to resume: the app reconnects itself
    ConnectError err;
    Options o;
    {
      std::lock_guard lock(mu);
      o = opts;
    }
    conn = Connection::open(o, &err);
    std::string why = err.message;
    if (conn) {
      std::vector<Incoming> events;
      Reply hello = exchange("sys.hello", codec::hello(o.client_name), &events);
      Reply auth;
      if (hello.ok()) auth = exchange("auth.resume", requests::resume(s->token), &events);
      if (hello.ok() && auth.status == Status::Unauthenticated && !s->refresh_token.empty())
        auth = exchange("auth.refresh", requests::refresh(s->refresh_token), &events);
      std::optional<Session> renewed = auth.ok() ? codec::session(auth.payload) : std::nullopt;
      if (renewed) {
        {
          std::lock_guard lock(mu);
          connected = true;
        }
        last_sent = Clock::now();
        emit_state(ConnectionState::Connected, "reconnected");
        adopt_session(*renewed);
        for (auto& e : events) handle(std::move(e));
        return true;
      }
      conn.reset();
      splitter.clear();
      if (hello.ok() && (auth.status == Status::Unauthenticated)) {
        {
          std::lock_guard lock(mu);
          session.reset();
        }
        emit_state(ConnectionState::Disconnected,
                   "the session expired or was revoked: " + auth.error);
        return false;
      }
      why = hello.ok() ? auth.error : hello.error;
    }
    emit_state(ConnectionState::Reconnecting, why);
    pollfd p{wake_fds[0], POLLIN, 0};
    ::poll(&p, 1, delay);
    char drain[64];
    while (::read(wake_fds[0], drain, sizeof drain) > 0) {
    }
    delay = std::min(delay * 2, opts.reconnect_max_ms);
  }
}

void Client::Impl::handle(Incoming in) {
  if (in.kind == kResponse) {
    std::optional<Pending> p;
    {
      std::lock_guard lock(mu);
      auto it = pending.find(in.id);
      if (it == pending.end()) return;  // timed out earlier
      p = std::move(it->second);
      pending.erase(it);
    }
    p->done(reply_of(in));
    return;
  }
  if (in.kind != kEvent) return;
  Event ev;
  ev.method = in.method;
  ev.status = static_cast<Status>(in.status);
  ev.error = in.error;
  ev.payload = std::move(in.payload);
  if (ev.method == "rooms.message") {
    auto m = codec::message(ev.payload);
    if (!m) return;
    if (!opts.track_rooms) {
      ev.message = std::move(m);
      emit_event(ev);
      return;
    }
    std::vector<Message> ready;
    std::optional<uint64_t> fetch_after;
    {
      std::lock_guard lock(track_mu);
      ready = tracker.offer(*m, deliverable(*m));
      fetch_after = tracker.start_fetch(m->room_id);
    }
    for (auto& msg : ready) {
      Event e;
      e.method = "rooms.message";
      e.message = std::move(msg);
      emit_event(e);
    }
    if (fetch_after) fetch_history(m->room_id, *fetch_after);
    return;
  }
  if (ev.method == "rooms.updated") {
    ev.room = codec::room(ev.payload);
    if (ev.room && opts.track_rooms) {
      std::lock_guard lock(track_mu);
      tracker.baseline(ev.room->room_id, ev.room->last_seq);
    }
  } else if (ev.method == "rooms.typing") {
    ev.typing = codec::typing_event(ev.payload);
  } else if (ev.method == "receipts.updated") {
    ev.receipt = codec::receipt(ev.payload);
  }
  emit_event(ev);
}

}  // namespace parley::client
