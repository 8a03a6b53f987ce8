// The load generator's side of the wire: Request frames exactly as
// FinishSizePrefixed lays them out (PROTOCOL §1), the payloads of the methods
// it uses (sys, auth, rooms), and reading what the server sends.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parley/auth_generated.h"
#include "parley/envelope_generated.h"
#include "parley/rooms_generated.h"
#include "parley/sys_generated.h"

namespace parley::loadgen {

// Appends one size-prefixed Request frame to `out`.
void append_request(std::string& out, uint64_t id, std::string_view method,
                    std::span<const uint8_t> payload);

std::vector<uint8_t> hello_payload();
std::vector<uint8_t> register_payload(const std::string& phone, const std::string& password,
                                      const std::string& name);
std::vector<uint8_t> resume_payload(const std::string& token);
std::vector<uint8_t> create_room_payload(const std::string& name,
                                         const std::vector<std::string>& members);
std::vector<uint8_t> open_direct_payload(const std::string& peer);
std::vector<uint8_t> send_payload(const std::string& room, uint64_t client_msg_id,
                                  const std::string& text);

// A received Envelope (no prefix) verified with the FlatBuffers Verifier and
// the PRLY identifier; nullptr when it does not verify. Alignment is not
// checked (frames are read in place from the stream buffer on x86).
const parley::Envelope* verify_envelope(std::span<const uint8_t> envelope);

// Verified payload roots; nullptr when absent or not that table.
const parley::auth::Session* as_session(const parley::Envelope& e);
const parley::rooms::Room* as_room(const parley::Envelope& e);
const parley::rooms::Message* as_message(const parley::Envelope& e);

// A text of exactly `size` bytes (at least 21) that starts with `stamp_ns`.
std::string stamped_text(uint64_t stamp_ns, size_t size);
// The stamp at the start of a stamped text (0 when there is none).
uint64_t stamp_of(const flatbuffers::String* text);

}  // namespace parley::loadgen
