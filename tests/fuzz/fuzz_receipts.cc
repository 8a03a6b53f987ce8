// Fuzz target: the receipts plugin's pure logic: stored key and value
// decoding and the watermark rules (forward-only, read implies delivered).
#include <cstddef>
#include <cstdint>

#include "fuzz_input.h"
#include "receipts_logic.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace rc = parley::receipts;
  parley::fuzz::Input in(data, size);
  const uint8_t which = in.selector();
  if (which % 2 == 0) {
    std::string_view s = in.rest();
    if (auto k = rc::parse_room_key(s)) {
      if (rc::room_key(k->first, k->second) != s) __builtin_trap();
    }
    if (auto k = rc::parse_user_key(s)) {
      if (rc::user_key(k->first, k->second) != s) __builtin_trap();
    }
    if (auto w = rc::decode_watermark(s)) {
      auto back = rc::decode_watermark(rc::encode_watermark(*w));
      if (!back || !(*back == *w)) __builtin_trap();
    }
    return 0;
  }
  rc::Watermark w;
  w.delivered_seq = in.u64();
  w.read_seq = std::min(w.delivered_seq, in.u64());
  const uint64_t last = in.u64();
  const uint64_t seq = rc::clamp_seq(in.u64(), last);
  const auto kind = (in.byte() & 1) ? rc::MarkKind::Read : rc::MarkKind::Delivered;
  rc::Watermark after = rc::apply_mark(w, kind, seq, 1);
  // Forward-only, and read never passes delivered.
  if (after.read_seq < w.read_seq || after.delivered_seq < w.delivered_seq) __builtin_trap();
  if (after.read_seq > after.delivered_seq) __builtin_trap();
  if (rc::covers(w, kind, seq) && rc::moved(w, after)) __builtin_trap();
  rc::Watermark m = rc::merge(w, after);
  if (!(m == rc::merge(after, w)) && m.updated_at == rc::merge(after, w).updated_at) __builtin_trap();
  (void)rc::unread_count(last, after.read_seq);
  return 0;
}
