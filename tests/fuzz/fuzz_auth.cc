// Fuzz target: the auth plugin's input checks and stored-record decoders,
// reached without a server: phone normalisation (PROTOCOL.md §5), password
// and display-name rules, token shape checks, record decoding (a corrupt
// value read back from storage must be refused, not crash), and the Verifier
// over every request table the plugin accepts.
#include <flatbuffers/flatbuffers.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "credentials.h"
#include "fuzz_input.h"
#include "parley/auth_generated.h"
#include "phone.h"
#include "records.h"
#include "tokens.h"

namespace {

template <class T>
void verify_payload(std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  if (bytes.size() < 8 || !flatbuffers::BufferHasIdentifier(p, "PAUT")) return;
  flatbuffers::Verifier verifier(p, bytes.size());
  if (verifier.VerifyBuffer<T>("PAUT")) (void)flatbuffers::GetRoot<T>(p);
}

bool is_e164(const std::string& s) {
  if (s.size() < 9 || s.size() > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9') return false;
  for (size_t i = 1; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parley::fuzz::Input in(data, size);
  const uint8_t which = in.selector();
  std::string_view rest = in.rest();
  namespace a = parley::auth;
  switch (which % 6) {
    case 0: {
      auto phone = a::normalize_phone(rest);
      if (phone) {
        // Normalised output is E.164 and normalising is idempotent.
        if (!is_e164(*phone)) __builtin_trap();
        auto again = a::normalize_phone(*phone);
        if (!again || *again != *phone) __builtin_trap();
      }
      break;
    }
    case 1:
      (void)a::password_ok(rest);
      (void)a::display_name_ok(rest);
      (void)a::token_well_formed(rest);
      break;
    case 2:
      if (auto u = a::decode_user(rest)) {
        auto back = a::decode_user(a::encode(*u));
        if (!back || back->user_id != u->user_id || back->phone != u->phone ||
            back->display_name != u->display_name ||
            back->password_hash != u->password_hash || back->created_at != u->created_at)
          __builtin_trap();
      }
      break;
    case 3:
      if (auto t = a::decode_token(rest)) {
        auto back = a::decode_token(a::encode(*t));
        if (!back || back->user_id != t->user_id || back->family_id != t->family_id ||
            back->expires_at != t->expires_at || back->state != t->state)
          __builtin_trap();
      }
      if (auto f = a::decode_family(rest)) {
        auto back = a::decode_family(a::encode(*f));
        if (!back || back->user_id != f->user_id || back->revoked != f->revoked) __builtin_trap();
      }
      break;
    case 4: {
      std::string_view x = in.piece(), y = in.rest();
      if (a::equal_constant_time(x, y) != (x == y)) __builtin_trap();
      break;
    }
    default:
      verify_payload<parley::auth::Register>(rest);
      verify_payload<parley::auth::Login>(rest);
      verify_payload<parley::auth::Resume>(rest);
      verify_payload<parley::auth::Refresh>(rest);
      verify_payload<parley::auth::FindUser>(rest);
      verify_payload<parley::auth::Profile>(rest);
      break;
  }
  return 0;
}
