// Building and splitting size-prefixed Envelope frames (PROTOCOL.md §1–2).
#include <cstring>

#include "parley_test.h"

namespace parley::test {

std::vector<uint8_t> envelope_bytes(parley::Kind kind, uint64_t id,
                                    std::string_view method,
                                    std::span<const uint8_t> payload,
                                    uint16_t status, std::string_view error) {
  flatbuffers::FlatBufferBuilder fbb(128 + payload.size());
  auto m = fbb.CreateString(method.data(), method.size());
  flatbuffers::Offset<flatbuffers::String> e;
  if (!error.empty()) e = fbb.CreateString(error.data(), error.size());
  flatbuffers::Offset<flatbuffers::Vector<uint8_t>> p;
  if (!payload.empty()) p = fbb.CreateVector(payload.data(), payload.size());
  auto env = parley::CreateEnvelope(fbb, kind, id, m,
                                    static_cast<parley::Status>(status), e, p);
  parley::FinishEnvelopeBuffer(fbb, env);
  return bytes_of(fbb);
}

std::vector<uint8_t> native_frame(parley::Kind kind, uint64_t id,
                                  std::string_view method,
                                  std::span<const uint8_t> payload) {
  flatbuffers::FlatBufferBuilder fbb(128 + payload.size());
  auto m = fbb.CreateString(method.data(), method.size());
  flatbuffers::Offset<flatbuffers::Vector<uint8_t>> p;
  if (!payload.empty()) p = fbb.CreateVector(payload.data(), payload.size());
  auto env = parley::CreateEnvelope(fbb, kind, id, m, parley::Status::Ok, 0, p);
  parley::FinishSizePrefixedEnvelopeBuffer(fbb, env);
  return bytes_of(fbb);
}

std::vector<uint8_t> length_prefix(uint32_t length) {
  return {static_cast<uint8_t>(length), static_cast<uint8_t>(length >> 8),
          static_cast<uint8_t>(length >> 16), static_cast<uint8_t>(length >> 24)};
}

std::vector<uint8_t> frame(std::span<const uint8_t> envelope) {
  std::vector<uint8_t> out = length_prefix(static_cast<uint32_t>(envelope.size()));
  out.insert(out.end(), envelope.begin(), envelope.end());
  return out;
}

std::vector<uint8_t> bytes_of(const flatbuffers::FlatBufferBuilder& fbb) {
  const uint8_t* p = fbb.GetBufferPointer();
  return std::vector<uint8_t>(p, p + fbb.GetSize());
}

std::vector<uint8_t> hello_payload(uint16_t protocol, std::string_view client) {
  flatbuffers::FlatBufferBuilder fbb;
  auto c = fbb.CreateString(client.data(), client.size());
  fbb.Finish(parley::sys::CreateHello(fbb, protocol, c), "PSYS");
  return bytes_of(fbb);
}

const parley::Envelope* Incoming::envelope() const {
  if (!received || bytes.size() <= prefix_bytes) return nullptr;
  return parley::GetEnvelope(bytes.data() + prefix_bytes);
}

std::span<const uint8_t> Incoming::payload() const {
  const parley::Envelope* env = envelope();
  if (!env || !env->payload()) return {};
  return {env->payload()->data(), env->payload()->size()};
}

namespace {

void fill_fields(Incoming& in) {
  const parley::Envelope* env = in.envelope();
  in.kind = env->kind();
  in.id = env->id();
  if (env->method()) in.method = env->method()->str();
  in.status = static_cast<uint16_t>(env->status());
  if (env->error()) in.error = env->error()->str();
}

}  // namespace

std::optional<Incoming> parse_envelope(std::span<const uint8_t> envelope) {
  flatbuffers::Verifier verifier(envelope.data(), envelope.size());
  if (envelope.size() < 8 || !parley::VerifyEnvelopeBuffer(verifier))
    return std::nullopt;
  Incoming in;
  in.bytes.assign(envelope.begin(), envelope.end());
  fill_fields(in);
  return in;
}

std::optional<Incoming> parse_frame(std::span<const uint8_t> frame) {
  flatbuffers::Verifier verifier(frame.data(), frame.size());
  if (frame.size() < 12 || !parley::VerifySizePrefixedEnvelopeBuffer(verifier))
    return std::nullopt;
  Incoming in;
  in.bytes.assign(frame.begin(), frame.end());
  in.prefix_bytes = 4;
  fill_fields(in);
  return in;
}

void FrameReader::feed(std::span<const uint8_t> bytes) {
  // Compact before growing so a long-lived reader does not keep every frame.
  if (off_ > 0 && off_ == buf_.size()) {
    buf_.clear();
    off_ = 0;
  } else if (off_ > (64u << 10) && off_ * 2 > buf_.size()) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(off_));
    off_ = 0;
  }
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

std::optional<std::vector<uint8_t>> FrameReader::next(bool with_prefix) {
  if (broken_ || buffered() < 4) return std::nullopt;
  const uint8_t* p = buf_.data() + off_;
  uint32_t len = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
                 static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
  if (len > max_) {
    broken_ = true;
    return std::nullopt;
  }
  if (buffered() < 4 + static_cast<size_t>(len)) return std::nullopt;
  std::vector<uint8_t> out(p + (with_prefix ? 0 : 4), p + 4 + len);
  off_ += 4 + static_cast<size_t>(len);
  return out;
}

}  // namespace parley::test
