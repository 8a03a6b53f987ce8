#include "commands.h"

#include <cstdio>
#include <map>

#include "format.h"
#include "json.h"
#include "terminal.h"

namespace parley::cli {

void out_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

std::string flag_value(const Args& args, const std::string& flag, bool required) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == flag) {
      if (i + 1 >= args.size()) throw Failure(kExitUsage, flag + " needs a value");
      return args[i + 1];
    }
  }
  if (required) throw Failure(kExitUsage, "missing " + flag);
  return "";
}

uint64_t parse_u64(const std::string& s, const std::string& what) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || s[0] == '-')
    throw Failure(kExitUsage, what + " must be a non-negative number, got '" + s + "'");
  return v;
}

std::string message_line(Context& ctx, const client::Message& m) {
  char seq[32];
  std::snprintf(seq, sizeof seq, "#%-4llu", static_cast<unsigned long long>(m.seq));
  return std::string(seq) + " " + clock_time(m.created_at) + "  " + ctx.name_of(m.sender_user_id) +
         ": " + m.text;
}

namespace {

// Positional arguments: everything that is not a --flag or its value.
Args positionals(const Args& args) {
  Args out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) == 0) {
      ++i;
      continue;
    }
    out.push_back(args[i]);
  }
  return out;
}

void print_session_user(Context& ctx, const client::Session& s, const std::string& verb) {
  if (ctx.json()) {
    out_line(JsonObject()
                 .add_raw("user", json_of(s.user))
                 .add("token_expires_at", s.token_expires_at)
                 .str());
  } else {
    out_line(verb + " as " + s.user.display_name + " (" + s.user.phone + ").");
  }
}

}  // namespace

int cmd_register(Context& ctx, const Args& args) {
  const std::string phone = flag_value(args, "--phone", true);
  const std::string name = flag_value(args, "--name", true);
  const std::string pw = read_password("Choose a password (8+ characters): ");
  auto& c = ctx.connect(false);
  auto r = c.register_user(phone, pw, name);
  if (r.status == client::Status::AlreadyExists)
    throw Failure(kExitRefused, "the number " + phone +
                                    " is already registered. Log in instead: parley login --phone " +
                                    phone);
  client::Session s = ctx.check(std::move(r), "registering " + phone);
  ctx.save(s);
  print_session_user(ctx, s, "Registered and logged in");
  return 0;
}

int cmd_login(Context& ctx, const Args& args) {
  const std::string phone = flag_value(args, "--phone", true);
  const std::string pw = read_password("Password for " + phone + ": ");
  auto& c = ctx.connect(false);
  auto r = c.login(phone, pw);
  if (r.status == client::Status::Unauthenticated)
    throw Failure(kExitSession, "wrong phone number or password for " + phone + ".");
  client::Session s = ctx.check(std::move(r), "logging in");
  ctx.save(s);
  print_session_user(ctx, s, "Logged in");
  return 0;
}

int cmd_logout(Context& ctx, const Args&) {
  if (!load_session()) {
    if (ctx.json()) out_line(JsonObject().add("logged_out", false).str());
    else out_line("Not logged in.");
    return 0;
  }
  try {
    auto& c = ctx.connect(true);
    ctx.check(c.logout(), "logging out");
  } catch (const Failure& f) {
    // An expired session is as good as logged out; other failures leave the
    // local session in place so the user can retry.
    if (f.code != kExitSession) throw;
  }
  ctx.forget_session();
  if (ctx.json()) out_line(JsonObject().add("logged_out", true).str());
  else out_line("Logged out.");
  return 0;
}

int cmd_whoami(Context& ctx, const Args&) {
  auto& c = ctx.connect(true);
  client::User u = ctx.check(c.whoami(), "whoami");
  if (ctx.json()) {
    out_line(json_of(u));
  } else {
    Table t({"NAME", "PHONE", "USER ID", "JOINED", "SERVER"});
    t.add({u.display_name, u.phone, u.user_id, relative_time(u.created_at), ctx.globals().server});
    std::fputs(t.str().c_str(), stdout);
  }
  return 0;
}

int cmd_rooms(Context& ctx, const Args&) {
  auto& c = ctx.connect(true);
  auto rooms = ctx.check(c.list_rooms(), "listing rooms");
  if (ctx.json()) {
    for (const auto& r : rooms) out_line(json_of(r));
    return 0;
  }
  if (rooms.empty()) {
    out_line("No rooms yet. Start one: parley dm +PHONE, or parley group NAME +PHONE...");
    return 0;
  }
  std::map<std::string, uint64_t> unread;
  if (auto u = c.unread(); u.ok())
    for (const auto& x : u.value) unread[x.room_id] = x.unread;
  Table t({"ROOM", "KIND", "NAME", "MEMBERS", "MESSAGES", "UNREAD", "CREATED"});
  for (const auto& r : rooms)
    t.add({r.room_id, kind_name(r.kind), ctx.room_title(r), std::to_string(r.members.size()),
           std::to_string(r.last_seq), std::to_string(unread[r.room_id]),
           relative_time(r.created_at)});
  std::fputs(t.str().c_str(), stdout);
  return 0;
}

int cmd_dm(Context& ctx, const Args& args) {
  Args pos = positionals(args);
  if (pos.size() != 1) throw Failure(kExitUsage, "usage: parley dm PHONE");
  auto& c = ctx.connect(true);
  client::User peer = ctx.find_user(pos[0]);
  client::Room r = ctx.check(c.open_direct(peer.user_id), "opening a direct room");
  if (ctx.json()) out_line(json_of(r));
  else out_line("Direct room with " + peer.display_name + " (" + peer.phone + "): " + r.room_id);
  return 0;
}

int cmd_group(Context& ctx, const Args& args) {
  Args pos = positionals(args);
  if (pos.size() < 1) throw Failure(kExitUsage, "usage: parley group NAME PHONE...");
  auto& c = ctx.connect(true);
  std::vector<std::string> ids;
  for (size_t i = 1; i < pos.size(); ++i) ids.push_back(ctx.find_user(pos[i]).user_id);
  client::Room r = ctx.check(c.create_room(pos[0], ids), "creating the group");
  if (ctx.json()) out_line(json_of(r));
  else
    out_line("Group '" + r.name + "' with " + std::to_string(r.members.size()) +
             " members: " + r.room_id);
  return 0;
}

int cmd_send(Context& ctx, const Args& args) {
  if (args.size() < 2) throw Failure(kExitUsage, "usage: parley send ROOM TEXT");
  std::string text = args[1];
  for (size_t i = 2; i < args.size(); ++i) text += " " + args[i];
  auto& c = ctx.connect(true);
  client::Room room = ctx.resolve_room(args[0]);
  client::Message m = ctx.check(c.send(room.room_id, text), "sending");
  if (ctx.json()) out_line(json_of(m));
  else out_line("Sent #" + std::to_string(m.seq) + " to " + ctx.room_title(room) + ".");
  return 0;
}

int cmd_history(Context& ctx, const Args& args) {
  Args pos = positionals(args);
  if (pos.size() != 1)
    throw Failure(kExitUsage, "usage: parley history ROOM [--before SEQ] [--after SEQ] [--limit N]");
  std::string before = flag_value(args, "--before", false);
  std::string after = flag_value(args, "--after", false);
  std::string limit = flag_value(args, "--limit", false);
  uint64_t lim = limit.empty() ? 0 : parse_u64(limit, "--limit");
  if (lim > 200) lim = 200;
  auto& c = ctx.connect(true);
  client::Room room = ctx.resolve_room(pos[0]);
  auto list = ctx.check(
      c.history(room.room_id, before.empty() ? 0 : parse_u64(before, "--before"),
                after.empty() ? 0 : parse_u64(after, "--after"), static_cast<uint16_t>(lim)),
      "reading history");
  if (ctx.json()) {
    for (const auto& m : list.messages) out_line(json_of(m));
    return 0;
  }
  if (list.messages.empty()) out_line("(no messages)");
  for (const auto& m : list.messages) out_line(message_line(ctx, m));
  if (list.has_more && !list.messages.empty())
    out_line("(more: parley history " + pos[0] + " --before " +
             std::to_string(list.messages.front().seq) + ")");
  return 0;
}

int cmd_read(Context& ctx, const Args& args) {
  Args pos = positionals(args);
  if (pos.empty() || pos.size() > 2) throw Failure(kExitUsage, "usage: parley read ROOM [SEQ]");
  auto& c = ctx.connect(true);
  client::Room room = ctx.resolve_room(pos[0]);
  uint64_t seq = pos.size() == 2 ? parse_u64(pos[1], "SEQ") : room.last_seq;
  ctx.check(c.mark_read(room.room_id, seq), "marking read");
  if (seq > room.last_seq) seq = room.last_seq;  // the server clamps it too
  if (ctx.json()) out_line(JsonObject().add("room_id", room.room_id).add("seq", seq).str());
  else out_line("Marked " + ctx.room_title(room) + " read up to #" + std::to_string(seq) + ".");
  return 0;
}

int cmd_unread(Context& ctx, const Args&) {
  auto& c = ctx.connect(true);
  auto list = ctx.check(c.unread(), "reading unread counts");
  if (ctx.json()) {
    for (const auto& u : list) out_line(json_of(u));
    return 0;
  }
  std::map<std::string, std::string> titles;
  if (auto rooms = c.list_rooms(); rooms.ok())
    for (const auto& r : rooms.value) titles[r.room_id] = ctx.room_title(r);
  Table t({"ROOM", "NAME", "UNREAD", "LAST SEQ", "READ SEQ"});
  uint64_t total = 0;
  for (const auto& u : list) {
    total += u.unread;
    t.add({u.room_id, titles[u.room_id], std::to_string(u.unread), std::to_string(u.last_seq),
           std::to_string(u.read_seq)});
  }
  if (list.empty()) {
    out_line("No rooms yet.");
    return 0;
  }
  std::fputs(t.str().c_str(), stdout);
  out_line(std::to_string(total) + " unread in total.");
  return 0;
}

}  // namespace parley::cli
