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

// Runs the FlatBuffers Verifier (file identifier `PRLY`) over one Envelope
// buffer without its size prefix. Returns the root, or nullptr when the
// buffer is not a valid Envelope. 8-byte alignment is not checked: a client
// may build its frame with FinishSizePrefixed (the Envelope then sits 4 bytes
// off its builder's alignment) or with Finish plus a prefix; both are valid.
const parley::Envelope* verify_envelope(std::span<const uint8_t> envelope);

// The Envelope's id, read without assuming 8-byte alignment (frames are
// handed out in place at 4-byte aligned addresses).
uint64_t envelope_id(const parley::Envelope* envelope);

// One frame of any kind; the base of the helpers in core.h.
FramePtr encode_frame(parley::Kind kind, uint64_t id, std::string_view method,
                      uint16_t status, std::string_view error,
                      std::span<const uint8_t> payload);

// The payload of a sys.hello Welcome (a PSYS buffer).
std::vector<uint8_t> encode_welcome(
    uint16_t protocol, std::string_view server, uint32_t max_frame_bytes,
    const std::vector<Dispatcher::PluginDesc>& plugins,
    const std::vector<std::string>& methods);

// The status's name as in envelope.fbs ("Ok", "Malformed", ...).
const char* status_name(uint16_t status);

}  // namespace parley::kernel
