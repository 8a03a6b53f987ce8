#include "hostile_util.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
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

HealthyClients::HealthyClients(const ServerProcess& server, int count)
    : server_(server), per_client_(count, 0) {
  for (int i = 0; i < count; ++i) threads_.emplace_back([this, i] { run(i); });
  // Wait until every client is registered and in its room, so the hostile
  // cases run against a loaded server.
  auto start = Clock::now();
  while (ready_.load() < count && ms_since(start) < 30000)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(ready_.load(), count) << "healthy clients did not all get ready";
}

HealthyClients::~HealthyClients() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void HealthyClients::run(int index) {
  auto note_error = [&](const std::string& what) {
    errors_.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu_);
    if (error_text_.size() < 10) error_text_.push_back(what);
  };
  std::string error;
  auto c = Client::connect("127.0.0.1", server_.port(), {}, &error);
  if (!c) {
    note_error("connect: " + error);
    ready_.fetch_add(1);
    return;
  }
  // hello/register/create by hand: EXPECT_* from threads would be fine in
  // gtest, but errors are counted here so the summary names them.
  Incoming hello = c->call("sys.hello", parley::test::hello_payload(1, "healthy"), 5000);
  if (!hello.ok()) note_error("hello: " + hello.error);
  User u = register_user(*c, "healthy " + std::to_string(index));
  std::string room = create_room(*c);
  ready_.fetch_add(1);
  uint64_t n = 0;
  while (!stop_.load()) {
    std::string msg_id = "h" + std::to_string(index) + "-" + std::to_string(n);
    auto p = payload("PROM", [&](flatbuffers::FlatBufferBuilder& fbb) {
      return parley::rooms::CreateSendDirect(fbb, room.c_str(), msg_id.c_str(), "still here");
    });
    Incoming r = c->call("rooms.send", p, 5000);
    if (!r.ok()) note_error("rooms.send: " + std::to_string(r.status) + " " + r.error);
    Incoming pong = c->call("sys.ping", std::span<const uint8_t>(), 5000);
    if (!pong.ok()) note_error("sys.ping: " + std::to_string(pong.status) + " " + pong.error);
    if (c->closed()) {
      note_error("closed: " + c->last_error());
      break;
    }
    ++n;
    requests_.fetch_add(2);
    // A modest rate: 20 clients must not starve a 2-core CI machine.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::lock_guard<std::mutex> lock(mu_);
  per_client_[index] = n;
}

int HealthyClients::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  for (size_t i = 0; i < per_client_.size(); ++i)
    EXPECT_GT(per_client_[i], 0u) << "healthy client " << i << " completed nothing";
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
