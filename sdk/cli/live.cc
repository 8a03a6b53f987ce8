// The long-running commands: `tail` (every event, until Ctrl-C) and `chat`
// (one room: incoming messages above, a line editor below).
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>

#include "commands.h"
#include "format.h"
#include "json.h"
#include "terminal.h"

namespace parley::cli {

namespace {

std::string state_text(client::ConnectionState s, const std::string& why) {
  switch (s) {
    case client::ConnectionState::Connected: return "connected";
    case client::ConnectionState::Reconnecting: return "connection lost (" + why + "); reconnecting";
    case client::ConnectionState::Disconnected: return "disconnected (" + why + ")";
  }
  return why;
}

std::string event_json(const client::Event& e) {
  JsonObject o;
  o.add("event", e.method);
  if (e.message) o.add_raw("message", json_of(*e.message)).add("catch_up", e.catch_up);
  if (e.room) o.add_raw("room", json_of(*e.room));
  if (e.receipt) o.add_raw("receipt", json_of(*e.receipt));
  if (e.typing)
    o.add("room_id", e.typing->room_id).add("user_id", e.typing->user_id).add("typing", e.typing->typing);
  if (e.method == "sys.closing")
    o.add("status", client::status_name(e.status)).add("error", e.error);
  return o.str();
}

// Blocks SIGINT/SIGTERM in this and every thread started later (the client's
// I/O thread) so that wait_for_signal() receives them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace

int cmd_tail(Context& ctx, const Args&) {
  sigset_t stop = block_stop_signals();
  std::mutex out_mu;
  auto& c = ctx.connect(true, /*follow=*/true);
  std::map<std::string, std::string> titles;
  if (auto rooms = c.list_rooms(); rooms.ok())
    for (const auto& r : rooms.value) titles[r.room_id] = ctx.room_title(r);
  c.on_state([&](client::ConnectionState s, const std::string& why) {
    std::lock_guard lock(out_mu);
    if (ctx.json())
      out_line(JsonObject().add("event", "client.state").add("state", state_text(s, why)).str());
    else
      std::fprintf(stderr, "-- %s\n", state_text(s, why).c_str());
  });
  c.on_event([&](const client::Event& e) {
    std::lock_guard lock(out_mu);
    if (ctx.json()) {
      out_line(event_json(e));
      return;
    }
    if (e.message) {
      auto it = titles.find(e.message->room_id);
      std::string where = it != titles.end() ? it->second : e.message->room_id;
      out_line("[" + where + "] " + message_line(ctx, *e.message));
    } else if (e.room) {
      titles[e.room->room_id] = ctx.room_title(*e.room);
      out_line("[" + ctx.room_title(*e.room) + "] room updated: " +
               std::to_string(e.room->members.size()) + " members");
    } else if (e.receipt) {
      auto it = titles.find(e.receipt->room_id);
      out_line("[" + (it != titles.end() ? it->second : e.receipt->room_id) + "] " +
               ctx.name_of(e.receipt->user_id) + " read up to #" +
               std::to_string(e.receipt->read_seq));
    } else if (e.typing) {
      if (e.typing->typing) out_line(ctx.name_of(e.typing->user_id) + " is typing...");
    } else if (e.method == "sys.closing") {
      out_line(std::string("-- server closing the connection: ") + client::status_name(e.status) +
               " " + e.error);
    } else {
      out_line("-- " + e.method);
    }
  });
  if (!ctx.json()) std::fprintf(stderr, "-- following every event as %s; Ctrl-C to stop\n",
                                ctx.session().display_name.c_str());
  int sig = 0;
  sigwait(&stop, &sig);
  c.on_state(nullptr);  // our own close is not news
  c.close();
  return 0;
}

namespace {

// The chat screen: message lines scroll above a one-line editor.
class ChatScreen {
 public:
  explicit ChatScreen(bool tty) : tty_(tty) {}
  void print(const std::string& line) {
    std::lock_guard lock(mu_);
    if (tty_) {
      std::string s = "\r\033[K" + line + "\r\n" + prompt_line();
      std::fwrite(s.data(), 1, s.size(), stdout);
      std::fflush(stdout);
    } else {
      out_line(line);
    }
  }
  void redraw() {
    if (!tty_) return;
    std::lock_guard lock(mu_);
    std::string s = "\r\033[K" + prompt_line();
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
  }
  std::string& buffer() { return buf_; }
  std::mutex& mutex() { return mu_; }

 private:
  std::string prompt_line() const { return "> " + buf_; }
  bool tty_;
  std::mutex mu_;
  std::string buf_;
};

void erase_last_codepoint(std::string& s) {
  while (!s.empty()) {
    unsigned char c = static_cast<unsigned char>(s.back());
    s.pop_back();
    if ((c & 0xC0) != 0x80) break;
  }
}

}  // namespace

int cmd_chat(Context& ctx, const Args& args) {
  if (args.size() != 1) throw Failure(kExitUsage, "usage: parley chat ROOM");
  block_stop_signals();
  auto& c = ctx.connect(true, /*follow=*/true);
  client::Room room = ctx.resolve_room(args[0]);
  const std::string& room_id = room.room_id;
  RawMode raw;
  ChatScreen screen(raw.active());
  std::atomic<uint64_t> newest{room.last_seq};

  auto recent = c.history(room_id, 0, 0, 20);
  if (!ctx.json()) out_line("-- " + ctx.room_title(room) + " (" + room_id + ")" +
                            (raw.active() ? "; Enter sends, Ctrl-C or Ctrl-D quits" : ""));
  if (recent.ok())
    for (const auto& m : recent.value.messages)
      screen.print(ctx.json() ? json_of(m) : message_line(ctx, m));
  screen.redraw();

  c.on_state([&](client::ConnectionState s, const std::string& why) {
    if (!ctx.json()) screen.print("-- " + state_text(s, why));
  });
  c.on_event([&](const client::Event& e) {
    if (e.message && e.message->room_id == room_id) {
      newest = std::max<uint64_t>(newest, e.message->seq);
      screen.print(ctx.json() ? json_of(*e.message) : message_line(ctx, *e.message));
    } else if (e.typing && e.typing->room_id == room_id && e.typing->typing && !ctx.json()) {
      screen.print("-- " + ctx.name_of(e.typing->user_id) + " is typing...");
    }
  });

  uint64_t marked = 0;
  auto mark_read = [&] {
    uint64_t n = newest;
    if (n > marked && c.mark_read(room_id, n).ok()) marked = n;
  };
  auto send_line = [&](const std::string& text) {
    if (text.empty()) return;
    auto r = c.send(room_id, text);
    if (!r.ok()) {
      screen.print(std::string("-- not sent (") + client::status_name(r.status) + ": " + r.error +
                   ")");
      return;
    }
    newest = std::max<uint64_t>(newest, r.value.seq);
    screen.print(ctx.json() ? json_of(r.value) : message_line(ctx, r.value));
  };
  mark_read();

  if (!raw.active()) {
    // Not a terminal (a script or a pipe): one message per input line.
    std::string line;
    while (std::getline(std::cin, line)) {
      send_line(line);
      mark_read();
    }
    c.on_state(nullptr);
    c.close();
    return 0;
  }
  for (;;) {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    int n = ::poll(&p, 1, 500);
    if (n == 0) {
      mark_read();
      continue;
    }
    char buf[256];
    ssize_t got = ::read(STDIN_FILENO, buf, sizeof buf);
    if (got <= 0) break;
    bool quit = false;
    std::vector<std::string> to_send;
    {
      std::lock_guard lock(screen.mutex());
      std::string& b = screen.buffer();
      for (ssize_t i = 0; i < got; ++i) {
        unsigned char ch = static_cast<unsigned char>(buf[i]);
        if (ch == 3 || (ch == 4 && b.empty())) {
          quit = true;
          break;
        }
        if (ch == '\r' || ch == '\n') {
          if (!b.empty()) to_send.push_back(b);
          b.clear();
        }
        if (ch == 127 || ch == 8) erase_last_codepoint(b);
        else if (ch == 21) b.clear();
        else if (ch == 27) i += 2;  // skip ESC [ X (arrow keys)
        else if (ch >= 32) b += static_cast<char>(ch);
      }
    }
    if (quit) break;
    for (const auto& line : to_send) send_line(line);
    screen.redraw();
  }
  std::fputs("\r\n", stdout);
  mark_read();
  c.on_state(nullptr);
  c.close();
  return 0;
}

}  // namespace parley::cli
