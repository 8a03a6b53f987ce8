#include "hostile_util.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <fstream>
#include <mutex>

namespace parley::hostile {

namespace afb = parley::auth;
namespace rfb = parley::rooms;

ServerOptions hostile_server_options() {
  ServerOptions o;
  o.plugins_yaml =
      "persistence: {config: {durability: sync}}\n"
      "auth: {config: {argon2_memory_kib: 8, argon2_iterations: 1}}\n"
      "rooms: {}\n";
  o.sets = {"limits.max_frame_bytes=" + std::to_string(kMaxFrameBytes),
            "limits.max_pending_bytes=" + std::to_string(kMaxPendingBytes),
            "timeouts.handshake_ms=" + std::to_string(kHandshakeMs),
            "timeouts.idle_ms=30000"};
  return o;
}

std::unique_ptr<ServerProcess> start_hostile_server() {
  std::string error;
  auto s = ServerProcess::start(hostile_server_options(), &error);
  EXPECT_TRUE(s) << error;
  return s;
}

std::unique_ptr<Client> connect_raw(const ServerProcess& server, ClientOptions options) {
  std::string error;
  auto c = Client::connect("127.0.0.1", server.port(), options, &error);
  EXPECT_TRUE(c) << error;
  return c;
}

std::unique_ptr<Client> connect_hello(const ServerProcess& server, ClientOptions options) {
  auto c = connect_raw(server, options);
  if (c) c->hello("hostile-test");
  return c;
}

User register_user(Client& c, const std::string& display_name) {
  static std::atomic<int> counter{0};
  char phone[32];
  std::snprintf(phone, sizeof phone, "+1%05d%05d", static_cast<int>(getpid() % 100000),
                counter.fetch_add(1));
  auto p = payload("PAUT", [&](flatbuffers::FlatBufferBuilder& fbb) {
    return afb::CreateRegisterDirect(fbb, phone, "correct horse battery", display_name.c_str());
  });
  Incoming r = c.call("auth.register", p, 10000);
  EXPECT_TRUE(r.ok()) << "auth.register: " << r.status << " " << r.error;
  User u;
  u.phone = phone;
  if (auto* s = parley::test::payload_as<afb::Session>(r, "PAUT")) {
    if (s->user() && s->user()->user_id()) u.id = s->user()->user_id()->str();
    if (s->token()) u.token = s->token()->str();
  }
  return u;
}

std::string create_room(Client& c, const std::vector<std::string>& members) {
  auto p = payload("PROM", [&](flatbuffers::FlatBufferBuilder& fbb) {
    std::vector<flatbuffers::Offset<flatbuffers::String>> ids;
    for (const auto& m : members) ids.push_back(fbb.CreateString(m));
    return rfb::CreateCreateDirect(fbb, "hostile room", &ids);
  });
  Incoming r = c.call("rooms.create", p, 10000);
  EXPECT_TRUE(r.ok()) << "rooms.create: " << r.status << " " << r.error;
  if (auto* room = parley::test::payload_as<rfb::Room>(r, "PROM"))
    if (room->room_id()) return room->room_id()->str();
  return "";
}

struct HealthyClients::Member {
  std::unique_ptr<Client> c;
  User user;
  std::string room;
  uint64_t last_seq = 0;  // of the room's rooms.message events seen
  uint64_t pending = 0;   // request id awaiting its answer
};

HealthyClients::HealthyClients(const ServerProcess& server, int count, int threads)
    : server_(server), sent_per_client_(count, 0), events_per_client_(count, 0) {
  // Rooms of four never straddle two threads.
  int per_thread = (count / threads + 3) / 4 * 4;
  for (int first = 0, t = 0; first < count; first += per_thread, ++t) {
    int n = std::min(per_thread, count - first);
    threads_.emplace_back([this, t, first, n] { run(t, first, n); });
  }
  // Wait until every client is registered and in its room, so the hostile
  // cases run against a loaded server.
  auto start = Clock::now();
  while (ready_.load() < count && ms_since(start) < 60000)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(ready_.load(), count) << "healthy clients did not all get ready";
}

HealthyClients::~HealthyClients() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void HealthyClients::note_error(const std::string& what) {
  errors_.fetch_add(1);
  std::lock_guard<std::mutex> lock(mu_);
  if (error_text_.size() < 10) error_text_.push_back(what);
}

void HealthyClients::run(int thread_index, int first, int count) {
  (void)thread_index;
  std::vector<Member> members(count);
  // Connect, hello, register (errors are counted here so the summary names
  // them; register_user EXPECTs as well).
  for (int i = 0; i < count; ++i) {
    std::string error;
    members[i].c = Client::connect("127.0.0.1", server_.port(), {}, &error);
    if (!members[i].c) {
      note_error("connect: " + error);
      ready_.fetch_add(count);
      return;
    }
    Incoming hello =
        members[i].c->call("sys.hello", parley::test::hello_payload(1, "healthy"), 10000);
    if (!hello.ok()) note_error("hello: " + hello.error);
    members[i].user = register_user(*members[i].c, "healthy " + std::to_string(first + i));
  }
  // Rooms of four: the first of each four creates it with the other three.
  for (int i = 0; i < count; i += 4) {
    std::vector<std::string> others;
    for (int j = i + 1; j < std::min(i + 4, count); ++j) others.push_back(members[j].user.id);
    std::string room = create_room(*members[i].c, others);
    if (room.empty()) note_error("rooms.create failed");
    for (int j = i; j < std::min(i + 4, count); ++j) members[j].room = room;
  }
  ready_.fetch_add(count);

  auto read_answers = [&](const char* what) {
    for (int i = 0; i < count; ++i) {
      Member& m = members[i];
      auto r = m.c->read_response(m.pending, 10000);
      if (!r) {
        note_error(std::string(what) + ": no answer (" + m.c->last_error() + ")");
      } else if (!r->ok()) {
        note_error(std::string(what) + ": " + std::to_string(r->status) + " " + r->error);
      } else {
        requests_.fetch_add(1);
      }
    }
  };
  uint64_t round = 0;
  while (!stop_.load()) {
    // Pipelined across clients: every client's request first, then the
    // answers, so one thread keeps 25 connections busy.
    for (int i = 0; i < count; ++i) {
      Member& m = members[i];
      std::string msg_id = "h" + std::to_string(first + i) + "-" + std::to_string(round);
      auto p = payload("PROM", [&](flatbuffers::FlatBufferBuilder& fbb) {
        return parley::rooms::CreateSendDirect(fbb, m.room.c_str(), msg_id.c_str(), "still here");
      });
      m.pending = m.c->send("rooms.send", p);
    }
    read_answers("rooms.send");
    for (int i = 0; i < count; ++i) ++sent_per_client_[first + i];
    if (round % 2 == 0) {
      for (auto& m : members) m.pending = m.c->send("sys.ping");
      read_answers("sys.ping");
    }
    for (int i = 0; i < count; ++i) {
      Member& m = members[i];
      for (const Incoming& ev : m.c->drain_events(0)) {
        if (ev.method != "rooms.message") continue;
        auto* msg = parley::test::payload_as<rfb::Message>(ev, "PROM");
        if (!msg) {
          note_error("rooms.message without a Message");
          continue;
        }
        if (msg->seq() <= m.last_seq)
          note_error("rooms.message out of order: seq " + std::to_string(msg->seq()) +
                     " after " + std::to_string(m.last_seq));
        m.last_seq = msg->seq();
        ++events_per_client_[first + i];
        events_.fetch_add(1);
      }
      if (m.c->closed()) note_error("closed: " + m.c->last_error());
      if (m.c->bad_frames() > 0) note_error("unverifiable frames");
    }
    if (errors_.load() > 50) break;  // enough to fail; do not spin on a dead server
    ++round;
    // A modest rate: 100 clients must not starve a 2-core CI machine.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

int HealthyClients::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  for (size_t i = 0; i < sent_per_client_.size(); ++i) {
    EXPECT_GT(sent_per_client_[i], 0u) << "healthy client " << i << " completed nothing";
    EXPECT_GT(events_per_client_[i], 0u) << "healthy client " << i << " received no message";
  }
  return errors_.load();
}

std::string HealthyClients::errors_text() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& e : error_text_) out += e + "\n";
  return out;
}

int fd_count(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

long rss_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

}  // namespace parley::hostile
