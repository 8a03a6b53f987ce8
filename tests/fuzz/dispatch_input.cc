#include "dispatch_input.h"

#include <flatbuffers/flatbuffers.h>

#include <cstdio>
#include <limits>

namespace parley::fuzz::dispatch {

const std::vector<MethodShape>& shapes() {
  // From plugins/*/*.fbs and sdk/examples/echo/echo.fbs (the request tables
  // of *.methods.json); methods without a request table get an empty one.
  static const std::vector<MethodShape> kShapes = {
      {"auth.register", "sss", "PAUT"},       // phone, password, display_name
      {"auth.login", "ss", "PAUT"},           // phone, password
      {"auth.resume", "s", "PAUT"},           // token
      {"auth.refresh", "s", "PAUT"},          // refresh_token
      {"auth.logout", "", "PAUT"},
      {"auth.whoami", "", "PAUT"},
      {"auth.find_user", "s", "PAUT"},        // phone
      {"auth.update_profile", "s", "PAUT"},   // display_name
      {"rooms.open_direct", "s", "PROM"},     // peer_user_id
      {"rooms.create", "sv", "PROM"},         // name, member_user_ids
      {"rooms.get", "s", "PROM"},             // room_id
      {"rooms.list", "", "PROM"},
      {"rooms.add_members", "sv", "PROM"},    // room_id, user_ids
      {"rooms.remove_member", "ss", "PROM"},  // room_id, user_id
      {"rooms.leave", "s", "PROM"},           // room_id
      {"rooms.send", "sss", "PROM"},          // room_id, client_msg_id, text
      {"rooms.history", "sllh", "PROM"},      // room_id, before_seq, after_seq, limit
      {"rooms.typing", "sb", "PROM"},         // room_id, typing
      {"receipts.mark_delivered", "sl", "PRCP"},  // room_id, seq
      {"receipts.mark_read", "sl", "PRCP"},
      {"receipts.get", "s", "PRCP"},          // room_id
      {"receipts.unread", "", "PRCP"},
      {"echo.say", "s", "PECH"},              // text
  };
  return kShapes;
}

const MethodShape* shape_of(std::string_view method) {
  for (const MethodShape& s : shapes())
    if (method == s.method) return &s;
  return nullptr;
}

namespace {

std::string fresh_uuid(Context& ctx) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "0190c6a0-0000-7000-8000-%012llx",
                static_cast<unsigned long long>(++ctx.counter & 0xffffffffffffull));
  return buf;
}

std::string fresh_phone(Context& ctx) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "+1666%07llu",
                static_cast<unsigned long long>(++ctx.counter % 10000000));
  return buf;
}

// nullopt-like: `present` false when the field is left out.
struct StrValue {
  bool present = false;
  std::string value;
};

StrValue choose_string(uint8_t control, Input& in, Context& ctx) {
  StrValue v{true, {}};
  switch (static_cast<Choice>(control % 16)) {
    case Choice::Absent: v.present = false; break;
    case Choice::Piece:
    case Choice::Piece2: v.value = std::string(in.piece()); break;
    case Choice::Room: v.value = ctx.room; break;
    case Choice::LastRoom: v.value = ctx.last_room.empty() ? ctx.room : ctx.last_room; break;
    case Choice::User: v.value = ctx.user; break;
    case Choice::Peer: v.value = ctx.peer; break;
    case Choice::Phone: v.value = ctx.phone; break;
    case Choice::PeerPhone: v.value = ctx.peer_phone; break;
    case Choice::Password: v.value = ctx.password; break;
    case Choice::FreshPhone: v.value = fresh_phone(ctx); break;
    case Choice::Token: v.value = ctx.token; break;
    case Choice::Refresh: v.value = ctx.refresh; break;
    case Choice::Long: v.value.assign((size_t{in.byte()} + 1) * 64, 'a'); break;
    case Choice::FreshUuid: v.value = fresh_uuid(ctx); break;
    case Choice::Empty: break;
  }
  return v;
}

struct Built {
  char kind = 0;
  bool present = false;
  flatbuffers::Offset<void> offset;  // s, v
  uint64_t number = 0;               // l, h, b
};

}  // namespace

std::string build_payload(const MethodShape& shape, bool with_identifier, Input& in,
                          Context& ctx) {
  flatbuffers::FlatBufferBuilder fbb(256);
  fbb.ForceDefaults(true);  // a present 0 differs from an absent field
  std::vector<Built> fields;
  // Offsets (strings, vectors) first: FlatBuffers builds children before the
  // table that points at them.
  for (const char* f = shape.fields; *f; ++f) {
    Built b;
    b.kind = *f;
    uint8_t c = in.byte();
    switch (*f) {
      case 's': {
        StrValue v = choose_string(c, in, ctx);
        if (v.present) {
          b.present = true;
          b.offset = fbb.CreateString(v.value).Union();
        }
        break;
      }
      case 'v': {
        if (c % 6 == 0) break;
        std::vector<flatbuffers::Offset<flatbuffers::String>> items;
        for (int i = 0; i < c % 6 - 1; ++i) {
          StrValue v = choose_string(in.byte(), in, ctx);
          items.push_back(fbb.CreateString(v.value));
        }
        b.present = true;
        b.offset = fbb.CreateVector(items).Union();
        break;
      }
      case 'l':
        b.present = c % 8 != 0;
        switch (c % 8) {
          case 1: case 7: b.number = in.byte(); break;
          case 2: b.number = in.u64(); break;
          case 3: b.number = ctx.last_seq; break;
          case 4: b.number = std::numeric_limits<uint64_t>::max(); break;
          case 5: b.number = ctx.last_seq + 1; break;
          default: b.number = 0; break;
        }
        break;
      case 'h':
        b.present = c % 4 != 0;
        if (b.present) b.number = in.byte() | (uint16_t{in.byte()} << 8);
        break;
      case 'b':
        b.present = c % 3 != 0;
        b.number = c % 3 == 2;
        break;
    }
    fields.push_back(b);
  }
  auto start = fbb.StartTable();
  for (size_t i = 0; i < fields.size(); ++i) {
    const Built& b = fields[i];
    if (!b.present) continue;
    auto slot = static_cast<flatbuffers::voffset_t>(4 + 2 * i);
    switch (b.kind) {
      case 's': case 'v': fbb.AddOffset(slot, b.offset); break;
      case 'l': fbb.AddElement<uint64_t>(slot, b.number, 0); break;
      case 'h': fbb.AddElement<uint16_t>(slot, static_cast<uint16_t>(b.number), 0); break;
      case 'b': fbb.AddElement<uint8_t>(slot, static_cast<uint8_t>(b.number), 0); break;
    }
  }
  flatbuffers::Offset<void> root(fbb.EndTable(start));
  if (with_identifier)
    fbb.Finish(root, shape.identifier);
  else
    fbb.Finish(root);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

// ------------------------------------------------------------- seeds ---

SeedWriter& SeedWriter::call(std::string_view method, const std::string& fields,
                             bool wait_first) {
  bytes_.push_back(static_cast<char>(0x40 | (wait_first ? 0x80 : 0)));
  bytes_.append(method).push_back('\xff');
  bytes_.push_back('\x01');  // structured, with identifier
  bytes_ += fields;
  return *this;
}

SeedWriter& SeedWriter::raw(std::string_view method, std::string_view payload,
                            bool wait_first) {
  bytes_.push_back(static_cast<char>(0x40 | (wait_first ? 0x80 : 0)));
  bytes_.append(method).push_back('\xff');
  bytes_.push_back('\x00');  // raw payload
  bytes_.append(payload).push_back('\xff');
  return *this;
}

SeedWriter& SeedWriter::envelope(std::string_view bytes, bool wait_first) {
  bytes_.push_back(static_cast<char>(wait_first ? 0x80 : 0));
  bytes_.push_back('\x07');
  bytes_.append(bytes).push_back('\xff');
  return *this;
}

std::string SeedWriter::num(uint64_t v) {
  std::string out(1, '\x02');
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
  return out;
}

std::string SeedWriter::small(uint16_t v) {
  std::string out(1, '\x01');
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
  return out;
}

std::string SeedWriter::list(const std::vector<std::string>& items) {
  std::string out(1, static_cast<char>(items.size() + 1));
  for (const std::string& i : items) out += i;
  return out;
}

}  // namespace parley::fuzz::dispatch
