// tvirt: a virtual connection round trip. tvirt.roundtrip opens a virtual
// connection, feeds it sys.hello and a tvirt.inner request as Envelope
// buffers, and answers with what came back through ops->write.
#include <parley/envelope_generated.h>
#include <parley/sys_generated.h>

#include <memory>

#include "test_text.hpp"

using ptest::bytes;
using ptest::text;

namespace {

std::vector<uint8_t> request(uint64_t id, const char* method,
                             const std::vector<uint8_t>& payload) {
  flatbuffers::FlatBufferBuilder fbb;
  auto m = fbb.CreateString(method);
  auto p = fbb.CreateVector(payload);
  parley::EnvelopeBuilder b(fbb);
  b.add_kind(parley::Kind::Request);
  b.add_id(id);
  b.add_method(m);
  b.add_payload(p);
  fbb.Finish(b.Finish(), "PRLY");
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::vector<uint8_t> hello() {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(parley::sys::CreateHello(fbb, 1, fbb.CreateString("tvirt")), "PSYS");
  return request(1, "sys.hello", {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()});
}

}  // namespace

class TVirt : public parley::Plugin {
 public:
  static constexpr const char* kName = "tvirt";
  static constexpr const char* kVersion = "0.0.1";

  struct Session {
    TVirt* plugin;
    parley::Deferred outer;
    parley_conn_id id = 0;
    std::string seen;  // "method/status" of each frame written to us
    bool closed = false;
  };

  void init(const parley::Config&) override {
    method("tvirt.inner", [](parley::Request& req, parley::span<const uint8_t> p) {
      req.reply(bytes("inner:" + text(p) + ":" + std::string(req.user().empty() ? "anon" : "user")));
    }, PARLEY_METHOD_PUBLIC);

    method("tvirt.roundtrip", [this](parley::Request& req, parley::span<const uint8_t>) {
      auto s = std::make_shared<Session>();
      s->plugin = this;
      s->outer = req.defer();
      parley_virtual_ops ops{};
      ops.struct_size = sizeof ops;
      ops.write = [](void* ud, const uint8_t* b, size_t n) -> int64_t {
        auto* s = static_cast<Session*>(ud);
        flatbuffers::Verifier v(b, n);
        if (!parley::VerifyEnvelopeBuffer(v)) return PARLEY_EINVAL;
        auto* env = parley::GetEnvelope(b);
        std::string m = env->method() ? env->method()->str() : "";
        s->seen += m + "/" + std::to_string(static_cast<int>(env->status())) + " ";
        if (m == "tvirt.inner" && env->payload()) {
          std::string body(reinterpret_cast<const char*>(env->payload()->data()),
                           env->payload()->size());
          s->outer.reply(bytes(s->seen + "| " + body));
          // Close from the loop, not from inside write().
          auto* plugin = s->plugin;
          parley_conn_id id = s->id;
          plugin->pending_.push_back(plugin->timer(0, 0, [id] {
            parley::api().conn_close(id, PARLEY_STATUS_OK, "done");
          }));
        }
        return 0;
      };
      ops.close = [](void* ud, uint16_t, const char*) {
        auto* s = static_cast<Session*>(ud);
        s->closed = true;
        s->plugin->closes_++;
      };
      s->id = parley::api().conn_open_virtual(self(), &ops, s.get(), "virtual:1", "tvirt");
      if (!s->id) return (void)s->outer.error(PARLEY_STATUS_UNAVAILABLE, "open_virtual refused");
      sessions_.push_back(s);
      auto h = hello();
      int rc = parley::api().conn_feed(s->id, h.data(), h.size());
      std::string x = "x";
      auto r = request(7, "tvirt.inner", std::vector<uint8_t>(x.begin(), x.end()));
      if (rc == 0) rc = parley::api().conn_feed(s->id, r.data(), r.size());
      if (rc != 0) s->outer.error(PARLEY_STATUS_INTERNAL, parley_strerror(rc));
    }, PARLEY_METHOD_PUBLIC);

    method("tvirt.closes", [this](parley::Request& req, parley::span<const uint8_t>) {
      req.reply(bytes("closes=" + std::to_string(closes_)));
    }, PARLEY_METHOD_PUBLIC);
  }

 private:
  std::vector<std::shared_ptr<Session>> sessions_;
  std::vector<parley::Timer> pending_;
  int closes_ = 0;
};

PARLEY_PLUGIN(TVirt)
