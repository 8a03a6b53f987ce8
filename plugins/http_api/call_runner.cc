#include "call_runner.h"

#include <parley/auth_generated.h>
#include <parley/envelope_generated.h>
#include <parley/plugin.hpp>
#include <parley/sys_generated.h>

namespace parley::http_api {

namespace {
constexpr uint64_t kHelloId = 1, kResumeId = 2, kCallId = 3;
}

struct CallRunner::Call {
  uint64_t id = 0;
  parley_conn_id conn = 0;
  std::string token, method;
  std::vector<uint8_t> payload;
  Done done;
  std::vector<std::string> server_methods;  // from the Welcome
  uint64_t awaiting = 0;        // the Request id whose Response is due
  bool have_response = false;   // a Response (or a close) arrived: step() handles it
  CallResult last;
  parley_timer_id timeout = 0;
};

namespace {

CallRunner* g_runner = nullptr;  // the loop thread only; timers carry call ids

void* id_ud(uint64_t id) { return reinterpret_cast<void*>(static_cast<uintptr_t>(id)); }
uint64_t ud_id(void* ud) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(ud)); }

std::vector<uint8_t> request_envelope(uint64_t id, const std::string& method,
                                      const std::vector<uint8_t>& payload) {
  flatbuffers::FlatBufferBuilder fbb;
  auto m = fbb.CreateString(method);
  auto p = fbb.CreateVector(payload);
  parley::EnvelopeBuilder e(fbb);
  e.add_kind(parley::Kind::Request);
  e.add_id(id);
  e.add_method(m);
  e.add_payload(p);
  parley::FinishEnvelopeBuffer(fbb, e.Finish());
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::vector<uint8_t> hello_payload() {
  flatbuffers::FlatBufferBuilder fbb;
  auto c = fbb.CreateString("parley-http-api");
  parley::sys::FinishHelloBuffer(fbb, parley::sys::CreateHello(fbb, 1, c));
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::vector<uint8_t> resume_payload(const std::string& token) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(parley::auth::CreateResumeDirect(fbb, token.c_str()), parley::auth::SessionIdentifier());
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

}  // namespace

CallRunner::CallRunner(parley_plugin* self, uint64_t timeout_ms)
    : self_(self), timeout_ms_(timeout_ms) {}

CallRunner::~CallRunner() {
  if (g_runner == this) g_runner = nullptr;
  std::vector<uint64_t> ids;
  for (auto& [id, c] : calls_) ids.push_back(id);
  for (uint64_t id : ids) finish(id, {PARLEY_STATUS_UNAVAILABLE, "the server is shutting down", {}, {}});
}

void CallRunner::run(const std::string& peer, const std::string& token, const std::string& method,
                     std::vector<uint8_t> payload, Done done) {
  uint64_t id = next_id_++;
  auto call = std::make_unique<Call>();
  Call* c = call.get();
  c->id = id;
  c->token = token;
  c->method = method;
  c->payload = std::move(payload);
  c->done = std::move(done);
  calls_.emplace(id, std::move(call));
  g_runner = this;
  static const parley_virtual_ops ops = {sizeof(parley_virtual_ops), &CallRunner::on_write,
                                         &CallRunner::on_close, {}};
  c->conn = api().conn_open_virtual(self_, &ops, c, peer.c_str(), "http");
  if (!c->conn) return finish(id, {PARLEY_STATUS_UNAVAILABLE, "the server is not accepting connections", {}, {}});
  c->timeout = api().timer_start(self_, timeout_ms_, 0, [](parley_timer_id, void* ud) {
    if (!g_runner) return;
    auto it = g_runner->calls_.find(ud_id(ud));
    if (it == g_runner->calls_.end()) return;
    it->second->timeout = 0;  // one-shot: ended by firing
    g_runner->finish(ud_id(ud), {PARLEY_STATUS_TIMEOUT, "the method did not answer in time", {}, {}});
  }, id_ud(id));
  c->awaiting = kHelloId;
  auto env = request_envelope(kHelloId, "sys.hello", hello_payload());
  api().conn_feed(c->conn, env.data(), env.size());
}

int64_t CallRunner::on_write(void* ud, const uint8_t* bytes, size_t len) {
  auto* c = static_cast<Call*>(ud);
  flatbuffers::Verifier v(bytes, len);
  if (!parley::VerifyEnvelopeBuffer(v)) return 0;
  const auto* e = parley::GetEnvelope(bytes);
  if (e->kind() != parley::Kind::Response || e->id() != c->awaiting || c->have_response) return 0;
  c->have_response = true;
  c->last.status = static_cast<uint16_t>(e->status());
  c->last.error = e->error() ? e->error()->str() : "";
  c->last.payload.clear();
  if (e->payload()) c->last.payload.assign(e->payload()->begin(), e->payload()->end());
  if (g_runner) g_runner->schedule(c->id);
  return 0;
}

void CallRunner::on_close(void* ud, uint16_t status, const char* message) {
  auto* c = static_cast<Call*>(ud);
  c->conn = 0;  // the kernel ended it
  if (!c->have_response) {
    c->have_response = true;
    c->awaiting = 0;
    c->last = {status ? status : static_cast<uint16_t>(PARLEY_STATUS_UNAVAILABLE),
               message && *message ? message : "the connection was closed", {}, {}};
  }
  if (g_runner) g_runner->schedule(c->id);
}

void CallRunner::schedule(uint64_t id) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return;
  api().timer_start(self_, 0, 0, [](parley_timer_id, void* ud) {
    if (g_runner) g_runner->step(ud_id(ud));
  }, id_ud(id));
}

void CallRunner::step(uint64_t id) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return;
  Call* c = it->second.get();
  if (!c->have_response) return;
  c->have_response = false;
  CallResult r = std::move(c->last);
  c->last = {};
  if (c->awaiting == 0 || !c->conn) return finish(id, std::move(r));
  if (c->awaiting == kCallId) return finish(id, std::move(r));
  if (r.status != PARLEY_STATUS_OK) {
    // A failed resume is the caller's token: Unauthenticated whatever the cause.
    if (c->awaiting == kResumeId && r.status != PARLEY_STATUS_RESOURCE_EXHAUSTED)
      r.status = PARLEY_STATUS_UNAUTHENTICATED;
    return finish(id, std::move(r));
  }
  if (c->awaiting == kHelloId) {
    flatbuffers::Verifier v(r.payload.data(), r.payload.size());
    if (v.VerifyBuffer<parley::sys::Welcome>(parley::sys::HelloIdentifier())) {
      const auto* w = flatbuffers::GetRoot<parley::sys::Welcome>(r.payload.data());
      if (w->methods())
        for (const auto* m : *w->methods()) c->server_methods.push_back(m->str());
    }
  }
  std::vector<uint8_t> env;
  if (c->awaiting == kHelloId && !c->token.empty()) {
    c->awaiting = kResumeId;
    env = request_envelope(kResumeId, "auth.resume", resume_payload(c->token));
  } else {
    c->awaiting = kCallId;
    env = request_envelope(kCallId, c->method, c->payload);
  }
  api().conn_feed(c->conn, env.data(), env.size());
}

void CallRunner::finish(uint64_t id, CallResult r) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return;
  std::unique_ptr<Call> c = std::move(it->second);
  calls_.erase(it);
  if (c->timeout) api().timer_stop(c->timeout);
  // The kernel makes no ops call after conn_virtual_gone: c may go now.
  if (c->conn) api().conn_virtual_gone(c->conn);
  Done done = std::move(c->done);
  r.server_methods = std::move(c->server_methods);
  c.reset();
  done(std::move(r));
}

}  // namespace parley::http_api
