// tauth: a plugin with the auth capability. tauth.login binds the caller's
// connection to the user named by the payload; it records every kernel event
// it receives; tauth.push delivers an event to all of the caller's
// connections.
#include <vector>

#include "test_text.hpp"

using ptest::bytes;
using ptest::text;

class TAuth : public parley::Plugin {
 public:
  static constexpr const char* kName = "tauth";
  static constexpr const char* kVersion = "0.0.1";
  static constexpr uint32_t kCapabilities = PARLEY_CAP_AUTH;

  void init(const parley::Config&) override {
    sub_ = subscribe(PARLEY_EV_ALL_V1, [this](const parley_event& ev) {
      const char* kind = ev.type == PARLEY_EV_CONN_OPENED      ? "opened"
                         : ev.type == PARLEY_EV_CONN_CLOSED    ? "closed"
                         : ev.type == PARLEY_EV_AUTHENTICATED  ? "auth"
                                                               : "deauth";
      log_.push_back(std::string(kind) + ":" + std::to_string(ev.conn_id) + ":" +
                     (ev.user_id ? ev.user_id : "-") + ":" + (ev.transport ? ev.transport : "?"));
    });
    method("tauth.login", [this](parley::Request& req, parley::span<const uint8_t> p) {
      int rc = session_authenticate(req.conn(), text(p));
      if (rc != 0) return req.error(PARLEY_STATUS_INTERNAL, parley_strerror(rc));
      req.reply(bytes(std::to_string(req.conn())));
    }, PARLEY_METHOD_PUBLIC);
    method("tauth.logout", [this](parley::Request& req, parley::span<const uint8_t>) {
      int rc = session_clear(req.conn());
      req.reply(bytes("rc=" + std::to_string(rc)));
    });
    method("tauth.whoami", [](parley::Request& req, parley::span<const uint8_t>) {
      req.reply(bytes(std::string(req.user())));
    });
    method("tauth.events", [this](parley::Request& req, parley::span<const uint8_t>) {
      std::string all;
      for (auto& e : log_) all += e + ";";
      req.reply(bytes(all));
    }, PARLEY_METHOD_PUBLIC);
    method("tauth.push", [this](parley::Request& req, parley::span<const uint8_t> p) {
      flatbuffers::FlatBufferBuilder fbb;
      fbb.Finish(fbb.CreateString(text(p)));
      int64_t n = send_event_to_user(req.user(), "tauth.note", fbb);
      std::vector<std::string> users = {std::string(req.user()), "nobody"};
      int64_t m = send_event_to_users(users, "tauth.note2", fbb, req.conn());
      req.reply(bytes("n=" + std::to_string(n) + " m=" + std::to_string(m)));
    });
  }

 private:
  parley::Subscription sub_;
  std::vector<std::string> log_;
};

PARLEY_PLUGIN(TAuth)
