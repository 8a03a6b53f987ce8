// Helpers for the auth integration tests: a parleyd with the persistence
// and auth plugins, payload builders, and Session/User readers.
#pragma once

#include <parley/auth_generated.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "parley_test.h"

namespace parley::auth::testing {

// Lighter argon2id than production (m = 1 MiB, t = 1) for tests that are not
// about its cost.
inline constexpr const char* kLightArgon = "argon2_memory_kib: 1024, argon2_iterations: 1";

// `auth_config` goes inside `auth: {config: {...}}`; `extra_plugins` are
// more entries of the `plugins:` map.
inline std::unique_ptr<parley::test::ServerProcess> start_server(
    const std::string& auth_config = kLightArgon, std::string* error = nullptr,
    const std::string& extra_plugins = "") {
  parley::test::ServerOptions o;
  o.plugins_yaml = "persistence: {config: {durability: async}}\nauth: {config: {" +
                   auth_config + "}}";
  if (!extra_plugins.empty()) o.plugins_yaml += "\n" + extra_plugins;
  return parley::test::ServerProcess::start(o, error);
}

inline std::unique_ptr<parley::test::Client> connect(const parley::test::ServerProcess& s) {
  std::string error;
  auto c = parley::test::Client::connect("127.0.0.1", s.port(), {}, &error);
  if (!c) ADD_FAILURE() << "connect: " << error;
  if (c) c->hello();
  return c;
}

inline flatbuffers::FlatBufferBuilder register_payload(const std::string& phone,
                                                       const std::string& password,
                                                       const std::string& name) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(CreateRegisterDirect(fbb, phone.c_str(), password.c_str(), name.c_str()),
             SessionIdentifier());
  return fbb;
}
inline flatbuffers::FlatBufferBuilder login_payload(const std::string& phone,
                                                    const std::string& password) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(CreateLoginDirect(fbb, phone.c_str(), password.c_str()), SessionIdentifier());
  return fbb;
}
inline flatbuffers::FlatBufferBuilder resume_payload(const std::string& token) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(CreateResumeDirect(fbb, token.c_str()), SessionIdentifier());
  return fbb;
}
inline flatbuffers::FlatBufferBuilder refresh_payload(const std::string& token) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(CreateRefreshDirect(fbb, token.c_str()), SessionIdentifier());
  return fbb;
}
inline flatbuffers::FlatBufferBuilder find_payload(const std::string& phone) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(CreateFindUserDirect(fbb, phone.c_str()), SessionIdentifier());
  return fbb;
}
inline flatbuffers::FlatBufferBuilder profile_payload(const std::string& name) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(CreateProfileDirect(fbb, name.c_str()), SessionIdentifier());
  return fbb;
}

// A Session answer, copied out of the payload.
struct SessionView {
  bool ok = false;
  std::string user_id, phone, display_name, token, refresh_token;
  uint64_t created_at = 0, token_expires_at = 0;
};

inline std::string str_of(const flatbuffers::String* v) { return v ? v->str() : std::string(); }

inline SessionView session_of(const parley::test::Incoming& in) {
  SessionView v;
  auto* ses = parley::test::payload_as<Session>(in, "PAUT");
  if (!in.ok() || !ses || !ses->user()) return v;
  v.ok = true;
  v.user_id = str_of(ses->user()->user_id());
  v.phone = str_of(ses->user()->phone());
  v.display_name = str_of(ses->user()->display_name());
  v.created_at = ses->user()->created_at();
  v.token = str_of(ses->token());
  v.refresh_token = str_of(ses->refresh_token());
  v.token_expires_at = ses->token_expires_at();
  return v;
}

inline const User* user_of(const parley::test::Incoming& in) {
  return parley::test::payload_as<User>(in, "PAUT");
}

}  // namespace parley::auth::testing
