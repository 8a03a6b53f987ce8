// Test plugin: uses the `auth` service v1 the way rooms does, so the
// integration tests can check it through the protocol.
//   authprobe.find: FindUser (PAUT). `phone` holds a phone number, or a user
//   id when it is 36 characters long. Answers User (PAUT) or NotFound.
// Configure: plugins: {authprobe: {path: <test-plugins>/libauthprobe.so}}.
#include <parley/auth_generated.h>

#include <memory>
#include <string>

#include "parley/plugin.hpp"
#include "parley/services/auth.h"

namespace {

struct Pending {
  parley::Deferred reply;
  bool inside_call = true;  // the service must never call back synchronously
};

class AuthProbe : public parley::Plugin {
 public:
  static constexpr const char* kName = "authprobe";
  static constexpr const char* kVersion = "0.0.1";
  static constexpr const char* kRequires[] = {"auth", nullptr};

  void init(const parley::Config&) override {
    method("authprobe.find", [this](parley::Request& req, parley::span<const uint8_t> p) {
      auto* m = parley::verify_payload<parley::auth::FindUser>(p, "PAUT");
      if (!m || !m->phone()) return req.error(PARLEY_STATUS_INVALID_ARGUMENT, "FindUser");
      std::string key = m->phone()->str();
      auto* pending = new Pending{req.defer()};
      int rc = key.size() == 36 ? svc_->find_user_by_id(key.c_str(), &on_user, pending)
                                : svc_->find_user_by_phone(key.c_str(), &on_user, pending);
      if (rc != 0) {
        pending->reply.error(PARLEY_STATUS_UNAVAILABLE, parley_strerror(rc));
        delete pending;
        return;
      }
      pending->inside_call = false;
    }, PARLEY_METHOD_PUBLIC);
  }

  void on_all_loaded() override {
    svc_ = service<parley_auth_v1>(PARLEY_AUTH_SERVICE, PARLEY_AUTH_VERSION);
    if (!svc_) throw std::runtime_error("auth service v1 missing");
    if (svc_->struct_size < sizeof(parley_auth_v1)) throw std::runtime_error("auth vtable too small");
  }

 private:
  static void on_user(void* ud, int status, const parley_user_info* user) {
    std::unique_ptr<Pending> p(static_cast<Pending*>(ud));
    if (p->inside_call) {
      p->reply.error(PARLEY_STATUS_INTERNAL, "callback ran inside the call");
      return;
    }
    if (status == PARLEY_ENOENT) {
      p->reply.error(PARLEY_STATUS_NOT_FOUND, "no such user");
      return;
    }
    if (status != 0 || !user) {
      p->reply.error(PARLEY_STATUS_UNAVAILABLE, parley_strerror(status));
      return;
    }
    flatbuffers::FlatBufferBuilder fbb;
    fbb.Finish(parley::auth::CreateUserDirect(fbb, user->user_id, user->phone,
                                              user->display_name, user->created_at),
               "PAUT");
    p->reply.reply(fbb);
  }

  const parley_auth_v1* svc_ = nullptr;
};

}  // namespace

PARLEY_PLUGIN(AuthProbe)
