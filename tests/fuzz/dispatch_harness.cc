#include "dispatch_harness.h"

#include <flatbuffers/flatbuffers.h>
#include <parley/auth_generated.h>
#include <parley/envelope_generated.h>
#include <parley/rooms_generated.h>
#include <parley/sys_generated.h>
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "envelope_codec.h"
#include "host.h"
#include "log.h"

namespace parley::fuzz::dispatch {
namespace {

namespace fs = std::filesystem;

// A drain that takes longer than this is a request that is never answered
// (or a handler stuck): abort with the details, before libFuzzer's -timeout.
constexpr uint64_t kWatchdogNs = 8'000'000'000ull;

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "fuzz_dispatch: %s\n", why.c_str());
  std::fflush(stderr);
  std::abort();
}

std::string finished(flatbuffers::FlatBufferBuilder& fbb) {
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

// A verified root of T in `bytes` (copied to aligned memory first).
template <class T>
bool read_root(const std::string& bytes, const char* identifier, std::vector<uint64_t>* store,
               const T** out) {
  if (bytes.size() < 8) return false;
  store->assign((bytes.size() + 7) / 8, 0);
  auto* data = reinterpret_cast<const uint8_t*>(store->data());
  std::memcpy(store->data(), bytes.data(), bytes.size());
  flatbuffers::Verifier v(data, bytes.size());
  if (!v.VerifyBuffer<T>(identifier)) return false;
  *out = flatbuffers::GetRoot<T>(data);
  return true;
}

std::string str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

std::string exe_dir() {
  char buf[4096];
  size_t size = sizeof buf;
  if (uv_exepath(buf, &size) != 0) fail("uv_exepath failed");
  return fs::path(std::string(buf, size)).parent_path().string();
}

void remove_data_dir();
std::string g_data_dir;
void remove_data_dir() {
  std::error_code ec;
  if (!g_data_dir.empty()) fs::remove_all(g_data_dir, ec);
}

}  // namespace

// ------------------------------------------------------------------ Conn ---

Conn::Conn(Harness& h, std::string_view peer) : h_(h) {
  parley_virtual_ops ops{};
  ops.struct_size = sizeof ops;
  ops.write = &Conn::on_write;
  ops.close = &Conn::on_close;
  id_ = h_.server().open_virtual(ops, this, peer, "fuzz");
  if (id_ == 0) fail("open_virtual refused the connection");
}

Conn::~Conn() {
  if (!closed_) {
    closed_ = true;
    h_.server().virtual_gone(id_);
  }
  // Whatever the connection left running (handlers, storage) finishes now,
  // so that one input's work never spills into the next.
  drain();
}

uint64_t Conn::send(std::string_view method, std::string_view payload) {
  if (closed_) return 0;
  uint64_t id = next_request_++;
  auto frame = kernel::encode_frame(
      parley::Kind::Request, id, method, 0, "",
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()),
      kernel::FrameLayout::Standalone);
  sent_.push_back(id);
  h_.server().feed(id_, frame->envelope());
  return id;
}

void Conn::send_envelope(std::string_view bytes) {
  if (closed_) return;
  h_.server().feed(id_, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                 bytes.size()));
}

const Conn::Reply* Conn::reply(uint64_t id) const {
  auto it = replies_.find(id);
  return it == replies_.end() ? nullptr : &it->second;
}

void Conn::drain() {
  uv_loop_t* loop = h_.loop();
  const uint64_t start = uv_hrtime();
  int idle_unanswered = 0, blocking = 0;
  for (;;) {
    uv_run(loop, UV_RUN_NOWAIT);
    size_t missing = 0;
    if (!closed_)
      for (uint64_t id : sent_) missing += replies_.count(id) == 0;
    const size_t busy = h_.host_busy();
    if (missing == 0 && busy == 0) {
      if (std::getenv("PARLEY_FUZZ_VERBOSE"))
        std::fprintf(stderr, "conn %llu drained in %llu us, %d blocking passes\n",
                     static_cast<unsigned long long>(id_),
                     static_cast<unsigned long long>((uv_hrtime() - start) / 1000), blocking);
      return;
    }
    if (busy == 0) {
      // Nothing left in the host, yet a reply is missing: allow a few
      // passes for what is queued to be flushed, then it is lost.
      if (++idle_unanswered > 8)
        fail(std::to_string(missing) + " request(s) never answered on an open connection");
      continue;
    }
    idle_unanswered = 0;
    if (uv_hrtime() - start > kWatchdogNs)
      fail("still busy after 8 s: " + std::to_string(missing) + " reply(ies) missing, " +
           std::to_string(busy) + " request(s)/job(s) in the host");
    ++blocking;
    uv_run(loop, UV_RUN_ONCE);
  }
}

int64_t Conn::on_write(void* ud, const uint8_t* bytes, size_t len) {
  auto* self = static_cast<Conn*>(ud);
  // The kernel hands out an Envelope aligned to its own start (PROTOCOL §1).
  std::vector<uint64_t> aligned((len + 7) / 8);
  std::memcpy(aligned.data(), bytes, len);
  auto* data = reinterpret_cast<const uint8_t*>(aligned.data());
  flatbuffers::Verifier v(data, len);
  if (!parley::VerifyEnvelopeBuffer(v)) fail("the kernel wrote an Envelope that does not verify");
  const parley::Envelope* env = parley::GetEnvelope(data);
  if (env->kind() != parley::Kind::Response) return 0;  // events, sys.closing
  Reply r;
  r.status = static_cast<uint16_t>(env->status());
  r.method = str(env->method());
  if (env->payload()) r.payload.assign(reinterpret_cast<const char*>(env->payload()->data()),
                                       env->payload()->size());
  const uint64_t id = env->id();
  // PARLEY_FUZZ_VERBOSE=1: one line per reply (to check what seeds reach).
  static const bool verbose = std::getenv("PARLEY_FUZZ_VERBOSE") != nullptr;
  if (verbose)
    std::fprintf(stderr, "conn %llu reply %llu %s status=%u %s\n",
                 static_cast<unsigned long long>(self->id_), static_cast<unsigned long long>(id),
                 r.method.c_str(), r.status, str(env->error()).c_str());
  if (!self->replies_.emplace(id, r).second)
    fail("request " + std::to_string(id) + " (" + r.method + ") answered twice");
  if (r.status == 0) self->learn(r.method, r.payload);
  return 0;
}

void Conn::on_close(void* ud, uint16_t, const char*) { static_cast<Conn*>(ud)->closed_ = true; }

// Remembers rooms and sequence numbers from successful replies, so later
// requests of the same input can refer to them.
void Conn::learn(const std::string& method, const std::string& payload) {
  Context& ctx = h_.context();
  std::vector<uint64_t> store;
  if (method == "rooms.send") {
    const parley::rooms::Message* m = nullptr;
    if (read_root(payload, "PROM", &store, &m)) {
      ctx.last_room = str(m->room_id());
      ctx.last_seq = m->seq();
    }
  } else if (method.rfind("rooms.", 0) == 0) {
    const parley::rooms::Room* room = nullptr;
    if (read_root(payload, "PROM", &store, &room) && room->room_id()) {
      ctx.last_room = str(room->room_id());
      ctx.last_seq = room->last_seq();
    }
  }
}

// --------------------------------------------------------------- Harness ---

Harness& Harness::get() {
  // Never destroyed: the plugins stay loaded until the process exits
  // (libFuzzer exits from inside a run; a shutdown there would race it).
  static Harness* h = new Harness();
  return *h;
}

size_t Harness::host_busy() const {
  auto* host = kernel::host::Host::current();
  return host ? host->router.live_requests() + host->work.pending() : 0;
}

void Harness::reset_input_context() {
  ctx_.last_room.clear();
  ctx_.last_seq = 0;
}

Harness::Harness() {
  // Plugin logs would drown the fuzzer's output.
  log::configure(log::Level::Error, false);
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/parley-fuzz-dispatch-XXXXXX";
  if (!mkdtemp(tmpl.data())) fail("mkdtemp failed in " + tmpl);
  dir_ = g_data_dir = tmpl;
  std::atexit(remove_data_dir);

  std::string plugin_dir = exe_dir() + "/../lib/parley/plugins";
  if (const char* env = std::getenv("PARLEY_FUZZ_PLUGIN_DIR")) plugin_dir = env;
  // Cheap argon2 (hashing is not what is fuzzed), no login rate limit (the
  // setup user must always be able to log in again), RocksDB small and
  // without fsync, receipts flushed almost at once.
  const std::string yaml = dir_ + "/parley.yaml";
  std::ofstream(yaml) << "data_dir: " << dir_ << "\n"
                      << "plugin_dir: " << plugin_dir << "\n"
                      << "logging: {level: error}\n"
                      << "plugins:\n"
                      << "  persistence:\n"
                      << "    config: {durability: async, block_cache_mb: 1, write_buffer_mb: 1}\n"
                      << "  auth:\n"
                      << "    config: {argon2_memory_kib: 8, argon2_iterations: 1,\n"
                      << "             login_fail_per_phone: 1000000, login_fail_per_peer: 1000000,\n"
                      << "             token_ttl_ms: 31536000000}\n"
                      << "  rooms: {}\n"
                      << "  receipts:\n"
                      << "    config: {coalesce_ms: 1}\n"
                      << "  echo:\n"
                      << "    config: {prefix: 'echo: '}\n";
  std::string error;
  if (!kernel::load_config(yaml, {}, exe_dir(), &config_, &error)) fail("config: " + error);
  log::configure(log::Level::Error, false);

  uv_loop_init(&loop_);
  server_ = std::make_unique<kernel::Server>(&loop_, config_);
  host_ = std::make_unique<kernel::PluginHost>(*server_, config_);
  if (!host_->start(&error))
    fail("plugins did not start (" + error + "); build them first (plugin_dir " + plugin_dir +
         ", or set PARLEY_FUZZ_PLUGIN_DIR)");
  server_->set_dispatcher(&host_->dispatcher());
  methods_ = host_->dispatcher().methods();
  methods_.push_back("sys.hello");
  methods_.push_back("sys.ping");
  setup();
}

void Harness::hello(Conn& c) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(parley::sys::CreateHelloDirect(fbb, 1, "fuzz_dispatch"), "PSYS");
  uint64_t id = c.send("sys.hello", finished(fbb));
  c.drain();
  const Conn::Reply* r = c.reply(id);
  if (!r || r->status != 0) fail("sys.hello failed");
}

namespace {

// Runs an auth method that returns a Session; fills user id and tokens.
bool session_call(Conn& c, const char* method, const std::string& payload, std::string* user,
                  std::string* token, std::string* refresh) {
  uint64_t id = c.send(method, payload);
  c.drain();
  const Conn::Reply* r = c.reply(id);
  if (!r || r->status != 0) return false;
  std::vector<uint64_t> store;
  const parley::auth::Session* s = nullptr;
  if (!read_root(r->payload, "PAUT", &store, &s) || !s->user()) return false;
  if (user) *user = str(s->user()->user_id());
  if (token) *token = str(s->token());
  if (refresh) *refresh = str(s->refresh_token());
  return true;
}

}  // namespace

void Harness::authenticate(Conn& c) {
  flatbuffers::FlatBufferBuilder resume;
  resume.Finish(parley::auth::CreateResumeDirect(resume, ctx_.token.c_str()), "PAUT");
  if (session_call(c, "auth.resume", finished(resume), nullptr, nullptr, nullptr)) return;
  if (c.closed()) return;
  flatbuffers::FlatBufferBuilder login;
  login.Finish(parley::auth::CreateLoginDirect(login, ctx_.phone.c_str(), ctx_.password.c_str()),
               "PAUT");
  if (!session_call(c, "auth.login", finished(login), nullptr, &ctx_.token, &ctx_.refresh))
    fail("the setup user can neither resume nor log in");
}

// Two users (the setup user and a peer) and a group room of both.
void Harness::setup() {
  Conn c(*this, "fuzz:setup");
  hello(c);
  ctx_.phone = "+15550000001";
  ctx_.peer_phone = "+15550000002";
  ctx_.password = "fuzz-password-1";
  flatbuffers::FlatBufferBuilder peer;
  peer.Finish(parley::auth::CreateRegisterDirect(peer, ctx_.peer_phone.c_str(),
                                                 ctx_.password.c_str(), "Fuzz Peer"),
              "PAUT");
  if (!session_call(c, "auth.register", finished(peer), &ctx_.peer, nullptr, nullptr))
    fail("setup: auth.register (peer) failed");
  flatbuffers::FlatBufferBuilder me;
  me.Finish(parley::auth::CreateRegisterDirect(me, ctx_.phone.c_str(), ctx_.password.c_str(),
                                               "Fuzz User"),
            "PAUT");
  if (!session_call(c, "auth.register", finished(me), &ctx_.user, &ctx_.token, &ctx_.refresh))
    fail("setup: auth.register failed");

  flatbuffers::FlatBufferBuilder create;
  std::vector<flatbuffers::Offset<flatbuffers::String>> members = {
      create.CreateString(ctx_.peer)};
  create.Finish(parley::rooms::CreateCreateDirect(create, "fuzz room", &members), "PROM");
  uint64_t id = c.send("rooms.create", finished(create));
  c.drain();
  if (!c.reply(id) || c.reply(id)->status != 0) fail("setup: rooms.create failed");
  ctx_.room = ctx_.last_room;
  flatbuffers::FlatBufferBuilder send;
  send.Finish(parley::rooms::CreateSendDirect(send, ctx_.room.c_str(), "setup-1", "hello"),
              "PROM");
  id = c.send("rooms.send", finished(send));
  c.drain();
  if (!c.reply(id) || c.reply(id)->status != 0) fail("setup: rooms.send failed");
  reset_input_context();
}

}  // namespace parley::fuzz::dispatch
