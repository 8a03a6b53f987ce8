// Fuzz target: arbitrary bytes through the kernel's read path — the
// FrameDecoder splits them into frames (fed in chunks whose sizes come from
// the input itself, so split frames and the internal buffer are exercised),
// and every frame goes through verify_envelope and, when it verifies, every
// field the connection layer reads.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "envelope_codec.h"
#include "frame_decoder.h"

namespace {

// Regression (found by this target): verify_envelope once ran the Verifier
// with check_alignment=false, so a frame whose strings sat at odd offsets
// verified and reading them was a misaligned access.
// corpus/frame/regress-misaligned-method keeps that input.
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // First byte: the chunk size (1..256) the stream is fed in.
  const size_t chunk = static_cast<size_t>(data[0]) + 1;
  std::span<const uint8_t> rest(data + 1, size - 1);

  // A small limit so "too large" is reachable; the production default is 1 MiB.
  parley::kernel::FrameDecoder decoder(4096);
  uint64_t sink_bytes = 0;
  auto sink = [&](std::span<const uint8_t> envelope) {
    sink_bytes += envelope.size();
    // The decoder keeps each frame's length prefix just before it.
    const parley::Envelope* e =
        parley::kernel::verify_envelope(envelope, /*prefix_precedes=*/true);
    if (e == nullptr) return true;
    // What the connection layer and the dispatcher read of a verified frame.
    sink_bytes += parley::kernel::envelope_id(e);
    sink_bytes += static_cast<uint8_t>(e->kind());
    sink_bytes += static_cast<uint16_t>(e->status());
    if (e->method()) sink_bytes += e->method()->size();
    if (e->error()) sink_bytes += e->error()->size();
    if (e->payload()) {
      for (uint8_t b : *e->payload()) sink_bytes += b;
    }
    (void)parley::kernel::status_name(static_cast<uint16_t>(e->status()));
    return true;
  };
  while (!rest.empty()) {
    const size_t n = rest.size() < chunk ? rest.size() : chunk;
    auto status = decoder.feed(rest.first(n), sink);
    rest = rest.subspan(n);
    if (status != parley::kernel::FrameDecoder::Status::Ok) {
      // Sticky: a later feed must report the same error and decode nothing.
      uint64_t before = sink_bytes;
      if (decoder.feed(rest, sink) != status || sink_bytes != before) __builtin_trap();
      break;
    }
    if (decoder.buffered() > 4 + 4096) __builtin_trap();
  }

  // The whole input as one Envelope without prefix (the WebSocket path),
  // copied to 8-aligned storage as a transport would hand it over.
  std::vector<uint64_t> aligned((size + 7) / 8 + 1);
  if (size > 0) std::memcpy(aligned.data(), data, size);
  auto* whole = reinterpret_cast<const uint8_t*>(aligned.data());
  if (const parley::Envelope* e =
          parley::kernel::verify_envelope(std::span<const uint8_t>(whole, size))) {
    if (e->method()) (void)e->method()->string_view();
    (void)parley::kernel::envelope_id(e);
  }
  return 0;
}
