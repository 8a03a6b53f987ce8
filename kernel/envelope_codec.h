// Reading and writing Envelopes (PROTOCOL.md §2). The encode_* helpers that
// the plugin host uses are declared in core.h; this header adds what the
// connection layer needs on top.
#pragma once

#include <parley/envelope_generated.h>

#include <cstdint>
#include <span>
#include <string_view>

#include "core.h"

namespace parley::kernel {

// Runs the FlatBuffers Verifier (file identifier `PRLY`, alignment checks
// on) over one Envelope buffer given without its size prefix, at a 4-byte
// aligned address. Returns the root, or nullptr when the buffer is not a
// valid Envelope. Clients lay a frame out in one of two ways, which differ
// only in where an 8-byte field (the id) may sit: aligned to the Envelope's
// own start (Finish, then a prefix; every WebSocket message), or to the
// prefix's start (FinishSizePrefixed, PROTOCOL.md §1). With
// `prefix_precedes`, the 4 bytes before `envelope` are its length prefix and
// the second layout is accepted too. Alignment is never waived: a buffer
// whose offsets point at misaligned strings or tables is rejected, as
// reading through them is undefined behaviour.
const parley::Envelope* verify_envelope(std::span<const uint8_t> envelope,
                                        bool prefix_precedes = false);

// The Envelope's id, read without assuming 8-byte alignment (frames are
// handed out in place at 4-byte aligned addresses).
uint64_t envelope_id(const parley::Envelope* envelope);

// How a frame's Envelope is aligned. PROTOCOL.md §1 says a native frame is
// exactly what FinishSizePrefixed produces: fields are aligned relative to
// the start of the length prefix, so a client verifies the whole frame with
// VerifySizePrefixedEnvelopeBuffer. A WebSocket message carries the Envelope
// without the prefix, so there it must be aligned to its own start (Finish).
// The two differ only when the Envelope holds an 8-byte field, i.e. a
// Response's non-zero id; Events (id 0) come out the same either way.
enum class FrameLayout { SizePrefixed, Standalone };

// One frame of any kind; the base of the helpers in core.h.
FramePtr encode_frame(parley::Kind kind, uint64_t id, std::string_view method,
                      uint16_t status, std::string_view error,
                      std::span<const uint8_t> payload,
                      FrameLayout layout = FrameLayout::SizePrefixed);

// A Response laid out for the connection's transport.
FramePtr encode_response(uint64_t request_id, std::string_view method,
                         uint16_t status, std::string_view error,
                         std::span<const uint8_t> payload, FrameLayout layout);

// The payload of a sys.hello Welcome (a PSYS buffer).
std::vector<uint8_t> encode_welcome(
    uint16_t protocol, std::string_view server, uint32_t max_frame_bytes,
    const std::vector<Dispatcher::PluginDesc>& plugins,
    const std::vector<std::string>& methods);

// The status's name as in envelope.fbs ("Ok", "Malformed", ...).
const char* status_name(uint16_t status);

}  // namespace parley::kernel
