// Fuzz target: the rooms plugin's pure logic, reached without a server:
// request validation (ids, names, text, client_msg_id — the UTF-8 rules of
// PROTOCOL.md §3/§6), stored-record decoding (a corrupt value read back from
// storage must be refused, not crash), Message verification and copying,
// history cursors, and the Verifier over every request table.
#include <flatbuffers/flatbuffers.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_input.h"
#include "parley/rooms_generated.h"
#include "parley/util/utf8.hpp"
#include "rooms_logic.h"

namespace {

namespace r = parley::rooms_plugin;

template <class T>
void verify_payload(std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  if (bytes.size() < 8 || !flatbuffers::BufferHasIdentifier(p, "PROM")) return;
  flatbuffers::Verifier verifier(p, bytes.size());
  if (verifier.VerifyBuffer<T>("PROM")) (void)flatbuffers::GetRoot<T>(p);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parley::fuzz::Input in(data, size);
  const uint8_t which = in.selector();
  switch (which % 6) {
    case 0: {
      std::string_view s = in.rest();
      (void)r::validate_uuid(s, "room_id");
      bool name_ok = !r::validate_room_name(s).has_value();
      bool text_ok = !r::validate_text(s, 16384).has_value();
      (void)r::validate_client_msg_id(s);
      // Whatever validation accepts is valid UTF-8 (the contract's promise).
      if ((name_ok || text_ok) && !parley::util::utf8_valid(s)) __builtin_trap();
      break;
    }
    case 1: {
      std::string_view s = in.rest();
      if (auto room = r::decode_room_record(s)) {
        auto back = r::decode_room_record(r::encode_room_record(*room));
        if (!back || back->room_id != room->room_id || back->name != room->name ||
            back->members.size() != room->members.size())
          __builtin_trap();
        for (const auto& m : room->members) (void)r::find_member(*room, m.user_id);
        r::RoomRecord copy = *room;
        if (!copy.members.empty()) r::remove_member_and_hand_off(copy, copy.members[0].user_id);
      }
      if (auto seq = r::decode_seq_state(s)) {
        auto back = r::decode_seq_state(r::encode_seq_state(*seq));
        if (!back || back->last_seq != seq->last_seq) __builtin_trap();
      }
      break;
    }
    case 2: {
      std::string_view s = in.rest();
      // verify_message reads the buffer in place: give it aligned storage.
      std::string owned(s);
      if (const auto* m = r::verify_message(owned)) {
        flatbuffers::FlatBufferBuilder fbb;
        fbb.Finish(r::copy_message(fbb, *m), "PROM");
        std::string copy(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
        if (r::verify_message(copy) == nullptr) __builtin_trap();
      }
      break;
    }
    case 3: {
      r::HistoryQuery q;
      q.before_seq = in.u64();
      q.after_seq = in.u64();
      q.limit = static_cast<uint32_t>(in.u64());
      std::string room(in.rest().substr(0, 64));
      auto range = r::history_range(room, q);
      if (range.limit > r::kMaxHistoryLimit || range.fetch > range.limit + 1) __builtin_trap();
      break;
    }
    case 4: {
      std::string_view key = in.rest();
      (void)r::room_of_user_room_key(key);
      std::string_view a = in.piece(), b = in.rest();
      if (r::direct_pair(a, b) != r::direct_pair(b, a)) __builtin_trap();
      break;
    }
    default: {
      std::string owned(in.rest());
      verify_payload<parley::rooms::OpenDirect>(owned);
      verify_payload<parley::rooms::Create>(owned);
      verify_payload<parley::rooms::RoomRef>(owned);
      verify_payload<parley::rooms::AddMembers>(owned);
      verify_payload<parley::rooms::RemoveMember>(owned);
      verify_payload<parley::rooms::Send>(owned);
      verify_payload<parley::rooms::History>(owned);
      verify_payload<parley::rooms::Typing>(owned);
      break;
    }
  }
  return 0;
}
