#include "format.h"

#include <chrono>
#include <ctime>

#include "json.h"

namespace parley::cli {

uint64_t now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string relative_time(uint64_t t) {
  if (t == 0) return "-";
  const uint64_t now = now_ms();
  const uint64_t s = now > t ? (now - t) / 1000 : 0;
  if (s < 10) return "just now";
  if (s < 60) return std::to_string(s) + "s ago";
  if (s < 3600) return std::to_string(s / 60) + "m ago";
  if (s < 86400) return std::to_string(s / 3600) + "h ago";
  return std::to_string(s / 86400) + "d ago";
}

std::string clock_time(uint64_t t) {
  std::time_t secs = static_cast<std::time_t>(t / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M", &tm);
  return buf;
}

namespace {
size_t width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}
}  // namespace

std::string Table::str() const {
  std::vector<size_t> w;
  for (const auto& row : rows_)
    for (size_t i = 0; i < row.size(); ++i) {
      if (w.size() <= i) w.push_back(0);
      w[i] = std::max(w[i], width(row[i]));
    }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(w[i] - width(row[i]) + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

const char* kind_name(client::RoomKind k) {
  return k == client::RoomKind::Group ? "group" : "direct";
}

const char* role_name(client::Role r) {
  switch (r) {
    case client::Role::Owner: return "owner";
    case client::Role::Admin: return "admin";
    default: return "member";
  }
}

std::string json_of(const client::User& u) {
  return JsonObject()
      .add("user_id", u.user_id)
      .add("phone", u.phone)
      .add("display_name", u.display_name)
      .add("created_at", u.created_at)
      .str();
}

std::string json_of(const client::Room& r) {
  std::vector<std::string> members;
  for (const auto& m : r.members)
    members.push_back(JsonObject()
                          .add("user_id", m.user_id)
                          .add("role", role_name(m.role))
                          .add("joined_at", m.joined_at)
                          .str());
  return JsonObject()
      .add("room_id", r.room_id)
      .add("kind", kind_name(r.kind))
      .add("name", r.name)
      .add_raw("members", json_array(members))
      .add("created_at", r.created_at)
      .add("last_seq", r.last_seq)
      .str();
}

std::string json_of(const client::Message& m) {
  return JsonObject()
      .add("message_id", m.message_id)
      .add("room_id", m.room_id)
      .add("seq", m.seq)
      .add("sender_user_id", m.sender_user_id)
      .add("text", m.text)
      .add("created_at", m.created_at)
      .add("client_msg_id", m.client_msg_id)
      .str();
}

std::string json_of(const client::Unread& u) {
  return JsonObject()
      .add("room_id", u.room_id)
      .add("last_seq", u.last_seq)
      .add("read_seq", u.read_seq)
      .add("unread", u.unread)
      .str();
}

std::string json_of(const client::Receipt& r) {
  return JsonObject()
      .add("room_id", r.room_id)
      .add("user_id", r.user_id)
      .add("read_seq", r.read_seq)
      .add("delivered_seq", r.delivered_seq)
      .add("updated_at", r.updated_at)
      .str();
}

}  // namespace parley::cli
