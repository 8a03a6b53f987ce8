// The input language of the `dispatch` fuzz target: how fuzz bytes become a
// short sequence of requests to the real plugins, and the encoder that
// writes seed inputs in the same language (seed_gen.cc).
//
// Layout (after fuzz_input.h's selector byte, see fuzz_dispatch.cc for its
// bits), per request, until the input runs out or kMaxRequests:
//   op     bit 7: first wait until every earlier request was answered
//          bit 6: the method name is the next piece (raw string, ends at
//          0xFF), else bits 0-5 index the registered method list (sorted,
//          plus sys.hello and sys.ping)
//   form   form % 8: 0 raw payload (next piece); 1-5 structured payload with
//          the method's file identifier; 6 structured, no identifier;
//          7 the next piece is fed as a whole Envelope (method unused)
//   fields for a structured payload, one control byte per field of the
//          method's request table (MethodShape::fields) plus the bytes or
//          piece that choice reads (build_payload); a method without a
//          known shape gets the raw piece instead.
// Structured payloads are FlatBuffer tables built field by field, so that
// verifier-passing payloads (and valid references: the setup room, users,
// tokens) are reached often.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.h"

namespace parley::fuzz::dispatch {

constexpr size_t kMaxRequests = 8;

// A request table's fields in schema (vtable) order, one letter each:
// s string, l ulong, h ushort, b bool/ubyte, v [string].
struct MethodShape {
  const char* method;
  const char* fields;
  const char* identifier;  // the plugin's file_identifier
};
// Every plugin method the harness knows the request table of.
const std::vector<MethodShape>& shapes();
const MethodShape* shape_of(std::string_view method);

// Values a structured field can refer to; filled by the harness (setup and
// replies seen so far).
struct Context {
  std::string room, last_room, user, peer, phone, peer_phone, password, token, refresh;
  uint64_t last_seq = 0;
  uint64_t counter = 0;  // makes "fresh" values unique within the process
};

// How one string field is chosen (control byte % 16).
enum class Choice : uint8_t {
  Absent = 0, Piece, Room, LastRoom, User, Peer, Phone, PeerPhone, Password,
  FreshPhone, Token, Refresh, Long, FreshUuid, Empty, Piece2,
};

// Builds the structured payload of `shape` reading choices from `in`.
std::string build_payload(const MethodShape& shape, bool with_identifier, Input& in,
                          Context& ctx);

// Seed encoder: appends requests in the input language. Field bytes are
// composed with the helpers below, one per field of the method's shape.
class SeedWriter {
 public:
  explicit SeedWriter(uint8_t selector) { bytes_.push_back(static_cast<char>(selector)); }
  // By raw method name, structured payload with the identifier.
  SeedWriter& call(std::string_view method, const std::string& fields, bool wait_first = true);
  // By raw method name, raw payload bytes (must not contain 0xFF).
  SeedWriter& raw(std::string_view method, std::string_view payload, bool wait_first = true);
  // A whole Envelope fed as is (must not contain 0xFF).
  SeedWriter& envelope(std::string_view bytes, bool wait_first = true);
  const std::string& bytes() const { return bytes_; }

  static std::string pick(Choice c) { return std::string(1, static_cast<char>(c)); }
  static std::string text(std::string_view s) {  // a string field from a piece
    return pick(Choice::Piece) + std::string(s) + '\xff';
  }
  static std::string num(uint64_t v);  // a ulong field
  static std::string small(uint16_t v);  // a ushort field
  static std::string flag(bool v) { return std::string(1, v ? '\x02' : '\x01'); }
  // A [string] field of the given choices (each a pick()/text()).
  static std::string list(const std::vector<std::string>& items);

 private:
  std::string bytes_;
};

}  // namespace parley::fuzz::dispatch
