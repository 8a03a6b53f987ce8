#include "envelope_codec.h"

#include <parley/sys_generated.h>

#include <cstring>

namespace parley::kernel {

namespace {
constexpr size_t kMaxDepth = 64;
constexpr size_t kMaxTables = 4096;
}  // namespace

const parley::Envelope* verify_envelope(std::span<const uint8_t> envelope,
                                        bool prefix_precedes) {
  if (reinterpret_cast<uintptr_t>(envelope.data()) % 4 != 0) return nullptr;
  flatbuffers::Verifier own_start(envelope.data(), envelope.size(), kMaxDepth,
                                  kMaxTables, /*check_alignment=*/true);
  if (parley::VerifyEnvelopeBuffer(own_start))
    return parley::GetEnvelope(envelope.data());
  if (!prefix_precedes) return nullptr;
  const uint8_t* frame = envelope.data() - 4;
  flatbuffers::Verifier prefix_start(frame, envelope.size() + 4, kMaxDepth,
                                     kMaxTables, /*check_alignment=*/true);
  if (parley::VerifySizePrefixedEnvelopeBuffer(prefix_start))
    return parley::GetEnvelope(envelope.data());
  return nullptr;
}

uint64_t envelope_id(const parley::Envelope* envelope) {
  // The Envelope may sit 4 bytes off its builder's alignment inside a read
  // buffer: read the 8-byte field without assuming alignment.
  // (Envelope derives privately from flatbuffers::Table: walk the vtable
  // by hand; the buffer has been verified.)
  auto* table = reinterpret_cast<const uint8_t*>(envelope);
  auto* vtable = table - flatbuffers::ReadScalar<flatbuffers::soffset_t>(table);
  auto vtable_size = flatbuffers::ReadScalar<flatbuffers::voffset_t>(vtable);
  if (parley::Envelope::VT_ID >= vtable_size) return 0;
  auto offset = flatbuffers::ReadScalar<flatbuffers::voffset_t>(vtable + parley::Envelope::VT_ID);
  if (offset == 0) return 0;
  uint64_t id;
  std::memcpy(&id, table + offset, sizeof id);
  return flatbuffers::EndianScalar(id);
}

FramePtr encode_frame(parley::Kind kind, uint64_t id, std::string_view method,
                      uint16_t status, std::string_view error,
                      std::span<const uint8_t> payload, FrameLayout layout) {
  flatbuffers::FlatBufferBuilder fbb(64 + method.size() + error.size() +
                                     payload.size());
  auto method_off = method.empty()
                        ? flatbuffers::Offset<flatbuffers::String>()
                        : fbb.CreateString(method.data(), method.size());
  auto error_off = error.empty()
                       ? flatbuffers::Offset<flatbuffers::String>()
                       : fbb.CreateString(error.data(), error.size());
  auto payload_off =
      payload.empty() ? flatbuffers::Offset<flatbuffers::Vector<uint8_t>>()
                      : fbb.CreateVector(payload.data(), payload.size());
  parley::EnvelopeBuilder eb(fbb);
  eb.add_id(id);
  eb.add_payload(payload_off);
  eb.add_error(error_off);
  eb.add_method(method_off);
  eb.add_status(static_cast<parley::Status>(status));
  eb.add_kind(kind);
  auto frame = std::make_shared<Frame>();
  if (layout == FrameLayout::SizePrefixed) {
    parley::FinishSizePrefixedEnvelopeBuffer(fbb, eb.Finish());
    frame->bytes.assign(fbb.GetBufferPointer(),
                        fbb.GetBufferPointer() + fbb.GetSize());
    return frame;
  }
  // Finished as a plain buffer, then prefixed: the Envelope is aligned to
  // its own start, as a receiver that gets it without the prefix (the
  // WebSocket bridge's browsers) verifies it.
  parley::FinishEnvelopeBuffer(fbb, eb.Finish());
  const uint32_t size = fbb.GetSize();
  frame->bytes.resize(4 + size);
  uint8_t* out = frame->bytes.data();
  out[0] = uint8_t(size);
  out[1] = uint8_t(size >> 8);
  out[2] = uint8_t(size >> 16);
  out[3] = uint8_t(size >> 24);
  std::memcpy(out + 4, fbb.GetBufferPointer(), size);
  return frame;
}

FramePtr encode_response(uint64_t request_id, std::string_view method,
                         uint16_t status, std::string_view error,
                         std::span<const uint8_t> payload, FrameLayout layout) {
  return encode_frame(parley::Kind::Response, request_id, method, status,
                      error, payload, layout);
}

FramePtr encode_response(uint64_t request_id, std::string_view method,
                         uint16_t status, std::string_view error,
                         std::span<const uint8_t> payload) {
  return encode_response(request_id, method, status, error, payload,
                         FrameLayout::SizePrefixed);
}

FramePtr encode_event(std::string_view method,
                      std::span<const uint8_t> payload) {
  return encode_frame(parley::Kind::Event, 0, method, 0, {}, payload);
}

FramePtr encode_closing(uint16_t status, std::string_view error) {
  return encode_frame(parley::Kind::Event, 0, "sys.closing", status, error,
                      {});
}

std::vector<uint8_t> encode_welcome(
    uint16_t protocol, std::string_view server, uint32_t max_frame_bytes,
    const std::vector<Dispatcher::PluginDesc>& plugins,
    const std::vector<std::string>& methods) {
  flatbuffers::FlatBufferBuilder fbb(256);
  std::vector<flatbuffers::Offset<parley::sys::Plugin>> plugin_offs;
  for (const auto& p : plugins) {
    plugin_offs.push_back(parley::sys::CreatePlugin(
        fbb, fbb.CreateString(p.name), fbb.CreateString(p.version)));
  }
  auto welcome = parley::sys::CreateWelcome(
      fbb, protocol, fbb.CreateString(server.data(), server.size()),
      max_frame_bytes, fbb.CreateVector(plugin_offs),
      fbb.CreateVectorOfStrings(methods));
  fbb.Finish(welcome, parley::sys::HelloIdentifier());
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

const char* status_name(uint16_t status) {
  if (status > static_cast<uint16_t>(parley::Status::MAX)) return "Unknown";
  return parley::EnumNameStatus(static_cast<parley::Status>(status));
}

}  // namespace parley::kernel
